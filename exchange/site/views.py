"""The home page and the language switch."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session

from exchange.accounts import services as account_services
from exchange.extensions import db
from exchange.site.services import portal_overview
from exchange.web import request_actor, safe_next_path

bp = Blueprint("site", __name__)


@bp.get("/")
def home() -> Any:
    return render_template("site/home.html", overview=portal_overview(db.session, request_actor()))


@bp.post("/language")
def set_language() -> Any:
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        actor = request_actor()
        if actor.is_authenticated:
            account_services.set_locale(db.session, actor, locale)
    return redirect(safe_next_path(request.form.get("next")))
