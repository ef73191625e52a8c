"""Mail through the outbox, and the worker loop that drains it."""
from __future__ import annotations

import logging
import re
import smtplib
import threading
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session, object_session

from exchange.notifications import outbox
from exchange.links import public_link
from exchange.notifications.models import OutboxMessage
from exchange.unit_of_work import after_commit, unit_of_work_running

log = logging.getLogger("exchange.worker")

WAKE_KEY = "outbox_worker_wake"  # app.extensions: the in-process worker's wake-up call


def enqueue_mail(session: Session, to: str, subject: str, body: str) -> OutboxMessage:
    """Stage a mail in the caller's transaction: it is sent only if that transaction commits."""
    return outbox.stage(session, outbox.MAIL, {"to": to, "subject": subject, "body": body})


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


# Jobs the worker runs every so often besides the outbox (voucher expiry): name → (seconds between runs, job).
PERIODIC_JOBS: dict[str, tuple[float, Callable[[Session], object]]] = {}


def run_periodic_jobs(session: Session, last_runs: dict[str, float]) -> None:
    now = time.monotonic()
    for name, (interval, job) in PERIODIC_JOBS.items():
        if now - last_runs.get(name, float("-inf")) < interval:
            continue
        last_runs[name] = now
        try:
            job(session)  # in units of work of its own, rolled back on failure
        except Exception:  # the next round tries again; a failing job never stops the outbox
            log.exception("periodic job %s failed", name)


def run_worker(app: Flask, stop: threading.Event, idle_seconds: float = 1.0,
               wake: threading.Event | None = None) -> None:
    """Drain the outbox until stopped; when idle, wait `idle_seconds` or until woken (`wake_worker`)."""
    from exchange.extensions import db

    log.info("worker started")
    last_runs: dict[str, float] = {}
    while not stop.is_set():
        with app.app_context():
            try:
                handled = outbox.drain(db.session)
            except Exception:  # keep the worker alive; the rows stay for the next round
                log.exception("outbox drain failed")
                handled = 0
            run_periodic_jobs(db.session, last_runs)
        if handled:
            continue
        if wake is None:
            stop.wait(idle_seconds)
        else:
            wake.wait(idle_seconds)
            wake.clear()  # before the next drain, which sees every commit that woke it
    log.info("worker stopped")


def start_background_worker(app: Flask, idle_seconds: float = 0.2) -> threading.Event:
    # A short idle keeps an approval searchable well within a second; an idle poll is one cheap query.
    stop = threading.Event()
    wake = app.extensions[WAKE_KEY] = threading.Event()
    thread = threading.Thread(target=run_worker, args=(app, stop, idle_seconds, wake), name="outbox-worker",
                              daemon=True)
    thread.start()
    return stop


def wake_worker() -> None:
    """The in-process worker, if this app runs one, drains the outbox now instead of after its idle wait."""
    wake = current_app.extensions.get(WAKE_KEY)
    if wake is not None:
        wake.set()


@sa.event.listens_for(OutboxMessage, "after_insert")
def _wake_worker_after_commit(mapper: Any, connection: Any, message: OutboxMessage) -> None:
    # Every outbox row, whoever stages it: the worker runs it as soon as it is committed.
    session = object_session(message)
    if session is not None and unit_of_work_running(session):
        after_commit(session, wake_worker)


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
