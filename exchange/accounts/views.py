"""Pages of accounts: log in and out, re-authenticate, password change and reset, API tokens."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, fresh_login_required, login_required, login_user, logout_user

from exchange.accounts import services
from exchange.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ReauthenticateForm,
    TokenForm,
)
from exchange.accounts.limits import login_limits
from exchange.errors import ValidationFailed
from exchange.extensions import db, limiter
from exchange.web import mark_logged_in, request_actor, safe_next_path

bp = Blueprint("accounts", __name__)


def _start_session(user: Any, remember: bool) -> None:
    session.clear()  # a fresh session at login: nothing from before survives
    login_user(user, remember=remember)
    mark_logged_in()


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login() -> Any:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, request_actor(), form.email.data, form.password.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            _start_session(user, form.remember.data)
            return redirect(safe_next_path(form.next.data, url_for("site.home")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
def reauthenticate() -> Any:
    form = ReauthenticateForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            services.authenticate(db.session, request_actor(), current_user.email, form.password.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            confirm_login()
            return redirect(safe_next_path(form.next.data, url_for("accounts.account")))
    return render_template("accounts/reauthenticate.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
@login_required
def logout() -> Any:
    services.log_out(db.session, request_actor())
    logout_user()
    session.clear()
    flash(_("You have logged out everywhere."), "success")
    return redirect(url_for("site.home"))


@bp.get("/account")
@login_required
def account() -> Any:
    return _account_page(PasswordChangeForm(), TokenForm())


def _account_page(password_form: PasswordChangeForm, token_form: TokenForm, new_token: str | None = None,
                  status: int = 200) -> Any:
    tokens = services.list_api_tokens(db.session, request_actor())
    return render_template("accounts/account.html", password_form=password_form, token_form=token_form,
                           tokens=tokens, new_token=new_token), status


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = services.change_password(db.session, request_actor(), form.current_password.data,
                                            form.new_password.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            # Every other session has ended; this one starts afresh.
            _start_session(user, remember=False)
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(form, TokenForm(), status=422)


@bp.post("/account/tokens")
@fresh_login_required
def create_token() -> Any:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            issued = services.create_api_token(db.session, request_actor(), form.name.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            return _account_page(PasswordChangeForm(), TokenForm(formdata=None), new_token=issued.secret)
    return _account_page(PasswordChangeForm(), form, status=422)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Any:
    services.revoke_api_token(db.session, request_actor(), token_id)
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> Any:
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(db.session, request_actor(), form.email.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            return render_template("accounts/reset_requested.html")
    return render_template("accounts/forgot_password.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    services.check_password_reset(db.session, request_actor(), token)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(db.session, request_actor(), token, form.new_password.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            logout_user()
            session.clear()
            flash(_("Your password has been reset. Please log in with the new password."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), 422 if form.errors else 200
