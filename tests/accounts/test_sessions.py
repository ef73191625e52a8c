"""Sessions end for real: captured cookies die at logout and at every change of credentials or rights.

quality.md, security check "sessions". Each "thief" below is a second browser holding a copy of
the cookies that the person's browser held at some moment, as if they had been captured then.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts import services as account_services
from exchange.accounts.models import ApiToken, Role
from tests import factories
from tests.conftest import copy_cookies

NEW_PASSWORD = "a completely new passphrase"


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings per test, given with `@pytest.mark.parametrize("app_overrides", [...], indirect=True)`."""
    return getattr(request, "param", {})


@pytest.fixture
def member(app_db: Any) -> dict[str, Any]:
    with app_db() as session:
        user = factories.organization(session).owner
        return {"id": user.id, "email": user.email}


def logged_in(browser: Any) -> bool:
    """Whether the browser's cookies still open the account page (and the API's view of them agrees)."""
    page = browser.get("/account")
    api = browser.client.get("/api/v1/me")
    assert (page.status_code == 200) == (api.status_code == 200), (page.status_code, api.status_code)
    if page.status_code == 200:
        return True
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert api.status_code == 401
    return False


def test_a_session_cookie_captured_before_logout_is_refused_after_it(member, browser, new_browser):
    browser.login(member["email"], factories.PASSWORD)
    thief = copy_cookies(browser, new_browser())
    assert logged_in(thief)
    unused_copy = copy_cookies(browser, new_browser())

    assert browser.post("/logout").status_code == 302

    assert not logged_in(thief)
    assert not logged_in(unused_copy)
    assert not logged_in(browser)


def test_logout_ends_the_sessions_on_every_other_device_too(member, new_browser):
    laptop, phone = new_browser(), new_browser()
    laptop.login(member["email"], factories.PASSWORD)
    phone.login(member["email"], factories.PASSWORD)

    laptop.post("/logout")

    assert not logged_in(phone)


def test_a_password_change_ends_every_other_session_but_keeps_this_one(member, browser, new_browser):
    browser.login(member["email"], factories.PASSWORD)
    thief = copy_cookies(browser, new_browser())
    assert logged_in(thief)

    changed = browser.post("/account/password", {"current_password": factories.PASSWORD,
                                                 "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert changed.status_code == 302
    assert not logged_in(thief)
    assert logged_in(browser)


def test_disabling_a_user_ends_their_sessions(app_db, member, browser, new_browser):
    browser.login(member["email"], factories.PASSWORD)
    thief = copy_cookies(browser, new_browser())

    with app_db() as session:
        account_services.set_user_disabled(session, factories.platform_admin(session), member["id"], True)

    assert not logged_in(browser)
    assert not logged_in(thief)


def test_changing_an_admins_role_ends_their_sessions(app_db, browser, new_browser):
    with app_db() as session:
        admin = factories.admin(session, "BJ")
        admin_id, email = admin.id, admin.email
    browser.login(email, factories.PASSWORD)
    thief = copy_cookies(browser, new_browser())

    with app_db() as session:
        account_services.set_user_role(session, factories.platform_admin(session), admin_id, Role.REGIONAL_ADMIN, "TJ")

    assert not logged_in(browser)
    assert not logged_in(thief)
    browser.login(email, factories.PASSWORD)  # a new login carries the new rights
    assert "TJ" in browser.get("/account").get_data(as_text=True)


def only_the_remember_cookie(browser: Any, new_browser: Any) -> Any:
    return copy_cookies(browser, new_browser(), names=("remember_token",))


def test_a_remember_me_cookie_captured_before_logout_is_refused_after_it(member, browser, new_browser):
    browser.login(member["email"], factories.PASSWORD, remember=True)
    assert browser.client.get_cookie("remember_token") is not None
    thief = only_the_remember_cookie(browser, new_browser)
    assert logged_in(thief)  # the remember-me cookie alone opens a session
    late_thief = only_the_remember_cookie(browser, new_browser)

    browser.post("/logout")

    assert not logged_in(late_thief)
    assert not logged_in(thief)


@pytest.mark.parametrize("change", ["password change", "disabling"])
def test_a_remember_me_cookie_dies_with_a_password_change_or_disabling(app_db, member, browser, new_browser, change):
    browser.login(member["email"], factories.PASSWORD, remember=True)
    thief = only_the_remember_cookie(browser, new_browser)

    if change == "password change":
        browser.post("/account/password", {"current_password": factories.PASSWORD,
                                           "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    else:
        with app_db() as session:
            account_services.set_user_disabled(session, factories.platform_admin(session), member["id"], True)

    assert not logged_in(thief)


# Timeouts ------------------------------------------------------------------------------------

def test_timeouts_are_well_below_the_framework_defaults(app):
    assert app.config["PERMANENT_SESSION_LIFETIME"] <= timedelta(hours=1)  # Flask's default: 31 days
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] <= timedelta(hours=24)
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)  # Flask-Login's default: 365 days


def test_an_idle_session_expires_while_an_active_one_is_renewed(app, member, browser, clock):
    idle = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    browser.login(member["email"], factories.PASSWORD)

    for step in (1, 2, 3):  # active every two thirds of the idle time: well past one idle time in all
        clock.offset = timedelta(seconds=int(step * idle * 2 / 3))
        assert logged_in(browser), f"logged out after {clock.offset} of activity"

    clock.offset += timedelta(seconds=int(idle) + 60)
    assert not logged_in(browser)


def test_a_session_older_than_the_absolute_lifetime_ends_however_active(app, member, browser):
    lifetime = app.config["SESSION_ABSOLUTE_LIFETIME"]
    browser.login(member["email"], factories.PASSWORD)
    now = datetime.now(timezone.utc)

    with browser.client.session_transaction() as session:
        session["login_at"] = (now - lifetime + timedelta(minutes=5)).timestamp()
    assert logged_in(browser)

    with browser.client.session_transaction() as session:
        session["login_at"] = (now - lifetime - timedelta(minutes=1)).timestamp()
    assert not logged_in(browser)


SHORT_LIFETIMES = {"REMEMBER_COOKIE_DURATION": timedelta(seconds=1), "SESSION_ABSOLUTE_LIFETIME": timedelta(seconds=1)}


@pytest.mark.parametrize("app_overrides", [SHORT_LIFETIMES], indirect=True)
def test_the_server_refuses_a_remember_me_cookie_older_than_its_lifetime(member, browser, new_browser, clock):
    # Flask-Login's remember-me cookie carries no time of its own; its Expires attribute binds
    # only an honest browser. A captured copy must still die when the lifetime is over.
    browser.login(member["email"], factories.PASSWORD, remember=True)
    thief = only_the_remember_cookie(browser, new_browser)
    late_thief = only_the_remember_cookie(browser, new_browser)
    assert logged_in(thief)

    clock.offset += timedelta(seconds=2.1)

    assert not logged_in(late_thief)
    assert not logged_in(thief)  # nor does a session it opened before outlive it


# Re-authentication before sensitive actions ------------------------------------------------

def test_creating_a_token_after_a_remember_me_login_asks_for_the_password_again(app_db, member, browser):
    browser.login(member["email"], factories.PASSWORD, remember=True)
    browser.client.delete_cookie("session")  # the browser was closed; only the remember-me cookie is left
    assert browser.get("/account").status_code == 200

    refused = browser.post("/account/tokens", {"name": "laptop"})

    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/reauthenticate")
    with app_db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0

    assert browser.post("/reauthenticate", {"password": factories.PASSWORD}).status_code == 302
    created = browser.post("/account/tokens", {"name": "laptop"})

    assert created.status_code == 200
    assert 'id="new-token"' in created.get_data(as_text=True)


def test_re_authentication_with_a_wrong_password_does_not_refresh_the_session(app_db, member, browser):
    browser.login(member["email"], factories.PASSWORD, remember=True)
    browser.client.delete_cookie("session")

    browser.post("/reauthenticate", {"password": "not the password at all"})

    assert browser.post("/account/tokens", {"name": "laptop"}).headers["Location"].startswith("/reauthenticate")


# Cookie flags ----------------------------------------------------------------------------------

def set_cookies(response: Any) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_session_and_remember_cookies_are_http_only_and_same_site_lax(member, browser):
    cookies = set_cookies(browser.login(member["email"], factories.PASSWORD, remember=True))

    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name], cookies[name]
        assert "SameSite=Lax" in cookies[name], cookies[name]


@pytest.mark.parametrize("app_overrides", [{"SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True}],
                         indirect=True)
def test_with_production_settings_the_cookies_are_secure_only(member, browser):
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE

    cookies = set_cookies(browser.login(member["email"], factories.PASSWORD, remember=True))

    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name], cookies[name]
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
