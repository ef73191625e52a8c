"""The in-app inbox."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from exchange.extensions import db
from exchange.notifications import inbox
from exchange.pagination import PageRequest
from exchange.web import request_actor

bp = Blueprint("notifications", __name__)


@bp.get("/inbox")
@login_required
def index() -> Any:
    page = inbox.list_notifications(db.session, request_actor(), PageRequest.from_args(request.args))
    return render_template("notifications/inbox.html", page=page)


@bp.post("/inbox/read")
@login_required
def mark_all_read() -> Any:
    inbox.mark_all_read(db.session, request_actor())
    return redirect(url_for("notifications.index"))
