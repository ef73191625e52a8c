"""Service providers: admission after a public notice, their service catalogue, suspension."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from exchange.audit.services import record
from exchange.db import utcnow
from exchange.errors import Conflict, NotFound, ValidationFailed
from exchange.orgs.models import Organization
from exchange.pagination import ListFilters, Page, PageRequest, paginate
from exchange.policy import Action, Actor, authorize, can, mark_checked, visible_providers
from exchange.unit_of_work import service
from exchange.vouchers.checks import choice, optional_text, reason_text, required_text, whole_number
from exchange.vouchers.models import (
    NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    ProviderCategory,
    ProviderObjection,
    ProviderProfile,
    ProviderStatus,
    ServiceCategory,
    ServiceProduct,
)
from exchange.vouchers.money import MAX_PRODUCT_FEE_FEN


def load_provider(session: Session, organization_id: int) -> ProviderProfile:
    provider = session.get(ProviderProfile, organization_id)
    if provider is None:
        raise NotFound()
    return provider


@dataclass(frozen=True)
class ProviderApplication:
    category: str
    qualifications: str


@dataclass(frozen=True)
class ProviderDetail:
    """A provider as one actor may see it, as the services that return one provider give it: it reads as
    its profile, but the objections raised during the notice are there only for those who review it."""
    profile: ProviderProfile
    objections: list[ProviderObjection]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.profile, name)


def _detail(actor: Actor, provider: ProviderProfile) -> ProviderDetail:
    return ProviderDetail(provider, list(provider.objections) if can(actor, Action.PROVIDER_REVIEW, provider) else [])


@service
def apply_as_provider(session: Session, actor: Actor, application: ProviderApplication) -> ProviderDetail:
    """A provider organisation asks to be admitted; a rejected one may apply again."""
    organization = session.get(Organization, actor.organization_id) if actor.organization_id else None
    authorize(actor, Action.PROVIDER_APPLY, organization)
    assert organization is not None
    errors: dict[str, object] = {}
    category = choice(errors, "category", application.category, ProviderCategory)
    qualifications = required_text(errors, "qualifications", application.qualifications, TEXT_MAX_LENGTH)
    if errors:
        raise ValidationFailed(fields=errors)
    provider = session.get(ProviderProfile, organization.id)
    if provider is not None and provider.status is not ProviderStatus.REJECTED:
        raise Conflict(_l("This organisation has already applied."), code="already_applied")
    if provider is None:
        provider = ProviderProfile(organization=organization)
        session.add(provider)
    provider.category, provider.qualifications = category, qualifications
    provider.status, provider.applied_at, provider.reason = ProviderStatus.APPLIED, utcnow(), ""
    provider.notice_starts_at = provider.notice_ends_at = None
    record(session, "provider.applied", actor.id, organization)
    return _detail(actor, provider)


@service
def get_provider(session: Session, actor: Actor, organization_id: int) -> ProviderDetail:
    provider = load_provider(session, organization_id)
    authorize(actor, Action.PROVIDER_VIEW, provider)
    return _detail(actor, provider)


@service
def own_provider(session: Session, actor: Actor) -> ProviderProfile | None:
    """The provider profile of the actor's organisation, if it has applied."""
    mark_checked()  # one's own organisation only
    if actor.organization_id is None:
        return None
    return session.get(ProviderProfile, actor.organization_id)


def _review(session: Session, actor: Actor, organization_id: int, allowed: tuple[ProviderStatus, ...]) -> ProviderProfile:
    provider = session.scalar(sa.select(ProviderProfile).where(ProviderProfile.organization_id == organization_id)
                              .with_for_update(of=ProviderProfile))
    if provider is None:
        raise NotFound()
    authorize(actor, Action.PROVIDER_REVIEW, provider)
    if provider.status not in allowed:
        raise Conflict(_l("This provider is %(status)s; that cannot be done now.", status=provider.status.label),
                       code="provider_state")
    return provider


def notice_days() -> int:
    return int(current_app.config["PROVIDER_NOTICE_DAYS"])


@service
def start_notice(session: Session, actor: Actor, organization_id: int) -> ProviderDetail:
    """The region's admin publishes the application for public notice (公示)."""
    provider = _review(session, actor, organization_id, (ProviderStatus.APPLIED,))
    provider.status = ProviderStatus.IN_NOTICE
    provider.notice_starts_at = utcnow()
    provider.notice_ends_at = provider.notice_starts_at + timedelta(days=notice_days())
    record(session, "provider.notice_started", actor.id, provider.organization, ends=provider.notice_ends_at.isoformat())
    return _detail(actor, provider)


def open_objections(provider: ProviderProfile) -> list[ProviderObjection]:
    return [objection for objection in provider.objections if objection.dismissed_at is None]


@service
def admit_provider(session: Session, actor: Actor, organization_id: int, now: datetime | None = None) -> ProviderDetail:
    """Admit after the notice has run its full term with no open objection; recognised in all three regions."""
    provider = _review(session, actor, organization_id, (ProviderStatus.IN_NOTICE, ProviderStatus.SUSPENDED))
    now = now or utcnow()
    if provider.status is ProviderStatus.IN_NOTICE:
        assert provider.notice_ends_at is not None
        if now < provider.notice_ends_at:
            raise Conflict(_l("The public notice runs until %(date)s; the provider can be admitted after that.",
                              date=provider.notice_ends_at.date().isoformat()), code="notice_running")
        if open_objections(provider):
            raise Conflict(_l("An objection was raised during the notice; dismiss it or reject the application."),
                           code="objection_open")
    provider.status, provider.decided_by_id, provider.decided_at, provider.reason = (
        ProviderStatus.ADMITTED, actor.id, now, "")
    record(session, "provider.admitted", actor.id, provider.organization)
    return _detail(actor, provider)


@service
def reject_provider(session: Session, actor: Actor, organization_id: int, reason: str) -> ProviderDetail:
    text = reason_text(reason)
    provider = _review(session, actor, organization_id, (ProviderStatus.APPLIED, ProviderStatus.IN_NOTICE))
    provider.status, provider.decided_by_id, provider.decided_at, provider.reason = (
        ProviderStatus.REJECTED, actor.id, utcnow(), text)
    record(session, "provider.rejected", actor.id, provider.organization, reason=text)
    return _detail(actor, provider)


@service
def suspend_provider(session: Session, actor: Actor, organization_id: int, reason: str) -> ProviderDetail:
    """E.g. caught pricing above its published fees: it can take no voucher until reinstated."""
    text = reason_text(reason)
    provider = _review(session, actor, organization_id, (ProviderStatus.ADMITTED,))
    provider.status, provider.decided_by_id, provider.decided_at, provider.reason = (
        ProviderStatus.SUSPENDED, actor.id, utcnow(), text)
    record(session, "provider.suspended", actor.id, provider.organization, reason=text)
    return _detail(actor, provider)


@service
def object_to_provider(session: Session, actor: Actor, organization_id: int, text: str) -> ProviderObjection:
    provider = load_provider(session, organization_id)
    authorize(actor, Action.PROVIDER_OBJECT, provider)
    errors: dict[str, object] = {}
    cleaned = required_text(errors, "text", text, TEXT_MAX_LENGTH)
    if errors:
        raise ValidationFailed(fields=errors)
    objection = ProviderObjection(provider_id=provider.organization_id, author_id=actor.id, text=cleaned)
    session.add(objection)
    session.flush()
    record(session, "provider.objection", actor.id, provider.organization, objection=objection.id)
    return objection


@service
def dismiss_objection(session: Session, actor: Actor, objection_id: int, reason: str) -> ProviderObjection:
    text = reason_text(reason)
    objection = session.get(ProviderObjection, objection_id)
    if objection is None:
        raise NotFound()
    _review(session, actor, objection.provider_id, (ProviderStatus.IN_NOTICE,))
    if objection.dismissed_at is not None:
        raise Conflict(_l("This objection has already been dismissed."), code="objection_dismissed")
    objection.dismissed_at, objection.dismissed_by_id, objection.dismissal_reason = utcnow(), actor.id, text
    record(session, "provider.objection_dismissed", actor.id, objection, reason=text)
    return objection


@dataclass(frozen=True)
class ProviderFilters(ListFilters):
    region: str | None = None
    category: str | None = None
    service_category: str | None = None
    status: str | None = None
    q: str | None = None


@service
def list_providers(session: Session, actor: Actor, filters: ProviderFilters, page: PageRequest) -> Page[ProviderProfile]:
    """Admitted providers of all three regions (and, for those who may see them, the others)."""
    mark_checked()
    statement = (sa.select(ProviderProfile).join(ProviderProfile.organization).where(visible_providers(actor))
                 .options(selectinload(ProviderProfile.products)).order_by(Organization.region_code, Organization.name))
    status = filters.status or ProviderStatus.ADMITTED.value
    if status in ProviderStatus.__members__.values():
        statement = statement.where(ProviderProfile.status == status)
    if filters.region:
        statement = statement.where(Organization.region_code == filters.region)
    if filters.category in ProviderCategory.__members__.values():
        statement = statement.where(ProviderProfile.category == filters.category)
    if filters.service_category in ServiceCategory.__members__.values():
        statement = statement.where(ProviderProfile.products.any(sa.and_(
            ServiceProduct.category == filters.service_category, ServiceProduct.is_active)))
    if filters.q:
        words = f"%{filters.q[:100].strip()}%"
        statement = statement.where(sa.or_(Organization.name.ilike(words), ProviderProfile.products.any(
            ServiceProduct.name.ilike(words))))
    return paginate(session, statement, page)


@service
def provider_review_queue(session: Session, actor: Actor, page: PageRequest) -> Page[ProviderProfile]:
    """Applications of the admin's region waiting for a notice or a decision, oldest first."""
    authorize(actor, Action.PROVIDER_LIST_REVIEW_QUEUE)
    statement = (sa.select(ProviderProfile).join(ProviderProfile.organization)
                 .where(Organization.region_code == actor.region_code,
                        ProviderProfile.status.in_((ProviderStatus.APPLIED, ProviderStatus.IN_NOTICE)))
                 .options(selectinload(ProviderProfile.objections)).order_by(ProviderProfile.applied_at))
    return paginate(session, statement, page)


@dataclass(frozen=True)
class ProductChanges:
    name: str
    category: str
    fee_fen: int | None  # None: the form could not read an amount
    description: str = ""
    is_active: bool = True


def _clean_product(changes: ProductChanges) -> tuple[str, ServiceCategory, int, str]:
    errors: dict[str, object] = {}
    name = required_text(errors, "name", changes.name, NAME_MAX_LENGTH)
    category = choice(errors, "category", changes.category, ServiceCategory)
    fee = whole_number(errors, "fee_fen", changes.fee_fen, high=MAX_PRODUCT_FEE_FEN)
    description = optional_text(errors, "description", changes.description, TEXT_MAX_LENGTH)
    if errors:
        raise ValidationFailed(fields=errors)
    assert isinstance(category, ServiceCategory)
    return name, category, fee, description


@service
def add_product(session: Session, actor: Actor, organization_id: int, changes: ProductChanges) -> ServiceProduct:
    """A service with its published fee: vouchers pay for it at that fee or below."""
    provider = load_provider(session, organization_id)
    authorize(actor, Action.PROVIDER_MANAGE, provider)
    name, category, fee, description = _clean_product(changes)
    product = ServiceProduct(provider_id=provider.organization_id, name=name, category=category, fee_fen=fee,
                             description=description, is_active=changes.is_active)
    session.add(product)
    session.flush()
    record(session, "provider.product_added", actor.id, product, fee_fen=fee)
    return product


@service
def update_product(session: Session, actor: Actor, product_id: int, changes: ProductChanges) -> ServiceProduct:
    product = session.get(ServiceProduct, product_id)
    if product is None:
        raise NotFound()
    authorize(actor, Action.PROVIDER_MANAGE, product.provider)
    product.name, product.category, product.fee_fen, product.description = _clean_product(changes)
    product.is_active = changes.is_active
    record(session, "provider.product_changed", actor.id, product, fee_fen=product.fee_fen)
    return product


@service
def notices(session: Session, actor: Actor) -> list[ProviderProfile]:
    """The public notice board (公示): applications of every region currently in notice."""
    mark_checked()  # public by rule: PUBLIC_PROVIDER_STATES
    return list(session.scalars(sa.select(ProviderProfile).where(ProviderProfile.status == ProviderStatus.IN_NOTICE)
                                .options(selectinload(ProviderProfile.products),
                                         selectinload(ProviderProfile.objections))
                                .order_by(ProviderProfile.notice_ends_at)))
