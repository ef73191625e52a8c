"""Use cases of organisations: register, review by the region's admin, invite members."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from exchange.accounts.models import MEMBER_ROLE_BY_KIND, Invitation, User
from exchange.accounts.passwords import hash_password
from exchange.accounts.services import (
    INVALID_TEXT,
    _usable_single_use,
    check_display_name,
    check_new_password,
    ensure_email_free,
    find_user_by_email,
    new_secret,
    normalize_email,
)
from exchange.audit.services import record
from exchange.db import utcnow
from exchange.errors import Conflict, NotFound, ValidationFailed
from exchange.inputs import has_control_characters, is_id
from exchange.links import public_url
from exchange.notifications.services import enqueue_mail
from exchange.orgs import credit_code
from exchange.orgs.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    WEBSITE_MAX_LENGTH,
    Organization,
    OrganizationKind,
    OrganizationStatus,
)
from exchange.pagination import ListFilters, Page, PageRequest, paginate
from exchange.policy import Action, Actor, authorize, can, mark_checked, visible_organizations
from exchange.taxonomy.models import District, Region
from exchange.unit_of_work import service


@dataclass(frozen=True)
class OrganizationApplication:
    name: str
    credit_code: str
    kind: str
    region: str
    district_id: Any
    member_email: str
    member_name: str
    password: str
    description: str = ""
    website: str = ""


@dataclass(frozen=True)
class OrganizationFilters(ListFilters):
    region: str | None = None
    kind: str | None = None
    status: str | None = None
    q: str | None = None


def _text(value: Any, field: str, errors: dict[str, Any], *, required: bool, max_length: int) -> str:
    if value is not None and not isinstance(value, str):
        errors[field] = _l("Must be text.")
        return ""
    clean = (value or "").strip()
    if required and not clean:
        errors[field] = _l("This field is required.")
    elif len(clean) > max_length:
        errors[field] = _l("Use at most %(max)s characters.", max=max_length)
    elif has_control_characters(clean):
        errors[field] = INVALID_TEXT
    return clean


def _choice(value: Any, enum_class: type, field: str, errors: dict[str, Any]) -> Any:
    try:
        return enum_class(value)
    except ValueError:
        errors[field] = _l("Please choose one of the offered values.")
        return None


def _collect(errors: dict[str, Any], check, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
    try:
        return check(*args, **kwargs)
    except ValidationFailed as error:
        errors.update(error.fields)
        return None


def _website(value: Any, errors: dict[str, Any]) -> str:
    website = _text(value, "website", errors, required=False, max_length=WEBSITE_MAX_LENGTH)
    if website and not website.lower().startswith(("http://", "https://")):
        errors["website"] = _l("A website starts with http:// or https://.")
    return website


def _district(session: Session, region: Region | None, district_id: Any, errors: dict[str, Any]) -> District | None:
    try:
        number = None if isinstance(district_id, bool) else int(district_id)
    except (TypeError, ValueError, OverflowError):
        number = None
    district = session.get(District, number) if is_id(number) else None
    if district is None or (region is not None and district.region_code != region.code):
        errors["district"] = _l("Please choose a district of the chosen region.")
        return None
    return district


@service
def register_organization(session: Session, actor: Actor,
                          application: OrganizationApplication) -> Organization | None:
    """A new organisation, pending review by its region's admin, and its first member (the owner).

    When the member's e-mail already has an account nothing is created and that address is
    told by mail instead; the caller gets the same answer as for a new registration, so the
    form cannot be used to find out who has an account.
    """
    authorize(actor, Action.ORGANIZATION_REGISTER)
    errors: dict[str, Any] = {}
    name = _text(application.name, "name", errors, required=True, max_length=NAME_MAX_LENGTH)
    code = credit_code.normalize(_text(application.credit_code, "credit_code", errors, required=True, max_length=18))
    if code and not credit_code.is_valid(code):
        errors["credit_code"] = _l("This is not a valid unified social credit code (18 characters, GB 32100-2015).")
    elif code and session.scalar(sa.select(Organization.id).where(Organization.credit_code == code)):
        errors["credit_code"] = _l("An organisation with this credit code is already registered.")
    kind = _choice(application.kind, OrganizationKind, "kind", errors)
    region = (session.get(Region, application.region) if isinstance(application.region, str)
              and not has_control_characters(application.region) else None)
    if region is None:
        errors["region"] = _l("Please choose one of the offered values.")
    district = _district(session, region, application.district_id, errors)
    description = _text(application.description, "description", errors, required=False,
                        max_length=DESCRIPTION_MAX_LENGTH)
    website = _website(application.website, errors)
    email = _collect(errors, normalize_email, application.member_email, "member_email")
    member_name = _collect(errors, check_display_name, application.member_name, "member_name")
    password = _collect(errors, check_new_password, application.password, "password")
    if errors:
        raise ValidationFailed(fields=errors)
    assert kind is not None and region is not None and district is not None
    if find_user_by_email(session, email) is not None:
        _tell_existing_account_holder(session, email)
        return None
    organization = Organization(name=name, credit_code=code, kind=kind, region_code=region.code,
                                district_id=district.id, description=description, website=website)
    session.add(organization)
    session.flush()
    owner = User(email=email, display_name=member_name, password_hash=hash_password(password),
                 role=MEMBER_ROLE_BY_KIND[kind], region_code=region.code,
                 organization_id=organization.id, is_org_owner=True)
    session.add(owner)
    session.flush()
    enqueue_mail(session, email, _("We have received your registration"), _(
        "%(name)s is registered on the Jing-Jin-Ji Innovation Exchange and waits for review by the "
        "administrators of %(region)s. You can log in with this e-mail address meanwhile.",
        name=name, region=region.name))
    record(session, "organization.registered", owner.id, organization, region=region.code, kind=kind.value)
    return organization


def _tell_existing_account_holder(session: Session, email: str) -> None:
    enqueue_mail(session, email, _("Registration attempt with your e-mail address"), _(
        "Someone tried to register an organisation on the Jing-Jin-Ji Innovation Exchange with this "
        "e-mail address, which already has an account. If it was you, log in instead, or reset your "
        "password if you have forgotten it. Otherwise you can ignore this message."))
    record(session, "organization.registration_email_taken", None, None, email=email)


def _load(session: Session, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound()
    return organization


@service
def get_organization(session: Session, actor: Actor, organization_id: int) -> Organization:
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_VIEW, organization)
    return organization


@dataclass(frozen=True)
class OrganizationProfile:
    organization: Organization
    members: list[User]  # empty for those who may not see the members


@service
def organization_profile(session: Session, actor: Actor, organization_id: int) -> OrganizationProfile:
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_VIEW, organization)
    members = organization.members if can(actor, Action.ORGANIZATION_VIEW_MEMBERS, organization) else []
    return OrganizationProfile(organization, list(members))


@service
def list_members(session: Session, actor: Actor, organization_id: int) -> list[User]:
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_VIEW_MEMBERS, organization)
    return list(organization.members)


@service
def organization_for_edit(session: Session, actor: Actor, organization_id: int) -> Organization:
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_EDIT, organization)
    return organization


@service
def list_organizations(session: Session, actor: Actor, filters: OrganizationFilters,
                       page: PageRequest) -> Page[Organization]:
    mark_checked()
    statement = (sa.select(Organization).where(visible_organizations(actor))
                 .options(selectinload(Organization.region), selectinload(Organization.district))
                 .order_by(Organization.name, Organization.id))
    errors: dict[str, Any] = {}
    for name in ("region", "q"):
        if has_control_characters(getattr(filters, name) or ""):
            errors[name] = INVALID_TEXT
    if errors:
        raise ValidationFailed(fields=errors)
    if filters.region:
        statement = statement.where(Organization.region_code == filters.region)
    if filters.kind:
        kind = _choice(filters.kind, OrganizationKind, "kind", errors)
        statement = statement.where(Organization.kind == kind)
    if filters.status:
        status = _choice(filters.status, OrganizationStatus, "status", errors)
        statement = statement.where(Organization.status == status)
    if filters.q:
        statement = statement.where(Organization.name.contains(filters.q.strip()[:100], autoescape=True))
    if errors:
        raise ValidationFailed(fields=errors)
    return paginate(session, statement, page)


@service
def review_queue(session: Session, actor: Actor, page: PageRequest) -> Page[Organization]:
    """Pending organisations of the admin's own region, oldest first."""
    authorize(actor, Action.ORGANIZATION_LIST_REVIEW_QUEUE)
    statement = (sa.select(Organization)
                 .where(Organization.status == OrganizationStatus.PENDING,
                        Organization.region_code == actor.region_code)
                 .options(selectinload(Organization.district), selectinload(Organization.region))
                 .order_by(Organization.created_at, Organization.id))
    return paginate(session, statement, page)


def _load_for_review(session: Session, actor: Actor, organization_id: int) -> Organization:
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_REVIEW, organization)
    return organization


def _decide(session: Session, actor: Actor, organization: Organization, status: OrganizationStatus,
            reason: str) -> Organization:
    # The conditional update makes a double click or two admins at once a clean 409.
    changed = session.execute(
        sa.update(Organization)
        .where(Organization.id == organization.id, Organization.status == OrganizationStatus.PENDING)
        .values(status=status, rejection_reason=reason, reviewed_by_id=actor.id, reviewed_at=utcnow(),
                updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(_l("This organisation has already been reviewed."), code="already_reviewed")
    session.refresh(organization)
    record(session, f"organization.{status.value}", actor.id, organization, reason=reason)
    _notify_members(session, organization)
    return organization


def _notify_members(session: Session, organization: Organization) -> None:
    for member in organization.members:
        with force_locale(member.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            if organization.status is OrganizationStatus.APPROVED:
                subject = _("Your organisation has been approved")
                body = _("%(name)s is now approved: its members can publish on the exchange.",
                         name=organization.name)
            else:
                subject = _("Your organisation's registration was not approved")
                body = _("%(name)s was not approved. Reason: %(reason)s\n"
                         "You can correct the registration and submit it again.",
                         name=organization.name, reason=organization.rejection_reason)
            enqueue_mail(session, member.email, subject, body)


@service
def approve_organization(session: Session, actor: Actor, organization_id: int) -> Organization:
    organization = _load_for_review(session, actor, organization_id)
    return _decide(session, actor, organization, OrganizationStatus.APPROVED, "")


@service
def reject_organization(session: Session, actor: Actor, organization_id: int, reason: str | None) -> Organization:
    organization = _load_for_review(session, actor, organization_id)
    errors: dict[str, Any] = {}
    clean_reason = _text(reason, "reason", errors, required=True, max_length=REASON_MAX_LENGTH)
    if errors:
        raise ValidationFailed(fields=errors)
    return _decide(session, actor, organization, OrganizationStatus.REJECTED, clean_reason)


@dataclass(frozen=True)
class OrganizationChanges:
    name: str
    district_id: Any
    description: str = ""
    website: str = ""


@service
def update_organization(session: Session, actor: Actor, organization_id: int,
                        changes: OrganizationChanges) -> Organization:
    """The owner corrects the details; a rejected registration goes back to review."""
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_EDIT, organization)
    errors: dict[str, Any] = {}
    name = _text(changes.name, "name", errors, required=True, max_length=NAME_MAX_LENGTH)
    district = _district(session, organization.region, changes.district_id, errors)
    description = _text(changes.description, "description", errors, required=False,
                        max_length=DESCRIPTION_MAX_LENGTH)
    website = _website(changes.website, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    assert district is not None
    organization.name, organization.district_id = name, district.id
    organization.description, organization.website = description, website
    resubmitted = organization.status is OrganizationStatus.REJECTED
    if resubmitted:
        organization.status = OrganizationStatus.PENDING
    record(session, "organization.resubmitted" if resubmitted else "organization.updated", actor.id, organization)
    return organization


# Members and invitations -------------------------------------------------------------

@service
def invite_member(session: Session, actor: Actor, organization_id: int, email: str) -> Invitation:
    organization = _load(session, organization_id)
    authorize(actor, Action.ORGANIZATION_INVITE, organization)
    address = normalize_email(email)
    ensure_email_free(session, address)
    secret, digest = new_secret()
    invitation = Invitation(organization_id=organization.id, email=address, invited_by_id=actor.id,
                            token_hash=digest, expires_at=utcnow() + current_app.config["INVITATION_LIFETIME"])
    session.add(invitation)
    session.flush()
    link = public_url("orgs.accept_invitation", token=secret)
    enqueue_mail(session, address, _("You are invited to join %(name)s", name=organization.name), _(
        "%(inviter)s invites you to join %(name)s on the Jing-Jin-Ji Innovation Exchange.\n"
        "Open this link within seven days to create your account:\n%(link)s",
        inviter=getattr(actor, "display_name", ""), name=organization.name, link=link))
    record(session, "organization.member_invited", actor.id, organization, email=address)
    return invitation


@service
def find_invitation(session: Session, actor: Actor, secret: str) -> Invitation:
    authorize(actor, Action.ACCOUNT_LOG_IN)
    return _usable_single_use(session, Invitation, secret)


@service
def accept_invitation(session: Session, actor: Actor, secret: str, display_name: str, password: str) -> User:
    authorize(actor, Action.ACCOUNT_LOG_IN)
    invitation = _usable_single_use(session, Invitation, secret)
    errors: dict[str, Any] = {}
    name = _collect(errors, check_display_name, display_name)
    new_password = _collect(errors, check_new_password, password)
    _collect(errors, ensure_email_free, session, invitation.email)
    if errors:
        raise ValidationFailed(fields=errors)
    organization = invitation.organization
    invitation.used_at = utcnow()
    user = User(email=invitation.email, display_name=name, password_hash=hash_password(new_password),
                role=MEMBER_ROLE_BY_KIND[organization.kind], region_code=organization.region_code,
                organization_id=organization.id)
    session.add(user)
    session.flush()
    record(session, "organization.member_joined", user.id, organization)
    return user
