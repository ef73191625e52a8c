"""Pooled connections survive the database dropping them (issue 15 item 10).

quality.md, reliability: the first request after a dropped connection succeeds.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from exchange.extensions import db
from tests.conftest import POSTGRES_SERVER_URL, POSTGRES_URL, require_service


@pytest.mark.postgres
def test_the_next_request_after_the_server_ends_the_apps_connections_succeeds(app):
    if POSTGRES_SERVER_URL and not POSTGRES_URL:
        pytest.skip("runs in the PostgreSQL pass (TEST_DATABASE_URL), where the app's pool is PostgreSQL's")
    require_service(bool(POSTGRES_URL), "PostgreSQL (set TEST_DATABASE_URL) for dropped connections")
    client = app.test_client()
    assert client.get("/organizations").status_code == 200  # leaves a connection in the pool
    with app.app_context():
        pooled = db.engine.pool.checkedin()
    assert pooled >= 1

    # As a restart or a failover would: the server ends every connection of the app's database.
    admin = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        ended = connection.scalar(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    admin.dispose()
    assert ended >= pooled

    assert client.get("/organizations").status_code == 200
    assert client.get("/api/v1/organizations").status_code == 200
