"""Resetting a forgotten password by mailed link, and changing a known one.

quality.md, security checks "passwords", "sessions" and "tokens": the link is single-use and
expires, a reset ends every session, and a change needs the current password.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts.models import PasswordReset
from exchange.db import utcnow
from exchange.notifications.models import OutboxMessage
from tests import factories
from tests.conftest import copy_cookies

NEW_PASSWORD = "a fresh passphrase after the reset"
RESET_LINK = re.compile(r"https?://[^\s/]+/password/reset/([A-Za-z0-9_\-]+)")


@pytest.fixture
def member(app_db: Any) -> dict[str, Any]:
    with app_db() as session:
        user = factories.organization(session).owner
        return {"id": user.id, "email": user.email}


def reset_link_mailed_to(app_db: Any, email: str) -> str:
    """The path of the newest reset link in the mails waiting in the outbox for this address."""
    with app_db() as session:
        mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "mail")
                                .order_by(OutboxMessage.id.desc())).all()
    for mail in mails:
        if mail.payload["to"] == email:
            match = RESET_LINK.search(mail.payload["body"])
            if match:
                return f"/password/reset/{match.group(1)}"
    raise AssertionError(f"no reset link was mailed to {email}")


def ask_for_a_reset(browser: Any, app_db: Any, email: str) -> str:
    assert browser.post("/password/forgot", {"email": email}).status_code == 200
    return reset_link_mailed_to(app_db, email)


def choose(browser: Any, link: str, password: str) -> Any:
    return browser.post(link, {"new_password": password, "confirm": password})


def can_log_in(new_browser: Any, email: str, password: str) -> bool:
    status = new_browser().post("/login", {"email": email, "password": password}).status_code
    assert status in (302, 422), status
    return status == 302


def test_a_forgotten_password_is_reset_through_the_mailed_link(app_db, member, browser, new_browser):
    link = ask_for_a_reset(browser, app_db, member["email"])

    assert browser.get(link).status_code == 200
    done = choose(browser, link, NEW_PASSWORD)

    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert can_log_in(new_browser, member["email"], NEW_PASSWORD)
    assert not can_log_in(new_browser, member["email"], factories.PASSWORD)


def test_the_link_keeps_only_a_hash_of_its_secret(app_db, member, browser):
    secret = ask_for_a_reset(browser, app_db, member["email"]).rsplit("/", 1)[1]

    assert len(secret) >= 43  # secrets.token_urlsafe(32): 256 bits
    with app_db() as session:
        stored = session.scalars(sa.select(PasswordReset)).all()
    assert stored and all(secret not in row.token_hash for row in stored)


def test_a_reset_link_works_once(app_db, member, browser, new_browser):
    link = ask_for_a_reset(browser, app_db, member["email"])
    choose(browser, link, NEW_PASSWORD)

    assert browser.get(link).status_code == 404
    assert choose(new_browser(), link, "someone else's password").status_code == 404
    assert can_log_in(new_browser, member["email"], NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app_db, member, browser, new_browser):
    link = ask_for_a_reset(browser, app_db, member["email"])
    with app_db() as session:
        session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    assert browser.get(link).status_code == 404
    assert choose(browser, link, NEW_PASSWORD).status_code == 404
    assert can_log_in(new_browser, member["email"], factories.PASSWORD)


def test_a_made_up_reset_link_is_refused(browser):
    assert browser.get("/password/reset/not-a-real-token").status_code == 404


def test_a_reset_ends_every_session_and_remember_me_cookie(app_db, member, browser, new_browser):
    laptop = new_browser()
    laptop.login(member["email"], factories.PASSWORD, remember=True)
    thief = copy_cookies(laptop, new_browser(), names=("remember_token",))
    assert laptop.get("/account").status_code == 200

    choose(browser, ask_for_a_reset(browser, app_db, member["email"]), NEW_PASSWORD)

    assert laptop.get("/account").status_code == 302
    assert thief.get("/account").status_code == 302


def test_a_reset_needs_a_password_of_the_minimum_length(app_db, member, browser, new_browser):
    link = ask_for_a_reset(browser, app_db, member["email"])

    assert choose(browser, link, "short").status_code in (200, 422)  # the form again, with the message
    assert can_log_in(new_browser, member["email"], factories.PASSWORD)
    assert browser.get(link).status_code == 200  # a refused attempt does not use up the link


@pytest.mark.parametrize("current", ["not the password at all", ""])
def test_changing_the_password_needs_the_current_one(member, browser, new_browser, current):
    browser.login(member["email"], factories.PASSWORD)

    refused = browser.post("/account/password", {"current_password": current,
                                                  "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert refused.status_code == 422
    assert can_log_in(new_browser, member["email"], factories.PASSWORD)
    assert not can_log_in(new_browser, member["email"], NEW_PASSWORD)


def test_with_the_current_password_the_change_takes_effect(member, browser, new_browser):
    browser.login(member["email"], factories.PASSWORD)

    changed = browser.post("/account/password", {"current_password": factories.PASSWORD,
                                                  "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert changed.status_code == 302
    assert can_log_in(new_browser, member["email"], NEW_PASSWORD)
    assert not can_log_in(new_browser, member["email"], factories.PASSWORD)
