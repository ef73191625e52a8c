"""Mail goes through the outbox: staged with the change, delivered by the worker after commit."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from exchange.db import utcnow
from exchange.notifications import outbox
from exchange.notifications.models import OutboxMessage
from exchange.notifications.services import enqueue_mail


def pending(db) -> list[OutboxMessage]:
    return list(db.scalars(sa.select(OutboxMessage).where(OutboxMessage.processed_at.is_(None))))


def test_a_mail_of_a_rolled_back_change_is_never_sent(db):
    enqueue_mail(db, "someone@example.cn", "主题", "正文")
    db.rollback()
    assert pending(db) == []


def test_the_worker_delivers_committed_mail_to_the_log_without_smtp(db, caplog):
    enqueue_mail(db, "someone@example.cn", "审核结果", "您的机构已通过审核。")
    db.commit()

    with caplog.at_level("INFO", logger="exchange.worker"):
        handled = outbox.drain(db)

    assert handled == 1 and pending(db) == []
    assert "someone@example.cn" in caplog.text and "您的机构已通过审核。" in caplog.text


def test_a_failed_delivery_is_retried_later_not_lost(db, monkeypatch):
    enqueue_mail(db, "someone@example.cn", "主题", "正文")
    db.commit()

    def broken_smtp(payload):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setitem(outbox.handlers_of(current_app), outbox.MAIL, broken_smtp)
    outbox.drain(db)

    [message] = pending(db)
    assert message.attempts == 1 and "smtp down" in message.last_error
    assert message.available_at > utcnow()
    assert outbox.drain(db) == 0  # not due yet

    monkeypatch.undo()
    message.available_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert outbox.drain(db) == 1
    assert pending(db) == []
