"""Alembic, driven with the app's own database settings (migrations/ at the top level)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from exchange import PROJECT_ROOT


def alembic_config() -> Config:
    from exchange.extensions import db

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["engine"] = db.engine
    return config


def upgrade(revision: str = "head") -> None:
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str) -> None:
    command.downgrade(alembic_config(), revision)
