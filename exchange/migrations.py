"""Alembic, driven with the app's own database settings (migrations/ at the top level)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# alembic.ini and migrations/ sit beside the package (not imported from exchange: create_app imports this module).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
