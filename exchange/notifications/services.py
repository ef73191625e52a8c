"""Mail through the outbox, and the worker loop that drains it."""
from __future__ import annotations

import logging
import re
import smtplib
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from exchange.db import utcnow
from exchange.notifications.links import public_link
from exchange.notifications.models import OutboxMessage

log = logging.getLogger("exchange.worker")

MAIL_TOPIC = "mail"
MAX_ATTEMPTS = 8


def enqueue_mail(session: Session, to: str, subject: str, body: str) -> OutboxMessage:
    """Stage a mail in the caller's transaction: it is sent only if that transaction commits."""
    message = OutboxMessage(topic=MAIL_TOPIC, payload={"to": to, "subject": subject, "body": body})
    session.add(message)
    return message


# What new_secret() makes (43 URL-safe characters) and anything as long: reset and invitation
# secrets live in mail bodies, and a log is read by more people than a mailbox.
_SECRET_LIKE = re.compile(r"[A-Za-z0-9_-]{32,}")


def mask_secrets(text: str) -> str:
    return _SECRET_LIKE.sub("[secret hidden]", text)


def deliver_mail(payload: Mapping[str, Any]) -> None:
    config = current_app.config
    if config["MAIL_BACKEND"] == "log":
        # Development (or MAIL_BACKEND=log): the mail goes to the log, its secrets masked.
        log.info("mail to=%s subject=%s\n%s", payload["to"], payload["subject"], mask_secrets(payload["body"]))
        return
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message.set_content(payload["body"])
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


HANDLERS: dict[str, Callable[[Mapping[str, Any]], None]] = {MAIL_TOPIC: deliver_mail}


def drain_outbox(session: Session, batch_size: int = 50) -> int:
    """Run one batch of due outbox messages; returns how many were handled.

    Rows are claimed with SKIP LOCKED on PostgreSQL so that several workers never run
    the same message; a failure is retried later with exponential backoff.
    """
    now = utcnow()
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
            HANDLERS[message.topic](message.payload)
        except Exception as error:  # any failure of a handler is retried, never lost
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            message.available_at = utcnow() + timedelta(seconds=2 ** message.attempts)
            log.warning("outbox message %s failed (attempt %s): %s", message.id, message.attempts, error)
        else:
            message.processed_at = utcnow()
    session.commit()
    return len(messages)


# Jobs the worker runs every so often besides the outbox (voucher expiry): name → (seconds between runs, job).
PERIODIC_JOBS: dict[str, tuple[float, Callable[[Session], object]]] = {}


def run_periodic_jobs(session: Session, last_runs: dict[str, float]) -> None:
    now = time.monotonic()
    for name, (interval, job) in PERIODIC_JOBS.items():
        if now - last_runs.get(name, float("-inf")) < interval:
            continue
        last_runs[name] = now
        try:
            job(session)
        except Exception:  # the next round tries again; a failing job never stops the outbox
            session.rollback()
            log.exception("periodic job %s failed", name)


def run_worker(app: Flask, stop: threading.Event, idle_seconds: float = 1.0) -> None:
    from exchange.extensions import db

    log.info("worker started")
    last_runs: dict[str, float] = {}
    while not stop.is_set():
        with app.app_context():
            try:
                handled = drain_outbox(db.session)
            except Exception:  # keep the worker alive; the rows stay for the next round
                log.exception("outbox drain failed")
                handled = 0
            run_periodic_jobs(db.session, last_runs)
        if not handled:
            stop.wait(idle_seconds)
    log.info("worker stopped")


def start_background_worker(app: Flask, idle_seconds: float = 0.2) -> threading.Event:
    # A short idle keeps an approval searchable well within a second; an idle poll is one cheap query.
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(app, stop, idle_seconds), name="outbox-worker", daemon=True)
    thread.start()
    return stop


def notify(session: Session, user_id: int, subject: Callable[[], str], body: Callable[[], str], link: str) -> None:
    """An inbox message and a mail to one user, each written in that user's language."""
    from flask_babel import force_locale

    from exchange.accounts.models import User
    from exchange.notifications.models import Notification

    user = session.get(User, user_id)
    if user is None:
        return
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject_text, body_text = subject(), body()
    session.add(Notification(user_id=user.id, subject=subject_text[:200], body=body_text, link=link))
    enqueue_mail(session, user.email, subject_text, f"{body_text}\n{public_link(link)}")
