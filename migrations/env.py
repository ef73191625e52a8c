"""Alembic environment: the engine comes from the app (see exchange/migrations.py)."""
from __future__ import annotations

from typing import Any

from alembic import context

from exchange.db import UTCDateTime
from exchange.models import metadata

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations stay independent of the app's code: UTCDateTime is stored as DateTime(timezone=True).
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from wsgi import app
        from exchange.extensions import db

        with app.app_context():
            engine = db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `flask --app wsgi db upgrade`.")
run_migrations()
