"""Alembic: one head; upgrade, downgrade to base and upgrade again; models equal migrations."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from exchange.extensions import db
from exchange.migrations import alembic_config
from exchange.models import metadata
from tests.conftest import POSTGRES_SERVER_URL, make_app, require_service


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    require_service(bool(POSTGRES_SERVER_URL), "PostgreSQL (set TEST_POSTGRES_URL) for the migration test")
    server = sa.engine.make_url(POSTGRES_SERVER_URL)
    name = f"jjj_migrations_{uuid.uuid4().hex[:10]}"
    admin_engine = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin_engine.dispose()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_there_is_one_head():
    app = make_app("sqlite://")
    with app.app_context():
        assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrade_downgrade_and_upgrade_again(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        config = alembic_config()
        command.upgrade(config, "head")
        assert table_names(db.engine) == set(metadata.tables)
        command.downgrade(config, "base")
        assert table_names(db.engine) == set()
        command.upgrade(config, "head")
        assert table_names(db.engine) == set(metadata.tables)
        db.engine.dispose()


def test_the_models_agree_with_the_migrations(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        db.engine.dispose()
    assert differences == []


def _user_row(number: int, email: str) -> dict[str, object]:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    return {"id": number, "email": email, "display_name": f"user {number}", "password_hash": "x",
            "role": "platform_admin", "is_org_owner": False, "is_disabled": False, "session_version": 1,
            "created_at": now, "updated_at": now}


def test_stored_addresses_are_brought_to_their_canonical_spelling(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        config = alembic_config()
        command.upgrade(config, "0003")
        users = metadata.tables["users"]
        with db.engine.begin() as connection:
            connection.execute(users.insert(), [_user_row(1, "Enterprise.He@ｄｅｍｏ。jjj-exchange.cn"),
                                                _user_row(2, "plain@example.cn")])

        command.upgrade(config, "head")

        with db.engine.connect() as connection:
            stored = dict(connection.execute(sa.select(users.c.id, users.c.email)).all())
        db.engine.dispose()
    assert stored == {1: "enterprise.he@demo.jjj-exchange.cn", 2: "plain@example.cn"}


def test_two_accounts_under_spellings_of_one_address_stop_the_migration_with_their_ids(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        config = alembic_config()
        command.upgrade(config, "0003")
        with db.engine.begin() as connection:
            connection.execute(metadata.tables["users"].insert(),
                               [_user_row(7, "he@demo.cn"), _user_row(8, "HE@ｄｅｍｏ.cn")])

        with pytest.raises(RuntimeError, match="he@demo.cn: users 7, 8"):
            command.upgrade(config, "head")
        db.engine.dispose()
