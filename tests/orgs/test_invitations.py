"""Organisation owners invite colleagues by e-mail; the link creates the colleague's account."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from exchange.accounts.models import Invitation, User
from exchange.errors import Forbidden, NotFound
from exchange.notifications.models import OutboxMessage
from exchange.orgs import services
from tests import factories


def invitation_link(db, email: str) -> str:
    mail = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert mail.payload["to"] == email
    return re.search(r"http://localhost(/invitations/\S+)", mail.payload["body"]).group(1)


def test_the_owner_invites_a_colleague_who_joins_with_the_organisations_role(browser, db, new_browser):
    owner = factories.organization(db, kind="provider", region="TJ").owner
    browser.login(owner.email, factories.PASSWORD)

    sent = browser.post(f"/organizations/{owner.organization_id}/invitations", {"email": "colleague@example.cn"})
    assert sent.status_code == 302

    colleague = new_browser()
    link = invitation_link(db, "colleague@example.cn")
    assert "colleague@example.cn" in colleague.get(link).get_data(as_text=True)
    joined = colleague.post(link, {"display_name": "王同事", "password": "长密码长密码长密码长密码", "confirm": "长密码长密码长密码长密码"})
    assert joined.status_code == 302

    user = db.scalar(sa.select(User).where(User.email == "colleague@example.cn"))
    assert user.organization_id == owner.organization_id and user.role.value == "provider_member"
    assert not user.is_org_owner
    colleague.login("colleague@example.cn", "长密码长密码长密码长密码")
    assert colleague.get(link).status_code == 404  # used once


def test_only_the_owner_may_invite(db):
    registered = factories.organization(db)
    colleague = factories.member(db, registered.organization)
    with pytest.raises(Forbidden):
        services.invite_member(db, colleague, registered.organization.id, "someone@example.cn")
    other_owner = factories.organization(db).owner
    with pytest.raises(Forbidden):
        services.invite_member(db, other_owner, registered.organization.id, "someone@example.cn")


def test_an_expired_invitation_is_refused(browser, db):
    owner = factories.organization(db).owner
    services.invite_member(db, owner, owner.organization_id, "late@example.cn")
    link = invitation_link(db, "late@example.cn")
    invitation = db.scalar(sa.select(Invitation))
    invitation.expires_at = invitation.expires_at - timedelta(days=8)
    db.commit()
    assert browser.get(link).status_code == 404
    with pytest.raises(NotFound):
        services.find_invitation(db, owner, link.rsplit("/", 1)[1])
