"""Extension objects, attached to the app in create_app with init_app."""
from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy_lite import SQLAlchemy
from flask_sqlalchemy_lite._extension import _close_async_sessions
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect


class SyncSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy-Lite without its teardown for async sessions, which this app never opens: Flask runs an
    async teardown through asgiref, on a new thread with an event loop of its own, at the end of every request
    (on /api/v1/search: 0.45 ms a request on a quiet machine, several ms when the CPU is busy)."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.teardown_appcontext_funcs.remove(_close_async_sessions)


# A pooled connection is tested before use and replaced if the server dropped it (a restart, a failover,
# pg_terminate_backend): otherwise the first request of each process after that fails with a 500.
db = SyncSQLAlchemy(engine_options={"pool_pre_ping": True})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits are declared per route; storage comes from RATELIMIT_STORAGE_URI (Redis in production).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()
