"""Logging in: a fresh session, one answer for every wrong guess, attempt limits, any password.

quality.md, security checks "login", "passwords" and the first line of "sessions".
"""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts import services as account_services
from exchange.accounts.models import User
from tests import factories
from tests.conftest import REDIS_URL, database_url, make_app, require_service


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings per test, given with `@pytest.mark.parametrize("app_overrides", [...], indirect=True)`."""
    return getattr(request, "param", {})


CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def comparable(body: str, *variable_parts: str) -> str:
    """A page with what legitimately differs (the typed e-mail, CSRF tokens) blanked out."""
    for part in variable_parts:
        body = body.replace(part, "…")
    return CSRF_VALUE.sub(r"\1…\2", body)


def a_user(app_db: Any, password: str = factories.PASSWORD) -> str:
    with app_db() as session:
        return factories.organization(session).owner.email


def login_form(email: str, password: str) -> dict[str, str]:
    return {"email": email, "password": password}


def registration_form(application: Any) -> dict[str, str]:
    return {"name": application.name, "credit_code": application.credit_code, "kind": application.kind,
            "region": application.region, "district": str(application.district_id),
            "member_name": application.member_name, "member_email": application.member_email,
            "password": application.password, "confirm": application.password}


def registration_json(application: Any) -> dict[str, Any]:
    return {"name": application.name, "credit_code": application.credit_code, "kind": application.kind,
            "region": application.region, "district": application.district_id,
            "member_name": application.member_name, "member_email": application.member_email,
            "password": application.password}


# A working login, in a fresh session ----------------------------------------------------

def test_a_member_logs_in_and_reaches_their_account(app_db, browser):
    email = a_user(app_db)

    response = browser.login(email, factories.PASSWORD)

    assert response.headers["Location"] == "/"
    account = browser.get("/account")
    assert account.status_code == 200
    assert email in account.get_data(as_text=True)


def test_logging_in_starts_a_fresh_session_so_nothing_planted_before_survives(app_db, browser):
    email = a_user(app_db)
    browser.get("/login")
    with browser.client.session_transaction() as session:  # e.g. a value fixed by an attacker
        session["planted"] = "by someone else"
        session["csrf_token"] = "a-token-the-attacker-knows"

    browser.login(email, factories.PASSWORD)

    with browser.client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "a-token-the-attacker-knows"
        assert session.get("_user_id", "").startswith(f"{_user_id(app_db, email)}:")


def _user_id(app_db: Any, email: str) -> int:
    with app_db() as session:
        return session.scalar(sa.select(User.id).where(User.email == email))


# The same answer whether the e-mail has an account or not --------------------------------

def test_login_gives_the_same_answer_for_an_unknown_e_mail_and_a_wrong_password(app_db, new_browser):
    email = a_user(app_db)
    unknown = "nobody-" + email

    wrong_password = new_browser().post("/login", login_form(email, "not the password at all"))
    unknown_email = new_browser().post("/login", login_form(unknown, "not the password at all"))

    assert wrong_password.status_code == unknown_email.status_code == 422
    assert comparable(wrong_password.get_data(as_text=True), email) == \
        comparable(unknown_email.get_data(as_text=True), unknown)


def test_the_token_api_gives_the_same_answer_for_an_unknown_e_mail_and_a_wrong_password(app_db, browser):
    email = a_user(app_db)

    wrong_password = browser.client.post("/api/v1/auth/tokens", json=login_form(email, "not the password at all"))
    unknown_email = browser.client.post("/api/v1/auth/tokens",
                                        json=login_form("nobody-" + email, "not the password at all"))

    assert wrong_password.status_code == unknown_email.status_code == 422
    assert wrong_password.get_json() == unknown_email.get_json()
    assert wrong_password.get_json()["error"]["code"] == "invalid_credentials"


def test_a_password_reset_request_gives_the_same_answer_for_known_and_unknown_e_mails(app_db, new_browser):
    email = a_user(app_db)
    unknown = "nobody-" + email

    known_answer = new_browser().post("/password/forgot", {"email": email})
    unknown_answer = new_browser().post("/password/forgot", {"email": unknown})

    assert known_answer.status_code == unknown_answer.status_code == 200
    assert comparable(known_answer.get_data(as_text=True), email) == \
        comparable(unknown_answer.get_data(as_text=True), unknown)


def test_registering_with_a_taken_e_mail_on_the_page_looks_like_a_new_registration(app_db, new_browser):
    taken = a_user(app_db)
    with app_db() as session:
        fresh_application = factories.application(session)
        taken_application = factories.application(session, email=taken)

    fresh = new_browser().post("/organizations/register", registration_form(fresh_application))
    again = new_browser().post("/organizations/register", registration_form(taken_application))

    assert fresh.status_code == again.status_code == 302
    assert fresh.headers["Location"] == again.headers["Location"] == "/organizations/registered"


def test_registering_with_a_taken_e_mail_through_the_api_looks_like_a_new_registration(app_db, browser):
    taken = a_user(app_db)
    with app_db() as session:
        fresh_application = factories.application(session)
        taken_application = factories.application(session, email=taken)

    fresh = browser.client.post("/api/v1/organizations", json=registration_json(fresh_application))
    again = browser.client.post("/api/v1/organizations", json=registration_json(taken_application))

    assert fresh.status_code == again.status_code == 202
    assert fresh.get_json() == again.get_json()


# Attempt limits ---------------------------------------------------------------------------

def test_the_sixth_attempt_on_one_account_is_refused_even_from_another_address(app_db, browser):
    email = a_user(app_db)
    for attempt in range(5):
        failed = browser.post("/login", login_form(email if attempt % 2 else email.upper(), "wrong guess"),
                              environ_base={"REMOTE_ADDR": f"198.51.100.{attempt + 1}"})
        assert failed.status_code == 422

    sixth = browser.post("/login", login_form(email, factories.PASSWORD),  # even the right password
                         environ_base={"REMOTE_ADDR": "203.0.113.77"})

    assert sixth.status_code == 429


def test_the_account_limit_counts_the_page_and_the_api_together(app_db, browser):
    email = a_user(app_db)
    for _ in range(3):
        assert browser.post("/login", login_form(email, "wrong guess")).status_code == 422
    for _ in range(2):
        assert browser.client.post("/api/v1/auth/tokens", json=login_form(email, "wrong guess")).status_code == 422

    refused = browser.client.post("/api/v1/auth/tokens", json=login_form(email, factories.PASSWORD))

    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"


def test_an_account_limit_leaves_other_accounts_alone(app_db, browser):
    attacked, other = a_user(app_db), a_user(app_db)
    for _ in range(5):
        browser.post("/login", login_form(attacked, "wrong guess"))

    assert browser.post("/login", login_form(attacked, factories.PASSWORD)).status_code == 429
    assert browser.post("/login", login_form(other, factories.PASSWORD)).status_code == 302


@pytest.mark.parametrize("app_overrides", [{"LOGIN_LIMIT_PER_ADDRESS": "3 per 15 minutes"}], indirect=True)
def test_one_address_trying_many_accounts_is_stopped_by_the_address_limit(app_db, browser):
    email = a_user(app_db)
    attacker = {"REMOTE_ADDR": "192.0.2.66"}
    for number in range(3):
        assert browser.post("/login", login_form(f"guess{number}@example.cn", "wrong guess"),
                            environ_base=attacker).status_code == 422

    refused = browser.post("/login", login_form(email, factories.PASSWORD), environ_base=attacker)
    from_elsewhere = browser.post("/login", login_form(email, factories.PASSWORD),
                                  environ_base={"REMOTE_ADDR": "192.0.2.67"})

    assert refused.status_code == 429
    assert from_elsewhere.status_code == 302


def _delete_limit_keys(client: Any, *markers: str) -> None:
    for marker in markers:
        for key in client.scan_iter(match=f"*{marker}*"):
            client.delete(key)


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_STORAGE_URI": REDIS_URL or "memory://"}], indirect=True)
def test_the_limits_hold_across_processes_that_share_redis(app, app_db, tmp_path):
    require_service(REDIS_URL is not None, "TEST_REDIS_URL is not set: login limits in shared storage are untested")
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    email = f"shared-{uuid.uuid4().hex[:12]}@example.cn"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    _delete_limit_keys(store, email, address)
    try:
        first_process = app.test_client()
        for _ in range(5):
            answer = first_process.post("/api/v1/auth/tokens", json=login_form(email, "wrong guess"),
                                        environ_base={"REMOTE_ADDR": address})
            assert answer.status_code == 422
        assert any(store.scan_iter(match=f"*{email}*")), "the account counter is not in Redis"

        # A second process: a separately created app whose limiter storage starts anew.
        second_process = make_app(database_url(tmp_path), RATELIMIT_STORAGE_URI=REDIS_URL).test_client()
        refused = second_process.post("/api/v1/auth/tokens", json=login_form(email, "wrong guess"),
                                      environ_base={"REMOTE_ADDR": "10.255.255.254"})

        assert refused.status_code == 429
    finally:
        _delete_limit_keys(store, email, address)


# Any password the person chooses ---------------------------------------------------------

LONG_PASSWORD = ("correct horse battery staple " * 40)[:1000]
UNICODE_PASSWORD = "пароль密码🔑 ñ"
LONG_UNICODE_PASSWORD = (UNICODE_PASSWORD * 100)[:1000]


@pytest.mark.parametrize("password", [LONG_PASSWORD, UNICODE_PASSWORD, LONG_UNICODE_PASSWORD],
                         ids=["1000 characters", "unicode", "1000 unicode characters"])
def test_long_and_unicode_passwords_round_trip_through_registration_and_login(app_db, new_browser, password):
    with app_db() as session:
        application = factories.application(session, password=password)
    registered = new_browser().post("/organizations/register", registration_form(application))
    assert registered.status_code == 302, registered.get_data(as_text=True)[:500]

    assert new_browser().post("/login", login_form(application.member_email, password)).status_code == 302
    token = new_browser().client.post("/api/v1/auth/tokens",
                                      json=login_form(application.member_email, password))
    assert token.status_code == 201
    # Nothing is cut off or normalised away: one character less is another password.
    assert new_browser().post("/login", login_form(application.member_email, password[:-1])).status_code == 422


def test_passwords_are_kept_as_salted_slow_hashes(app_db):
    from config import Config

    with app_db() as session:
        hashes = [factories.organization(session).owner.password_hash for _ in range(2)]
    assert factories.PASSWORD not in hashes[0] and hashes[0] != hashes[1]  # same password, own salt
    assert Config.PASSWORD_HASH_METHOD in ("scrypt", "argon2")  # the tests' faster hash is theirs only


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "0123456789", "only lowercase words"])
def test_there_are_no_composition_rules_only_a_minimum_length(app, password):
    from exchange.accounts.passwords import password_problem

    with app.app_context():
        assert password_problem(password) is None
        assert password_problem(password[:9]) is not None


def test_a_new_installation_has_no_default_accounts(app_db):
    with app_db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_disabled_users_cannot_log_in_and_are_told_nothing_more(app_db, new_browser):
    email = a_user(app_db)
    with app_db() as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == email))
        account_services.set_user_disabled(session, factories.platform_admin(session), user_id, True)

    disabled = new_browser().post("/login", login_form(email, factories.PASSWORD))
    wrong_password = new_browser().post("/login", login_form(email, "not the password at all"))
    api = new_browser().client.post("/api/v1/auth/tokens", json=login_form(email, factories.PASSWORD))

    assert disabled.status_code == 422
    assert comparable(disabled.get_data(as_text=True)) == comparable(wrong_password.get_data(as_text=True))
    assert api.status_code == 422 and api.get_json()["error"]["code"] == "invalid_credentials"
