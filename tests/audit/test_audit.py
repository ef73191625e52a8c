"""The audit trail: who did what, when (UTC) and from where — append-only, without secrets.

quality.md, security check "audit": logins, denials, approvals and token issuance each leave a
row; no password or token secret reaches the table or the log; CR/LF cannot forge log lines.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.audit.models import AuditEvent, AuditTrailIsAppendOnly
from exchange.db import utcnow
from tests import factories

ADDRESS = "203.0.113.42"
FROM_ADDRESS = {"environ_base": {"REMOTE_ADDR": ADDRESS}}


@pytest.fixture
def member(app_db: Any) -> dict[str, Any]:
    with app_db() as session:
        user = factories.organization(session).owner
        return {"id": user.id, "email": user.email}


@pytest.fixture
def audit_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="exchange.audit")
    return caplog


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "exchange.audit"]


def events(app_db: Any, action: str) -> list[AuditEvent]:
    with app_db() as session:
        rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        session.expunge_all()
        return list(rows)


def the_event(app_db: Any, action: str) -> AuditEvent:
    found = events(app_db, action)
    assert len(found) == 1, f"{len(found)} {action!r} events"
    return found[0]


def assert_who_when_where(event: AuditEvent, actor_id: int | None) -> None:
    assert event.actor_id == actor_id
    assert event.ip_address == ADDRESS
    assert event.occurred_at.tzinfo is not None and event.occurred_at.utcoffset() == timedelta(0)
    assert abs(event.occurred_at - utcnow()) < timedelta(minutes=1)
    assert event.occurred_at.astimezone(timezone.utc) == event.occurred_at


def bearer_for(browser: Any, email: str) -> dict[str, str]:
    token = browser.client.post("/api/v1/auth/tokens", json={"email": email, "password": factories.PASSWORD})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


def test_a_successful_login_is_recorded(app_db, member, browser):
    browser.post("/login", {"email": member["email"], "password": factories.PASSWORD}, **FROM_ADDRESS)

    event = the_event(app_db, "login.succeeded")
    assert_who_when_where(event, member["id"])


def test_a_failed_login_is_recorded_for_known_and_unknown_e_mails(app_db, member, browser):
    browser.post("/login", {"email": member["email"], "password": "wrong guess"}, **FROM_ADDRESS)
    browser.post("/login", {"email": "nobody@example.cn", "password": "wrong guess"}, **FROM_ADDRESS)

    known, unknown = events(app_db, "login.failed")
    assert_who_when_where(known, member["id"])
    assert_who_when_where(unknown, None)
    assert unknown.details["email"] == "nobody@example.cn"


def test_a_denial_is_recorded(app_db, browser):
    with app_db() as session:
        pending = factories.organization(session, region="TJ", status="pending").organization.id
        other_admin = factories.admin(session, "BJ")
        other_admin_id, other_admin_email = other_admin.id, other_admin.email
    headers = bearer_for(browser, other_admin_email)

    refused = browser.client.post(f"/api/v1/organizations/{pending}/approve", headers=headers, **FROM_ADDRESS)

    assert refused.status_code == 403
    event = the_event(app_db, "access.denied")
    assert_who_when_where(event, other_admin_id)
    assert event.details["path"] == f"/api/v1/organizations/{pending}/approve"
    assert event.details["method"] == "POST" and event.details["status"] == 403


def test_a_denied_page_action_is_recorded_too(app_db, browser):
    with app_db() as session:
        pending = factories.organization(session, region="TJ", status="pending").organization.id
        other_admin = factories.admin(session, "HE")
        other_admin_id, other_admin_email = other_admin.id, other_admin.email
    browser.login(other_admin_email, factories.PASSWORD)

    refused = browser.post(f"/organizations/{pending}/approve", **FROM_ADDRESS)

    assert refused.status_code == 403
    assert_who_when_where(the_event(app_db, "access.denied"), other_admin_id)


def test_a_refused_bearer_token_is_recorded_without_the_cookie_user(app_db, member, browser):
    browser.login(member["email"], factories.PASSWORD)

    browser.client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-real-token"}, **FROM_ADDRESS)

    event = the_event(app_db, "access.denied")
    assert_who_when_where(event, None)  # the cookie is ignored when a token is sent
    assert event.details["status"] == 401 and "not-a-real-token" not in repr(event.details)


def test_an_approval_is_recorded(app_db, browser):
    with app_db() as session:
        pending = factories.organization(session, region="TJ", status="pending").organization.id
        admin = factories.region_admin(session, "TJ")
        admin_id, admin_email = admin.id, admin.email

    approved = browser.client.post(f"/api/v1/organizations/{pending}/approve",
                                   headers=bearer_for(browser, admin_email), **FROM_ADDRESS)

    assert approved.status_code == 200
    event = the_event(app_db, "organization.approved")
    assert_who_when_where(event, admin_id)
    assert (event.target_type, event.target_id) == ("organization", str(pending))


def test_a_token_creation_is_recorded(app_db, member, browser):
    created = browser.client.post("/api/v1/auth/tokens", json={"email": member["email"],
                                                               "password": factories.PASSWORD}, **FROM_ADDRESS)

    event = the_event(app_db, "api_token.created")
    assert_who_when_where(event, member["id"])
    assert (event.target_type, event.target_id) == ("apitoken", str(created.get_json()["id"]))


def test_no_password_or_token_secret_reaches_the_audit_table_or_the_log(app_db, member, browser, new_browser, audit_log):
    wrong_password = "a wrong but secret guess"
    new_password = "the brand new secret passphrase"
    browser.post("/login", {"email": member["email"], "password": wrong_password})
    browser.login(member["email"], factories.PASSWORD)
    page_token = browser.post("/account/tokens", {"name": "laptop"}).get_data(as_text=True)
    api_secret = new_browser().client.post("/api/v1/auth/tokens", json={
        "email": member["email"], "password": factories.PASSWORD}).get_json()["token"]
    browser.post("/account/password", {"current_password": factories.PASSWORD,
                                       "new_password": new_password, "confirm": new_password})
    anonymous = new_browser()
    anonymous.post("/password/forgot", {"email": member["email"]})
    with app_db() as session:
        from exchange.notifications.models import OutboxMessage

        reset_mail = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        reset_secret = reset_mail.payload["body"].split("/password/reset/")[1].split()[0]
        rows = session.execute(sa.select(AuditEvent.__table__)).all()

    page_secret = re.search(r'id="new-token">([^<]+)<', page_token).group(1)
    table = "\n".join(repr(row) for row in rows)
    log = "\n".join(audit_lines(audit_log)) + audit_log.text
    assert len(rows) >= 6 and audit_lines(audit_log)
    for secret in (factories.PASSWORD, wrong_password, new_password, page_secret, api_secret, reset_secret):
        assert secret not in table
        assert secret not in log


@pytest.mark.parametrize("face", ["page", "api"])
def test_cr_and_lf_in_a_submitted_e_mail_cannot_forge_log_lines(app_db, browser, audit_log, face):
    forged = "mallory@example.cn\r\naudit action=login.succeeded actor=1\n"
    if face == "page":
        browser.post("/login", {"email": forged, "password": "wrong guess"})
    else:
        browser.client.post("/api/v1/auth/tokens", json={"email": forged, "password": "wrong guess"})

    lines = [line for line in audit_lines(audit_log) if "login.failed" in line]
    assert len(lines) == 1
    assert "\r" not in lines[0] and "\n" not in lines[0]
    assert re.search(r"mallory@example\.cn\\+r\\+naudit action=login\.succeeded", lines[0]), lines[0]


# Append-only -------------------------------------------------------------------------------

@pytest.fixture
def one_event(app_db: Any, member: dict[str, Any], browser: Any) -> int:
    browser.login(member["email"], factories.PASSWORD)
    return the_event(app_db, "login.succeeded").id


def test_an_audit_event_cannot_be_changed_through_the_orm(app_db, one_event):
    with app_db() as session:
        event = session.get(AuditEvent, one_event)
        event.action = "nothing.happened"
        with pytest.raises(AuditTrailIsAppendOnly):
            session.flush()
        session.rollback()
    assert the_event(app_db, "login.succeeded").id == one_event


def test_an_audit_event_cannot_be_deleted_through_the_orm(app_db, one_event):
    with app_db() as session:
        session.delete(session.get(AuditEvent, one_event))
        with pytest.raises(AuditTrailIsAppendOnly):
            session.flush()
        session.rollback()
    assert the_event(app_db, "login.succeeded").id == one_event


@pytest.mark.parametrize("statement", [
    sa.update(AuditEvent).values(action="nothing.happened"),
    sa.delete(AuditEvent),
], ids=["bulk update", "bulk delete"])
def test_audit_events_cannot_be_changed_or_deleted_by_orm_bulk_statements(app_db, one_event, statement):
    with app_db() as session:
        with pytest.raises(AuditTrailIsAppendOnly):
            session.execute(statement)
        session.rollback()
    assert the_event(app_db, "login.succeeded").id == one_event


def test_what_happens_outside_a_request_is_recorded_without_an_address_even_after_one(app_db, member, browser):
    from exchange.accounts.services import set_user_disabled

    browser.post("/login", {"email": member["email"], "password": factories.PASSWORD}, **FROM_ADDRESS)
    with app_db() as session:  # as the command line or the worker would
        set_user_disabled(session, factories.platform_admin(session), member["id"], True)

    assert the_event(app_db, "login.succeeded").ip_address == ADDRESS
    assert the_event(app_db, "user.disabled").ip_address == ""

