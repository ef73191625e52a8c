"""Declarative base, naming convention and the mixins every model shares."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Clock:
    """The app's one source of the time. Tests stop it and move it on (the `clock` fixture) instead of sleeping."""

    def __init__(self) -> None:
        self.stopped_at: datetime | None = None
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return (self.stopped_at or datetime.now(timezone.utc)) + self.offset


clock = Clock()


def utcnow() -> datetime:
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class TimestampMixin:
    # Callables, so each row gets its own time rather than the import time.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def enum_column(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """An enumeration stored as its values in a checked string column (no native enum types to migrate)."""
    return sa.Enum(enum_class, name=name, native_enum=False, length=20,
                   values_callable=lambda members: [m.value for m in members], validate_strings=True)


# Labels of enumerations shown to users, registered by each feature's models (lazy gettext strings).
ENUM_LABELS: dict[tuple[type, str], Any] = {}


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        # Keyed by class too: members of different enums with the same value are equal.
        return str(ENUM_LABELS[(type(self), self.value)])
