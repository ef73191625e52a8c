"""Links in mail come from the configured public address, never from the request (issue 15 item 2),
and the secrets in them never reach the log (issue 15 item 3).

quality.md, security check "links in mail".
"""
from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.notifications.models import OutboxMessage
from exchange.notifications.outbox import drain
from tests import factories

PUBLIC_URL = "https://exchange.example.cn"
EVIL = {"HTTP_HOST": "evil.example"}
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"PUBLIC_URL": PUBLIC_URL}


def links_mailed_to(app_db: Any, email: str) -> list[str]:
    with app_db() as session:
        mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.topic == "mail")).all()
        return [link for mail in mails if mail.payload["to"] == email for link in LINK.findall(mail.payload["body"])]


@pytest.fixture
def owner(app_db: Any) -> dict[str, Any]:
    with app_db() as session:
        user = factories.organization(session).owner
        return {"email": user.email, "organization_id": user.organization_id}


def bearer(client: Any, email: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/tokens", json={"email": email, "password": factories.PASSWORD}).get_json()
    return {"Authorization": f"Bearer {token['token']}"}


def test_a_reset_asked_for_under_a_forged_host_links_to_the_public_site(owner, app_db, browser):
    csrf_token = browser.csrf_token("/password/forgot")
    # The session cookie that the CSRF token belongs to was set for the real host; a forger sends it anyway.
    browser.client.set_cookie("session", browser.client.get_cookie("session").value, domain="evil.example")
    answer = browser.client.post("/password/forgot", data={"email": owner["email"], "csrf_token": csrf_token},
                                 environ_overrides=EVIL)

    assert answer.status_code == 200
    [link] = links_mailed_to(app_db, owner["email"])
    assert link.startswith(f"{PUBLIC_URL}/password/reset/")
    assert browser.get(link.removeprefix(PUBLIC_URL)).status_code == 200  # and the link works


def test_an_invitation_sent_under_a_forged_host_links_to_the_public_site(owner, app_db, browser):
    sent = browser.client.post(f"/api/v1/organizations/{owner['organization_id']}/invitations",
                               json={"email": "colleague@example.cn"}, environ_overrides=EVIL,
                               headers=bearer(browser.client, owner["email"]))

    assert sent.status_code == 201, sent.get_json()
    [link] = links_mailed_to(app_db, "colleague@example.cn")
    assert link.startswith(f"{PUBLIC_URL}/invitations/")


def test_a_notification_mailed_from_a_request_under_a_forged_host_links_to_the_public_site(app, app_db):
    from exchange.notifications.services import notify

    with app_db() as session:
        user = factories.organization(session).owner
        with app.test_request_context("/", environ_base=EVIL):
            notify(session, user.id, lambda: "subject", lambda: "body", "/achievements/7")
        session.commit()
        email = user.email

    assert links_mailed_to(app_db, email) == [f"{PUBLIC_URL}/achievements/7"]


def test_the_worker_and_the_command_line_build_the_same_links_without_a_request(app):
    from exchange.links import public_url

    with app.app_context():
        assert public_url("accounts.reset_password", token="abc") == f"{PUBLIC_URL}/password/reset/abc"


@pytest.mark.parametrize("app_overrides", [{"PUBLIC_URL": PUBLIC_URL, "TRUSTED_HOSTS": ["exchange.example.cn"]}])
def test_requests_for_an_unknown_host_are_refused(app):
    client = app.test_client()

    assert client.get("/", environ_overrides=EVIL).status_code == 400
    assert client.post("/password/forgot", data={"email": "x@example.cn"}, environ_overrides=EVIL).status_code == 400
    assert client.get("/", environ_overrides={"HTTP_HOST": "exchange.example.cn"}).status_code == 200


def test_the_mail_log_shows_the_mail_but_not_its_secret(owner, app, app_db, browser, caplog):
    browser.post("/password/forgot", {"email": owner["email"]})
    [link] = links_mailed_to(app_db, owner["email"])
    token = link.rsplit("/", 1)[1]

    with caplog.at_level(logging.INFO, logger="exchange.worker"), app_db() as session:
        assert drain(session) >= 1

    logged = caplog.text
    assert owner["email"] in logged and f"{PUBLIC_URL}/password/reset/" in logged
    assert token not in logged
