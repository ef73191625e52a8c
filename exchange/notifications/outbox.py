"""The transactional outbox: an effect is staged as a row in the caller's transaction and run by the worker
after the commit, so a rolled-back change has no effect and a crash between commit and effect loses nothing.

The topics are named here. Each topic's handler is registered once, in create_app (exchange/__init__.py),
where a reader finds what the worker does with every message; a feature stages a topic without importing
the feature that handles it (catalog stages ENTRY_CHANGED, search indexes the entry)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from exchange.db import utcnow
from exchange.notifications.models import OutboxMessage
from exchange.unit_of_work import unit_of_work

log = logging.getLogger("exchange.worker")

# The stored values stay as they were: rows already queued carry them.
ENTRY_CHANGED = "search.entry"  # payload: kind, entry_id
MAIL = "mail"  # payload: to, subject, body

MAX_ATTEMPTS = 8

Handler = Callable[[Mapping[str, Any]], None]


def stage(session: Session, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    """Stage an effect in the caller's transaction: it runs only if that transaction commits."""
    message = OutboxMessage(topic=topic, payload=payload)
    session.add(message)
    return message


def register(app: Flask, topic: str, handler: Handler) -> None:
    handlers_of(app)[topic] = handler


def handlers_of(app: Flask) -> dict[str, Handler]:
    return app.extensions.setdefault("outbox_handlers", {})


def drain(session: Session, batch_size: int = 50) -> int:
    """Run one batch of due outbox messages; returns how many were handled.

    Rows are claimed with SKIP LOCKED on PostgreSQL so that several workers never run
    the same message; a failure is retried later with exponential backoff.
    """
    handlers = handlers_of(current_app)
    now = utcnow()
    with unit_of_work(session):
        messages = session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.processed_at.is_(None), OutboxMessage.available_at <= now,
                   OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for message in messages:
            message.attempts += 1
            try:
                handlers[message.topic](message.payload)
            except Exception as error:  # any failure of a handler is retried, never lost
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                message.available_at = utcnow() + timedelta(seconds=2 ** message.attempts)
                log.warning("outbox message %s failed (attempt %s): %s", message.id, message.attempts, error)
            else:
                message.processed_at = utcnow()
    return len(messages)
