"""Registration of an organisation and its review by the administrators of its region."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from exchange import policy
from exchange.accounts.models import User, Visitor
from exchange.errors import Conflict, Forbidden, NotFound, ValidationFailed
from exchange.notifications.models import OutboxMessage
from exchange.orgs import services
from exchange.orgs.models import Organization, OrganizationStatus
from tests import factories


def test_a_registration_starts_pending_with_its_owner_as_first_member(db):
    registered = services.register_organization(db, Visitor(), factories.application(db, kind="sme", region="HE"))

    assert registered.status is OrganizationStatus.PENDING
    assert registered.region_code == "HE"
    owner = db.scalar(sa.select(User).where(User.organization_id == registered.id))
    assert owner.is_org_owner and owner.role.value == "sme_member" and owner.region_code == "HE"
    assert owner.password_hash != factories.PASSWORD


def test_a_pending_organisation_cannot_publish_until_its_region_approves_it(db):
    registered = factories.organization(db, region="TJ", status="pending")
    assert not policy.can(registered.owner, policy.Action.ORGANIZATION_PUBLISH, registered.organization)

    services.approve_organization(db, factories.admin(db, "TJ"), registered.organization.id)

    assert policy.can(registered.owner, policy.Action.ORGANIZATION_PUBLISH, registered.organization)


def test_an_admin_of_another_region_is_refused(db):
    registered = factories.organization(db, region="TJ", status="pending")
    with pytest.raises(Forbidden):
        services.approve_organization(db, factories.admin(db, "BJ"), registered.organization.id)
    with pytest.raises(Forbidden):
        services.reject_organization(db, factories.admin(db, "HE"), registered.organization.id, "不符合")
    assert db.get(Organization, registered.organization.id).status is OrganizationStatus.PENDING


def test_members_and_visitors_do_not_even_learn_that_a_pending_organisation_exists(db):
    registered = factories.organization(db, region="BJ", status="pending")
    outsider = factories.organization(db, region="BJ").owner
    for actor in (Visitor(), outsider):
        with pytest.raises(NotFound):
            services.get_organization(db, actor, registered.organization.id)
        with pytest.raises(NotFound):
            services.approve_organization(db, actor, registered.organization.id)


def test_reviewing_twice_is_a_conflict(db):
    registered = factories.organization(db, region="BJ", status="pending")
    admin = factories.admin(db, "BJ")
    services.approve_organization(db, admin, registered.organization.id)
    with pytest.raises(Conflict):
        services.approve_organization(db, admin, registered.organization.id)
    with pytest.raises(Conflict):
        services.reject_organization(db, admin, registered.organization.id, "迟到的拒绝")


def test_a_rejection_needs_a_reason_that_the_applicant_then_reads(db):
    registered = factories.organization(db, region="HE", status="pending")
    admin = factories.admin(db, "HE")
    with pytest.raises(ValidationFailed) as error:
        services.reject_organization(db, admin, registered.organization.id, "   ")
    assert "reason" in error.value.fields

    services.reject_organization(db, admin, registered.organization.id, "统一社会信用代码与营业执照不符")

    seen = services.get_organization(db, registered.owner, registered.organization.id)
    assert seen.status is OrganizationStatus.REJECTED
    assert seen.rejection_reason == "统一社会信用代码与营业执照不符"
    mails = db.scalars(sa.select(OutboxMessage).where(OutboxMessage.payload["to"].as_string() == registered.owner.email))
    assert any("统一社会信用代码与营业执照不符" in mail.payload["body"] for mail in mails)


def test_the_owner_corrects_a_rejected_registration_and_it_returns_to_review(db):
    registered = factories.organization(db, region="BJ", status="rejected")
    changes = services.OrganizationChanges(name="更正后的机构名称", district_id=registered.organization.district_id)

    updated = services.update_organization(db, registered.owner, registered.organization.id, changes)

    assert updated.status is OrganizationStatus.PENDING and updated.name == "更正后的机构名称"


def test_an_approved_registration_is_no_longer_edited_by_its_owner(db):
    registered = factories.organization(db, region="BJ", status="approved")
    changes = services.OrganizationChanges(name="改名", district_id=registered.organization.district_id)
    with pytest.raises(Forbidden):
        services.update_organization(db, registered.owner, registered.organization.id, changes)


@pytest.mark.parametrize("code, problem", [
    ("91350100M000100Y42", "check character"),
    ("91350100M000100Y4", "too short"),
    ("91350100M000100Y433", "too long"),
    ("91350100M000I00Y43", "letter I is not in the alphabet"),
    ("<script>alert(1)</script>", "hostile"),
])
def test_an_invalid_credit_code_is_refused(db, code, problem):
    application = factories.application(db)
    with pytest.raises(ValidationFailed) as error:
        services.register_organization(db, Visitor(), application.__class__(**{**application.__dict__, "credit_code": code}))
    assert "credit_code" in error.value.fields, problem


def test_a_credit_code_is_registered_once(db):
    first = factories.application(db)
    services.register_organization(db, Visitor(), first)
    again = factories.application(db)
    with pytest.raises(ValidationFailed) as error:
        services.register_organization(db, Visitor(), again.__class__(**{**again.__dict__, "credit_code": first.credit_code.lower()}))
    assert "credit_code" in error.value.fields


def test_the_district_must_belong_to_the_chosen_region(db):
    application = factories.application(db, region="BJ")
    tianjin_district = factories.district_of(db, "TJ")
    with pytest.raises(ValidationFailed) as error:
        services.register_organization(db, Visitor(), application.__class__(**{**application.__dict__, "district_id": tianjin_district.id}))
    assert "district" in error.value.fields


def test_a_taken_email_gets_the_same_answer_and_nothing_is_created(db):
    existing = factories.organization(db).owner
    before = db.scalar(sa.select(sa.func.count()).select_from(Organization))

    result = services.register_organization(db, Visitor(), factories.application(db, email=existing.email.upper()))

    assert result is None
    assert db.scalar(sa.select(sa.func.count()).select_from(Organization)) == before
    last_mail = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert last_mail.payload["to"] == existing.email


def test_every_invalid_field_is_reported_at_once_and_nothing_is_saved(db):
    bad = services.OrganizationApplication(name="", credit_code="123", kind="bank", region="SH", district_id="x",
                                           member_email="not-an-email", member_name="", password="short")
    with pytest.raises(ValidationFailed) as error:
        services.register_organization(db, Visitor(), bad)
    assert set(error.value.fields) >= {"name", "credit_code", "kind", "region", "district", "member_email",
                                       "member_name", "password"}
    assert db.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
