"""Settings, read from the environment.

The embedded default (no variables set) runs on SQLite with in-process helpers;
production sets DATABASE_URL, SECRET_KEY, REDIS_URL and, for search, MEILI_URL.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from urllib.parse import urlsplit

_DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # refused in production  # nosec B105


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def _public_url() -> str | None:
    """Where people reach the site, for links in mail: PUBLIC_URL, else https:// and SERVER_NAME."""
    if os.environ.get("PUBLIC_URL"):
        return os.environ["PUBLIC_URL"].rstrip("/")
    if os.environ.get("SERVER_NAME"):
        return f"{os.environ.get('PREFERRED_URL_SCHEME', 'https')}://{os.environ['SERVER_NAME']}"
    return None


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", _DEVELOPMENT_SECRET)
    SQLALCHEMY_ENGINES = {"default": os.environ.get("DATABASE_URL", "sqlite:///exchange.sqlite")}

    # Sessions: a short idle timeout renewed on every request, plus an absolute cap
    # checked against the login time stored in the session.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "30")))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    FORCE_HTTPS = False

    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust,
    # so that per-address login limits and the audit see the client's address.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Links in mail are built from this, never from the Host header a request brings (`flask run`'s
    # address by default). Requests naming a host not in TRUSTED_HOSTS are refused (400); production
    # trusts the host of PUBLIC_URL unless TRUSTED_HOSTS (comma-separated) says otherwise.
    PUBLIC_URL = _public_url() or "http://127.0.0.1:5000"  # where scripts/run-demo serves
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS")

    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    # Where attachments and claim evidence are stored (default: instance/uploads); backups include it.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR")
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which already expires
    WTF_I18N_ENABLED = True

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")

    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")

    # Vouchers: a provider's application stays on public notice this long before it can be admitted;
    # the worker looks for expired vouchers this often.
    PROVIDER_NOTICE_DAYS = int(os.environ.get("PROVIDER_NOTICE_DAYS", "7"))
    VOUCHER_EXPIRY_CHECK_SECONDS = float(os.environ.get("VOUCHER_EXPIRY_CHECK_SECONDS", "300"))

    PASSWORD_HASH_METHOD = "scrypt"  # a method name, not a password  # nosec B105
    PASSWORD_MIN_LENGTH = 10
    API_TOKEN_LIFETIME = timedelta(days=int(os.environ.get("API_TOKEN_DAYS", "90")))
    PASSWORD_RESET_LIFETIME = timedelta(hours=2)
    INVITATION_LIFETIME = timedelta(days=7)

    MEILI_URL = os.environ.get("MEILI_URL")
    MEILI_MASTER_KEY = os.environ.get("MEILI_MASTER_KEY")
    MEILI_INDEX = os.environ.get("MEILI_INDEX", "jjj_entries")
    # The embedded backend's index file (default: instance/search.sqlite).
    SEARCH_INDEX_PATH = os.environ.get("SEARCH_INDEX_PATH")

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "noreply@jjj-exchange.example")
    # "smtp" sends through MAIL_SERVER; "log" writes mails to the log with their secret links masked
    # (no one receives a reset link or an invitation). Production needs MAIL_SERVER or an explicit "log".
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND") or ("smtp" if MAIL_SERVER else "log")
    # The embedded default drains the outbox in a background thread of the web
    # process; production runs `flask --app wsgi worker` instead.
    RUN_WORKER_IN_PROCESS = _bool("RUN_WORKER_IN_PROCESS", True)

    API_TITLE = "Jing-Jin-Ji Innovation Exchange API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        }
    }

    def check(self) -> None:
        """Refuse to run with settings that are unsafe for this environment."""


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    FORCE_HTTPS = _bool("FORCE_HTTPS", True)
    RUN_WORKER_IN_PROCESS = _bool("RUN_WORKER_IN_PROCESS", False)
    DEBUG = False  # Flask would otherwise take it from FLASK_DEBUG
    PUBLIC_URL = _public_url()  # type: ignore[assignment]  # no default: check() asks for it
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS") or ([urlsplit(PUBLIC_URL).hostname or ""] if PUBLIC_URL else None)
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND") or "smtp"  # "log" only when asked for by name

    def check(self) -> None:
        if _bool("FLASK_DEBUG"):
            raise RuntimeError("FLASK_DEBUG must be off in production: debug mode shows code and tracebacks")
        secret = os.environ.get("SECRET_KEY", "")
        if not secret or secret == _DEVELOPMENT_SECRET or len(secret) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production")
        if not os.environ.get("REDIS_URL"):
            raise RuntimeError("REDIS_URL must be set in production: login limits must hold across processes")
        public = urlsplit(self.PUBLIC_URL or "")
        if public.scheme not in ("http", "https") or not public.hostname or public.path not in ("", "/"):
            raise RuntimeError(
                "PUBLIC_URL (e.g. https://exchange.example.cn) or SERVER_NAME must be set in production: "
                "links in mail are built from it, never from the Host header of a request"
            )
        if self.MAIL_BACKEND not in ("smtp", "log"):
            raise RuntimeError("MAIL_BACKEND must be smtp or log")
        if self.MAIL_BACKEND == "smtp" and not self.MAIL_SERVER:
            raise RuntimeError(
                "MAIL_SERVER must be set in production (or MAIL_BACKEND=log, and no one receives mail)"
            )
        if self.MAIL_BACKEND == "log":
            logging.getLogger("exchange").warning(
                "MAIL_BACKEND=log: no mail leaves this server; password resets and invitations cannot be used")


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-tests"  # the test suite's only  # nosec B105
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashing keeps the suite quick  # nosec B105
    RATELIMIT_STORAGE_URI = "memory://"
    RUN_WORKER_IN_PROCESS = False
    SERVER_NAME = None
    PUBLIC_URL = "http://localhost"  # the test client's host
    TRUSTED_HOSTS = None
    MAIL_BACKEND = "log"


def config_for(environment: str | None = None) -> Config:
    name = (environment or os.environ.get("EXCHANGE_ENV") or "development").lower()
    classes = {"development": Config, "production": ProductionConfig, "test": TestConfig}
    if name not in classes:
        raise RuntimeError(f"EXCHANGE_ENV must be one of {', '.join(classes)}, not {name!r}")
    return classes[name]()
