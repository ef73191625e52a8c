"""One address, one account, one login limit, however the address is spelt (issue 15 item 1).

quality.md, security check "login": limits keyed on the normalised e-mail (NFKC, IDNA domain, case).
"""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts.models import Invitation, User
from exchange.accounts.services import canonical_email, normalize_email
from exchange.errors import ValidationFailed
from exchange.notifications.models import OutboxMessage
from tests import factories

EMAIL = "enterprise.he@demo.jjj-exchange.cn"
SPELLINGS = {
    "full-width domain": "enterprise.he@ｄｅｍｏ.jjj-exchange.cn",
    "ideographic full stop": "enterprise.he@demo。jjj-exchange.cn",
    "full-width full stop": "enterprise.he@demo．jjj-exchange.cn",
    "full-width local part": "ｅｎｔｅｒｐｒｉｓｅ.he@demo.jjj-exchange.cn",
    "upper case": "Enterprise.HE@DEMO.JJJ-Exchange.CN",
    "spaces around": "  enterprise.he@demo.jjj-exchange.cn ",
}


def credentials(email: str, password: str) -> dict[str, str]:
    return {"email": email, "password": password}


@pytest.fixture
def account(app_db: Any) -> str:
    with app_db() as session:
        return factories.organization(session, kind="enterprise", email=EMAIL).owner.email


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_is_the_one_canonical_address(spelling):
    assert canonical_email(spelling) == EMAIL


def test_a_domain_in_chinese_is_kept_in_one_form_whichever_way_it_comes():
    assert canonical_email("zhang@例子。中国") == canonical_email("ZHANG@例子.中国") == "zhang@例子.中国"
    assert canonical_email("zhang@xn--fsqu00a.xn--fiqs8s") == "zhang@例子.中国"


def test_text_that_is_no_address_still_has_one_key():
    assert canonical_email("ＮＯＴ ＡＮ ＡＤＤＲＥＳＳ") == "not an address"
    assert canonical_email("x@-bad-.") == "x@-bad-."
    assert canonical_email(None) == ""


def test_an_absurdly_long_input_is_cut_before_it_is_worked_on():
    long_input = "x" * 1_000_000 + "@example.cn"

    assert len(canonical_email(long_input)) <= 4 * 254
    with pytest.raises(ValidationFailed):
        normalize_email(long_input)


def test_validation_keeps_the_canonical_spelling():
    assert normalize_email("Enterprise.He@ｄｅｍｏ。jjj-exchange.cn") == EMAIL


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_after_five_wrong_guesses_no_spelling_gets_in_through_the_api_or_the_page(account, browser, spelling):
    for _ in range(5):
        assert browser.client.post("/api/v1/auth/tokens", json=credentials(EMAIL, "wrong guess")).status_code == 422

    api = browser.client.post("/api/v1/auth/tokens", json=credentials(spelling, factories.PASSWORD))
    page = browser.post("/login", credentials(spelling, factories.PASSWORD))

    assert api.status_code == 429
    assert page.status_code == 429


def test_guesses_under_different_spellings_count_against_one_limit(account, browser):
    for spelling in list(SPELLINGS.values())[:5]:
        assert browser.post("/login", credentials(spelling, "wrong guess")).status_code == 422

    assert browser.post("/login", credentials(EMAIL, factories.PASSWORD)).status_code == 429


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_any_spelling_with_the_right_password_is_the_same_account(account, app_db, browser, spelling):
    token = browser.client.post("/api/v1/auth/tokens", json=credentials(spelling, factories.PASSWORD))

    assert token.status_code == 201
    me = browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert me.get_json()["email"] == EMAIL


def test_registering_another_spelling_of_a_taken_address_makes_no_second_account(account, app_db, browser):
    with app_db() as session:
        application = factories.application(session, email=SPELLINGS["full-width domain"])
        users_before = session.scalar(sa.select(sa.func.count()).select_from(User))
        last_mail = session.scalar(sa.select(sa.func.max(OutboxMessage.id)))
    answer = browser.client.post("/api/v1/organizations", json={
        "name": application.name, "credit_code": application.credit_code, "kind": application.kind,
        "region": application.region, "district": application.district_id, "member_name": application.member_name,
        "member_email": application.member_email, "password": application.password})

    assert answer.status_code == 202
    with app_db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
        told = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > last_mail)).all()
        assert [message.payload["to"] for message in told] == [EMAIL]  # the holder hears of the attempt


def test_a_new_registration_is_stored_in_the_canonical_spelling(app_db):
    with app_db() as session:
        owner = factories.organization(session, email="Zhang.San@ＥＸＡＭＰＬＥ。cn").owner
        assert owner.email == "zhang.san@example.cn"


def test_inviting_another_spelling_of_a_member_is_refused(account, app_db):
    from exchange.orgs.services import invite_member

    with app_db() as session:
        owner = session.scalar(sa.select(User).where(User.email == EMAIL))
        with pytest.raises(ValidationFailed):
            invite_member(session, owner, owner.organization_id, SPELLINGS["ideographic full stop"])


def test_an_invitation_is_kept_in_the_canonical_spelling(account, db):
    from exchange.orgs.services import invite_member

    owner = db.scalar(sa.select(User).where(User.email == EMAIL))
    invite_member(db, owner, owner.organization_id, "Colleague@ｄｅｍｏ。jjj-exchange.cn")
    assert db.scalar(sa.select(Invitation.email)) == "colleague@demo.jjj-exchange.cn"


def test_a_reset_asked_for_under_another_spelling_reaches_the_account(account, app_db, browser):
    answer = browser.post("/password/forgot", {"email": SPELLINGS["full-width domain"]})

    assert answer.status_code == 200
    with app_db() as session:
        mails = [message.payload for message in session.scalars(sa.select(OutboxMessage))]
        assert any(mail["to"] == EMAIL and "/password/reset/" in mail["body"] for mail in mails)
