"""Request-level wiring shared by every page and API call: locale, security, sessions, errors."""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request, session
from flask.json.provider import DefaultJSONProvider
from flask_babel import get_locale
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from exchange.db import utcnow
from exchange.errors import DomainError, error_for_status
from exchange.inputs import MAX_ID, check_query

log = logging.getLogger("exchange")

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits up to the largest id a column holds, anything else is 404.

    Werkzeug's own converter takes any Unicode digit ("/organizations/１" is organisation 1) and
    any size, and PostgreSQL refuses to compare an INTEGER key with a larger number (a 500).
    """

    regex = r"[0-9]+"

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deep for the parser is invalid JSON (400), not a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from None


def check_query_string() -> None:
    """Every page and API call: a query string no column can hold is refused before any view reads it."""
    check_query(request.args)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line and the worker speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    user_locale = getattr(current_user, "locale", None) if not is_api_request() else None
    if user_locale in supported:
        return user_locale
    best = request.accept_languages.best_match(["zh", "zh_CN", "zh-CN", "en"])
    if best and best.startswith("en"):
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def safe_next_path(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after a form, or the default for anything else."""
    if not target or len(target) > 2000:
        return default
    if any(ord(char) < 32 or char == "\\" for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def init_security(app: Flask) -> None:
    from exchange.extensions import talisman

    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,
        strict_transport_security_max_age=31536000,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    from exchange.audit.services import reset_client_address, set_client_address

    def bind_client_address() -> None:
        g.audit_address_token = set_client_address(request.remote_addr)

    # First of all hooks, so that whatever a later hook audits (a denial, a limit) knows the address.
    app.before_request_funcs.setdefault(None, []).insert(0, bind_client_address)

    @app.teardown_request
    def unbind_client_address(error: BaseException | None) -> None:
        token = g.pop("audit_address_token", None)
        if token is not None:
            reset_client_address(token)


def init_sessions(app: Flask) -> None:
    from exchange.accounts.models import Visitor
    from exchange.accounts.services import user_for_session
    from exchange.extensions import db, login_manager

    login_manager.anonymous_user = Visitor
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.refresh_view = "accounts.reauthenticate"
    login_manager.needs_refresh_message = None

    @login_manager.user_loader
    def load_user(session_user_id: str) -> Any:
        return user_for_session(db.session, session_user_id)

    @app.before_request
    def enforce_session_lifetime() -> None:
        if not session:
            return  # a visitor who has neither signed in nor opened a form: no session, and no cookie to send
        if not session.permanent:
            # Idle timeout: PERMANENT_SESSION_LIFETIME; Flask renews a permanent session's cookie on each request
            # (SESSION_REFRESH_EACH_REQUEST), so marking it once is enough.
            session.permanent = True
        login_at = session.get("login_at")
        if login_at is None or (is_api_request() and request.headers.get("Authorization")):
            return
        age = utcnow().timestamp() - float(login_at)
        if age > app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds():
            logout_user()
            session.clear()

    worker_lock = threading.Lock()

    @app.before_request
    def start_in_process_worker() -> None:
        # The embedded default needs no second process: the web process drains the outbox.
        if not app.config["RUN_WORKER_IN_PROCESS"] or app.extensions.get("outbox_worker"):
            return
        with worker_lock:
            if not app.extensions.get("outbox_worker"):
                from exchange.notifications.services import start_background_worker

                app.extensions["outbox_worker"] = start_background_worker(app)


def mark_logged_in() -> None:
    session["login_at"] = utcnow().timestamp()


def init_templates(app: Flask) -> None:
    from exchange import policy
    from exchange.accounts.models import Role

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {
            "current_locale": "en" if get_locale().language == "en" else "zh_CN",
            "languages": [("zh_CN", "中文"), ("en", "English")],
            "Role": Role,
            "can": lambda action, obj=None: policy.can(current_user, policy.Action(action), obj),
            "unread_notifications": _unread_notifications(),
        }

    @app.template_filter("localtime")
    def localtime(value: datetime | None) -> str:
        from flask_babel import format_datetime

        return format_datetime(value, "short") if value else ""


def _unread_notifications() -> int:
    if not current_user.is_authenticated:
        return 0
    from exchange.extensions import db
    from exchange.notifications.inbox import unread_count

    return unread_count(db.session, current_user)


def error_response(error: DomainError) -> Any:
    if is_api_request():
        response = jsonify(error.to_dict())
        response.status_code = error.status
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    return render_template("errors/error.html", error=error), error.status


def record_denial(error: DomainError) -> None:
    """Audit a refused request (401/403) in a transaction of its own: what was tried is undone."""
    from exchange.audit.services import record
    from exchange.extensions import db
    from exchange.unit_of_work import abandon, unit_of_work

    try:
        abandon(db.session)
        if is_api_request() and request.headers.get("Authorization") is not None:
            actor = g.get("api_actor")  # a bearer token alone says who asks; the cookie is ignored
        else:
            actor = current_user
        with unit_of_work(db.session):
            record(db.session, "access.denied", getattr(actor, "id", None), None, status=error.status,
                   code=error.code, method=request.method, path=request.path[:200])
    except Exception:  # a failing audit write must not turn a 403 into a 500
        log.exception("could not record a denial on %s %s", request.method, request.path)


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Any:
        if error.status in (401, 403):
            record_denial(error)
        return error_response(error)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError) -> Any:
        from flask_babel import lazy_gettext as _l

        return error_response(DomainError(
            _l("The form has expired or was not sent from this site. Please reload the page and try again."),
            code="csrf_failed"))

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error: SecurityError) -> Any:
        # A Host header outside TRUSTED_HOSTS: nothing that needs the host (an error page's links,
        # url_for) can be built, so the answer is plain text.
        return current_app.response_class(str(error_for_status(400).message), 400, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Any:
        from exchange.api import translate_schema_errors

        data = getattr(error, "data", None) or {}  # webargs puts schema errors here
        fields = translate_schema_errors(data["messages"]) if "messages" in data else None
        response = current_app.make_response(error_response(error_for_status(error.code or 500, fields)))
        valid_methods = getattr(error, "valid_methods", None)
        if error.code == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        from exchange.extensions import db
        from exchange.unit_of_work import abandon

        abandon(db.session)
        return error_response(error_for_status(500))


def request_actor() -> Any:
    """Who is asking: the API's bearer-token user if set for this request, else the session user."""
    return g.get("api_actor") or current_user._get_current_object()
