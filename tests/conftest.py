"""Each test gets an app on a fresh database: SQLite by default, PostgreSQL with TEST_DATABASE_URL.

Services that a suite needs (PostgreSQL, Redis, chromium) are skipped loudly when missing
locally; under CI=true a missing service fails the run instead.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner

from exchange import create_app
from exchange.db import Clock
from exchange.db import clock as app_clock
from exchange.extensions import db as extension_db
from exchange.models import metadata
from exchange.taxonomy.services import load_reference_data

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets a database of its own (`<name>_gw0`, …), created on first use:
    the tests of one worker truncate every table and must not pull the rows from under another's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    server = sa.engine.make_url(url)
    name = f"{server.database}_{worker}"
    admin_engine = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin_engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))
# A server on which tests may create throwaway databases (the migration tests do), in
# the SQLite pass too.
POSTGRES_SERVER_URL = os.environ.get("TEST_POSTGRES_URL") or POSTGRES_URL
REDIS_URL = os.environ.get("TEST_REDIS_URL")
MEILI_URL = os.environ.get("TEST_MEILI_URL")
MEILI_KEY = os.environ.get("TEST_MEILI_KEY")


def require_service(available: bool, reason: str) -> None:
    """Skip with a loud reason locally; fail in CI, where every service must be there."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI needs this service: {reason}")
    pytest.skip(f"SERVICE MISSING — {reason}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite (set TEST_DATABASE_URL for PostgreSQL)'}",
        f"redis: {REDIS_URL or 'not configured (set TEST_REDIS_URL)'}",
        f"meilisearch: {MEILI_URL or 'not configured (set TEST_MEILI_URL, TEST_MEILI_KEY)'}",
    ]


_postgres_schema_ready = False


def _prepare_postgres(engine: sa.Engine) -> None:
    global _postgres_schema_ready
    if not _postgres_schema_ready:
        metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        metadata.create_all(engine)
        _postgres_schema_ready = True
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def database_url(tmp_path: Any) -> str:
    return POSTGRES_URL or f"sqlite:///{tmp_path / 'test.sqlite'}"


class IsolatedClient(FlaskClient):
    """Each request gets its own application context, as in a real server.

    Without this, a request made while the test holds a context (the `db` fixture does)
    would share the test's `g`: cached users, CSRF tokens and sessions would leak between
    requests and hide bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(database: str, **overrides: Any) -> Flask:
    application = create_app({"SQLALCHEMY_ENGINES": {"default": database}, **overrides}, environment="test")
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change settings of the `app` fixture."""
    return {}


@pytest.fixture
def app(tmp_path: Any, app_overrides: dict[str, Any]) -> Iterator[Flask]:
    application = make_app(database_url(tmp_path), **app_overrides)
    with application.app_context():
        engine = extension_db.engine
        if engine.dialect.name == "postgresql":
            _prepare_postgres(engine)
        else:
            metadata.create_all(engine)
        load_reference_data(extension_db.session)
    yield application
    with application.app_context():
        extension_db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The database session of a test, inside an application context."""
    with app.test_request_context():
        yield extension_db.session


class Browser:
    """A test client that behaves like a person with a browser: it sends CSRF tokens."""

    CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self, page: str = "/login") -> str:
        response = self.client.get(page)
        match = self.CSRF_PATTERN.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1) or match.group(2)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def login(self, email: str, password: str, remember: bool = False) -> Any:
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        response = self.post("/login", data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def api(self, method: str, url: str, **kwargs: Any) -> Any:
        """A browser-session API call: unsafe methods carry the CSRF header."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if method.upper() not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf_token()
        return self.client.open(url, method=method, headers=headers, **kwargs)


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def new_browser(app: Flask):  # type: ignore[no-untyped-def]
    """For tests that need several people at once."""
    return lambda: Browser(app.test_client())


# Helpers for tests that mix requests and database work -----------------------------------

@pytest.fixture
def app_db(app: Flask):  # type: ignore[no-untyped-def]
    """`with app_db() as session:` — a short database session of its own, between requests.

    Each block starts from what the requests have committed so far (no objects cached from
    earlier in the test) and ends its application context, like a separate process would.
    """
    from contextlib import contextmanager

    @contextmanager
    def open_session() -> Iterator[Any]:
        with app.app_context():
            yield extension_db.session

    return open_session


def copy_cookies(source: Browser, target: Browser, names: tuple[str, ...] = ("session", "remember_token")) -> Browser:
    """Give `target` the cookies `source` holds now, as an attacker who captured them would."""
    for name in names:
        cookie = source.client.get_cookie(name)
        if cookie is not None:
            target.client.set_cookie(name, cookie.value)
    return target


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app_overrides: dict[str, Any], tmp_path: Any) -> None:
    """Attachments of a test land in its own temporary folder."""
    app_overrides.setdefault("UPLOAD_DIR", str(tmp_path / "uploads"))
    app_overrides.setdefault("SEARCH_INDEX_PATH", str(tmp_path / "search.sqlite"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The app's clock, stopped (a slow machine takes no time) and moved on instead of sleeping:
    `clock.offset += timedelta(...)`. The time that signs and checks session cookies moves with it."""
    monkeypatch.setattr(app_clock, "stopped_at", datetime.now(timezone.utc))
    monkeypatch.setattr(app_clock, "offset", timedelta(0))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(app_clock.now().timestamp()))
    return app_clock
