"""Bearer tokens of the API: random, hashed, listed without secrets, revocable, expiring.

quality.md, security checks "tokens" and "CSRF" (a token-authenticated call ignores the session
cookie, a cookie-authenticated unsafe call needs its CSRF token) and the one error shape.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts import services as account_services
from exchange.accounts.models import ApiToken, PasswordReset
from exchange.db import utcnow
from exchange.models import metadata
from tests import factories

URLSAFE_256_BITS = re.compile(r"^[A-Za-z0-9_-]{43,}$")  # secrets.token_urlsafe(32): 43 characters


@pytest.fixture
def member(app_db: Any) -> dict[str, Any]:
    with app_db() as session:
        user = factories.organization(session).owner
        return {"id": user.id, "email": user.email}


def create_token(browser: Any, email: str, password: str = factories.PASSWORD, name: str = "laptop") -> Any:
    return browser.client.post("/api/v1/auth/tokens", json={"email": email, "password": password, "name": name})


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_error_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape of the API: {"error": {"code", "message"[, "fields"]}} and nothing else."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    if "fields" in error:
        assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages)
                   for messages in error["fields"].values())
    if code is not None:
        assert error["code"] == code
    return error


def test_an_e_mail_and_password_buy_a_bearer_token_that_identifies_the_caller(member, browser):
    created = create_token(browser, member["email"])

    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "laptop" and body["prefix"] == body["token"][:8]
    me = browser.client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.get_json()["email"] == member["email"]


def test_a_token_carries_at_least_128_random_bits(member, browser):
    secrets = {create_token(browser, member["email"]).get_json()["token"] for _ in range(5)}

    assert len(secrets) == 5
    assert all(URLSAFE_256_BITS.match(secret) for secret in secrets)  # 43 × 6 bits = 258 bits


def test_a_token_expires_after_the_configured_lifetime(app, member, browser):
    body = create_token(browser, member["email"]).get_json()
    from datetime import datetime

    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert abs(lifetime - app.config["API_TOKEN_LIFETIME"]) < timedelta(minutes=1)
    assert app.config["API_TOKEN_LIFETIME"] <= timedelta(days=366)


def test_only_a_hash_of_the_token_is_stored_anywhere(app_db, member, browser):
    secret = create_token(browser, member["email"]).get_json()["token"]
    browser.client.get("/api/v1/me", headers=bearer(secret))  # a use updates the row too

    with app_db() as session:
        everything = "\n".join(repr(row) for table in metadata.sorted_tables
                               for row in session.execute(sa.select(table)).all())
    assert secret not in everything
    assert secret[8:] not in everything  # only the 8-character prefix is kept, to recognise a token by


def test_tokens_are_listed_without_their_secrets(member, browser):
    first = create_token(browser, member["email"], name="first").get_json()["token"]
    second = create_token(browser, member["email"], name="second").get_json()["token"]

    listed = browser.client.get("/api/v1/auth/tokens", headers=bearer(first))

    assert listed.status_code == 200
    assert [item["name"] for item in listed.get_json()] == ["second", "first"]
    assert all("token" not in item for item in listed.get_json())
    text = listed.get_data(as_text=True)
    assert first not in text and second not in text


def test_a_revoked_token_is_refused_at_once(member, browser):
    created = create_token(browser, member["email"]).get_json()
    secret = created["token"]

    revoked = browser.client.delete(f"/api/v1/auth/tokens/{created['id']}", headers=bearer(secret))

    assert revoked.status_code == 204
    refused = browser.client.get("/api/v1/me", headers=bearer(secret))
    assert_error_shape(refused, 401, "invalid_token")
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused(app_db, member, browser):
    secret = create_token(browser, member["email"]).get_json()["token"]
    with app_db() as session:
        session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    assert_error_shape(browser.client.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")


def test_the_token_of_a_disabled_user_is_refused(app_db, member, browser):
    secret = create_token(browser, member["email"]).get_json()["token"]
    with app_db() as session:
        account_services.set_user_disabled(session, factories.platform_admin(session), member["id"], True)

    assert_error_shape(browser.client.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")


def test_a_disabled_user_enabled_again_needs_new_tokens(app_db, member, browser):
    secret = create_token(browser, member["email"]).get_json()["token"]
    with app_db() as session:
        admin = factories.platform_admin(session)
        account_services.set_user_disabled(session, admin, member["id"], True)
        account_services.set_user_disabled(session, admin, member["id"], False)

    assert_error_shape(browser.client.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")
    assert create_token(browser, member["email"]).status_code == 201


def test_a_password_change_revokes_every_token_of_the_user(app_db, member, browser, new_browser):
    secrets = [create_token(browser, member["email"], name=name).get_json()["token"] for name in ("cli", "laptop")]
    page = new_browser()
    page.login(member["email"], factories.PASSWORD)

    changed = page.post("/account/password", {"current_password": factories.PASSWORD,
                                              "new_password": "another long passphrase",
                                              "confirm": "another long passphrase"})

    assert changed.status_code == 302
    for secret in secrets:
        assert_error_shape(browser.client.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")
    listed = browser.client.get("/api/v1/auth/tokens", headers=bearer(
        create_token(browser, member["email"], password="another long passphrase").get_json()["token"]))
    assert [item["revoked_at"] is not None for item in listed.get_json()] == [False, True, True]


def test_a_password_reset_revokes_every_token_of_the_user(app_db, member, browser):
    secret = create_token(browser, member["email"]).get_json()["token"]
    with app_db() as session:
        account_services.request_password_reset(session, factories.platform_admin(session), member["email"])
        [reset] = session.scalars(sa.select(PasswordReset)).all()
        reset.token_hash = account_services.hash_secret("known-reset-secret")  # the mailed secret, for the test
        session.commit()
        account_services.reset_password(session, factories.platform_admin(session), "known-reset-secret",
                                        "another long passphrase")

    assert_error_shape(browser.client.get("/api/v1/me", headers=bearer(secret)), 401, "invalid_token")


def test_other_users_keep_their_tokens(app_db, member, browser):
    with app_db() as session:
        other = factories.organization(session).owner.email
    kept = create_token(browser, other).get_json()["token"]
    with app_db() as session:
        account_services.set_user_disabled(session, factories.platform_admin(session), member["id"], True)

    assert browser.client.get("/api/v1/me", headers=bearer(kept)).status_code == 200


@pytest.mark.parametrize("parameter", ["access_token", "token", "bearer", "api_key"])
def test_a_token_in_the_query_string_is_ignored(member, browser, parameter):
    secret = create_token(browser, member["email"]).get_json()["token"]

    answer = browser.client.get(f"/api/v1/me?{parameter}={secret}")

    assert_error_shape(answer, 401)


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "Token abc", ""])
def test_a_bad_authorization_header_is_refused(member, browser, header):
    assert_error_shape(browser.client.get("/api/v1/me", headers={"Authorization": header}), 401, "invalid_token")


# The session cookie and the API ------------------------------------------------------------

def test_a_bad_bearer_token_is_refused_even_with_a_logged_in_session_cookie(member, browser):
    browser.login(member["email"], factories.PASSWORD)
    assert browser.client.get("/api/v1/me").status_code == 200  # the cookie alone is a session

    answer = browser.client.get("/api/v1/me", headers=bearer("not-a-real-token"))

    assert_error_shape(answer, 401, "invalid_token")


def test_a_bearer_token_decides_who_calls_whatever_the_cookie_says(app_db, member, browser):
    with app_db() as session:
        other = factories.organization(session).owner.email
    secret = create_token(browser, other).get_json()["token"]
    browser.login(member["email"], factories.PASSWORD)

    me = browser.client.get("/api/v1/me", headers=bearer(secret))

    assert me.get_json()["email"] == other


def test_a_cookie_session_needs_its_csrf_token_for_unsafe_api_calls(app_db, member, browser):
    token_id = create_token(browser, member["email"]).get_json()["id"]
    browser.login(member["email"], factories.PASSWORD)

    forged = browser.client.delete(f"/api/v1/auth/tokens/{token_id}")  # e.g. from another site's page

    assert_error_shape(forged, 400, "csrf_failed")
    with app_db() as session:
        assert session.get(ApiToken, token_id).revoked_at is None
    assert browser.api("DELETE", f"/api/v1/auth/tokens/{token_id}").status_code == 204


def test_a_logged_in_browser_cannot_be_made_to_buy_a_token_without_its_csrf_token(member, browser):
    browser.login(member["email"], factories.PASSWORD)

    assert_error_shape(create_token(browser, member["email"]), 400, "csrf_failed")


def test_a_bearer_call_needs_no_csrf_token(member, browser):
    created = create_token(browser, member["email"]).get_json()
    browser.login(member["email"], factories.PASSWORD)

    answer = browser.client.delete(f"/api/v1/auth/tokens/{created['id']}", headers=bearer(created["token"]))

    assert answer.status_code == 204


# The one error shape ---------------------------------------------------------------------------

def test_errors_of_the_token_api_share_one_shape(member, browser):
    secret = create_token(browser, member["email"]).get_json()["token"]

    assert_error_shape(create_token(browser, member["email"], password="wrong password"), 422, "invalid_credentials")
    missing = assert_error_shape(browser.client.post("/api/v1/auth/tokens", json={"email": member["email"]}),
                                 422, "validation_failed")
    assert "password" in missing["fields"]
    extra = assert_error_shape(browser.client.post("/api/v1/auth/tokens", json={
        "email": member["email"], "password": factories.PASSWORD, "user_id": 1}), 422, "validation_failed")
    assert "user_id" in extra["fields"]
    assert_error_shape(browser.client.get("/api/v1/auth/tokens"), 401)
    assert_error_shape(browser.client.delete("/api/v1/auth/tokens/999999", headers=bearer(secret)), 404, "not_found")
    assert_error_shape(browser.client.put("/api/v1/auth/tokens", headers=bearer(secret)), 405)
    assert_error_shape(browser.client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_someone_elses_token_cannot_be_revoked_or_seen(app_db, member, browser):
    with app_db() as session:
        other = factories.organization(session).owner.email
    mine = create_token(browser, member["email"]).get_json()
    theirs = create_token(browser, other).get_json()

    answer = browser.client.delete(f"/api/v1/auth/tokens/{theirs['id']}", headers=bearer(mine["token"]))

    assert_error_shape(answer, 404, "not_found")
    assert browser.client.get("/api/v1/me", headers=bearer(theirs["token"])).status_code == 200
    listed = browser.client.get("/api/v1/auth/tokens", headers=bearer(mine["token"])).get_json()
    assert [item["id"] for item in listed] == [mine["id"]]
