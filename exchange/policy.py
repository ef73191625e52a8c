"""Who may do what: one table of rules per entity, with the query filter each rule implies.

Every service calls `authorize` (or `visible_*` for lists) before it acts; the
`@service` decorator fails any service call that returned without asking, so a
forgotten check is a failing test rather than a silent hole.
"""
from __future__ import annotations

import contextlib
import contextvars
import enum
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import sqlalchemy as sa

from exchange.accounts.models import Role
from exchange.errors import Forbidden, NotAuthenticated, NotFound
from exchange.catalog.models import Entry, EntryKind, EntryStatus
from exchange.catalog.specs import KINDS
from exchange.orgs.models import Organization, OrganizationKind, OrganizationStatus
from exchange.vouchers.models import (
    ProgramStatus,
    ProviderProfile,
    ProviderStatus,
    Redemption,
    Settlement,
    Voucher,
    VoucherApplication,
    VoucherProgram,
)


class Actor(Protocol):
    id: int | None
    role: Role
    region_code: str | None
    organization_id: int | None
    is_authenticated: bool
    is_regional_admin: bool
    is_platform_admin: bool
    is_org_owner: bool

    def administers(self, region_code: str) -> bool: ...
    def belongs_to(self, organization_id: int | None) -> bool: ...


class Action(enum.StrEnum):
    ORGANIZATION_REGISTER = "organization.register"
    ORGANIZATION_VIEW = "organization.view"
    ORGANIZATION_VIEW_MEMBERS = "organization.view_members"
    ORGANIZATION_REVIEW = "organization.review"
    ORGANIZATION_EDIT = "organization.edit"
    ORGANIZATION_INVITE = "organization.invite"
    ORGANIZATION_LIST_REVIEW_QUEUE = "organization.list_review_queue"
    ORGANIZATION_PUBLISH = "organization.publish"
    ENTRY_CREATE = "entry.create"
    ENTRY_VIEW = "entry.view"
    ENTRY_VIEW_CONTACT = "entry.view_contact"
    ENTRY_EDIT = "entry.edit"
    ENTRY_DELETE = "entry.delete"
    ENTRY_MANAGE = "entry.manage"
    ENTRY_ARCHIVE = "entry.archive"
    ENTRY_REVIEW = "entry.review"
    ENTRY_IMPORT = "entry.import"
    ENTRY_LIST_REVIEW_QUEUE = "entry.list_review_queue"
    ACCOUNT_LOG_IN = "account.log_in"
    ACCOUNT_MANAGE_OWN = "account.manage_own"
    USER_ADMINISTER = "user.administer"
    PROGRAM_CREATE = "program.create"
    PROGRAM_VIEW = "program.view"
    PROGRAM_MANAGE = "program.manage"
    PROGRAM_MONITOR = "program.monitor"
    PROVIDER_APPLY = "provider.apply"
    PROVIDER_VIEW = "provider.view"
    PROVIDER_REVIEW = "provider.review"
    PROVIDER_OBJECT = "provider.object"
    PROVIDER_MANAGE = "provider.manage"
    PROVIDER_LIST_REVIEW_QUEUE = "provider.list_review_queue"
    APPLICATION_CREATE = "application.create"
    APPLICATION_VIEW = "application.view"
    APPLICATION_REVIEW = "application.review"
    VOUCHER_VIEW = "voucher.view"
    VOUCHER_REVOKE = "voucher.revoke"
    REDEMPTION_RECORD = "redemption.record"
    REDEMPTION_VIEW = "redemption.view"
    CLAIM_CREATE = "claim.create"
    CLAIM_REVIEW = "claim.review"
    SETTLEMENT_REQUEST = "settlement.request"
    SETTLEMENT_VIEW = "settlement.view"
    SETTLEMENT_REVIEW = "settlement.review"
    LEDGER_AUDIT = "ledger.audit"


def _authenticated(actor: Actor, _: Any = None) -> bool:
    return actor.is_authenticated


def _anyone(actor: Actor, _: Any = None) -> bool:
    return True


def _can_view_organization(actor: Actor, org: Organization) -> bool:
    # Registered organisations are public bodies: every administrator may read them,
    # so another region's admin is told 403 (not 404) when trying to review one.
    return (org.status is OrganizationStatus.APPROVED or actor.is_platform_admin
            or actor.is_regional_admin or actor.belongs_to(org.id))


def _can_view_members(actor: Actor, org: Organization) -> bool:
    return actor.is_platform_admin or actor.administers(org.region_code) or actor.belongs_to(org.id)


def _can_review_organization(actor: Actor, org: Organization) -> bool:
    return actor.administers(org.region_code)


def _can_edit_organization(actor: Actor, org: Organization) -> bool:
    # Approved details are what the admin vouched for; only an unapproved registration is edited.
    return actor.belongs_to(org.id) and actor.is_org_owner and org.status is not OrganizationStatus.APPROVED


def _can_invite(actor: Actor, org: Organization) -> bool:
    return actor.belongs_to(org.id) and actor.is_org_owner


def _can_publish_for(actor: Actor, org: Organization) -> bool:
    return actor.belongs_to(org.id) and org.status is OrganizationStatus.APPROVED


def _can_create_entry(actor: Actor, target: tuple[Organization, EntryKind] | None) -> bool:
    if target is None:  # the actor has no organisation
        return False
    organization, kind = target
    return _can_publish_for(actor, organization) and organization.kind in KINDS[kind].publishers


def _can_view_entry(actor: Actor, entry: Entry) -> bool:
    # Drafts stay with their organisation; the region's admin sees everything submitted.
    return (entry.status is EntryStatus.APPROVED or actor.is_platform_admin
            or actor.belongs_to(entry.organization_id)
            or (actor.administers(entry.region_code) and entry.status is not EntryStatus.DRAFT))


def _can_view_entry_contact(actor: Actor, entry: Entry) -> bool:
    return actor.is_platform_admin or actor.belongs_to(entry.organization_id) or actor.administers(entry.region_code)


def _can_manage_entry(actor: Actor, entry: Entry) -> bool:
    return _can_publish_for(actor, entry.organization)


def _can_edit_entry(actor: Actor, entry: Entry) -> bool:
    return _can_manage_entry(actor, entry) and entry.status in (EntryStatus.DRAFT, EntryStatus.REJECTED)


def _can_delete_entry(actor: Actor, entry: Entry) -> bool:
    return _can_manage_entry(actor, entry) and entry.status is EntryStatus.DRAFT


def _can_archive_entry(actor: Actor, entry: Entry) -> bool:
    return _can_manage_entry(actor, entry) or actor.administers(entry.region_code)


def _can_review_entry(actor: Actor, entry: Entry) -> bool:
    return actor.administers(entry.region_code)


def _is_regional_admin(actor: Actor, _: Any = None) -> bool:
    return actor.is_regional_admin


def _is_platform_admin(actor: Actor, _: Any = None) -> bool:
    return actor.is_platform_admin


# Vouchers. Money rules (budget, caps, balances) are the services'; these say who may ask.

def _can_view_program(actor: Actor, program: VoucherProgram) -> bool:
    return program.status is not ProgramStatus.DRAFT or actor.is_platform_admin or actor.administers(program.region_code)


def _can_manage_program(actor: Actor, program: VoucherProgram) -> bool:
    return actor.administers(program.region_code)


def _can_monitor_program(actor: Actor, program: VoucherProgram) -> bool:
    return actor.is_platform_admin or actor.administers(program.region_code)


def _can_apply_as_provider(actor: Actor, organization: Organization | None) -> bool:
    return (organization is not None and organization.kind is OrganizationKind.PROVIDER
            and _can_publish_for(actor, organization))


PUBLIC_PROVIDER_STATES = (ProviderStatus.IN_NOTICE, ProviderStatus.ADMITTED)


def _can_view_provider(actor: Actor, provider: ProviderProfile) -> bool:
    # Like organisations: every administrator may read an application, so another region's is told 403.
    return (provider.status in PUBLIC_PROVIDER_STATES or actor.is_platform_admin or actor.is_regional_admin
            or actor.belongs_to(provider.organization_id))


def _can_review_provider(actor: Actor, provider: ProviderProfile) -> bool:
    return actor.administers(provider.region_code)


def _can_object_to_provider(actor: Actor, provider: ProviderProfile) -> bool:
    return (actor.is_authenticated and not actor.belongs_to(provider.organization_id)
            and provider.status is ProviderStatus.IN_NOTICE)


def _can_manage_provider(actor: Actor, provider: ProviderProfile) -> bool:
    return actor.belongs_to(provider.organization_id)


def _can_apply_for_voucher(actor: Actor, target: tuple[Organization | None, VoucherProgram]) -> bool:
    organization, program = target
    return (organization is not None and organization.kind is OrganizationKind.SME
            and _can_publish_for(actor, organization) and organization.region_code == program.region_code)


def _can_view_application(actor: Actor, application: VoucherApplication) -> bool:
    return actor.belongs_to(application.organization_id) or _can_monitor_program(actor, application.program)


def _can_review_application(actor: Actor, application: VoucherApplication) -> bool:
    return actor.administers(application.program.region_code)


def _can_view_voucher(actor: Actor, voucher: Voucher) -> bool:
    return actor.belongs_to(voucher.organization_id) or _can_monitor_program(actor, voucher.program)


def _can_revoke_voucher(actor: Actor, voucher: Voucher) -> bool:
    return actor.administers(voucher.program.region_code)


def _can_record_redemption(actor: Actor, provider: ProviderProfile | None) -> bool:
    return provider is not None and actor.belongs_to(provider.organization_id)


def _can_view_redemption(actor: Actor, redemption: Redemption) -> bool:
    # A cross-region order is visible to the admins of both regions: the issuer's and the provider's.
    return (actor.belongs_to(redemption.provider_id) or actor.belongs_to(redemption.payee_id)
            or actor.belongs_to(redemption.voucher.organization_id)
            or _can_monitor_program(actor, redemption.voucher.program)
            or actor.administers(redemption.provider.region_code))


def _can_claim_reimbursement(actor: Actor, voucher: Voucher) -> bool:
    return actor.belongs_to(voucher.organization_id)


def _can_review_claim(actor: Actor, redemption: Redemption) -> bool:
    return actor.administers(redemption.voucher.program.region_code)


def _can_request_settlement(actor: Actor, payee: Organization | None) -> bool:
    return payee is not None and actor.belongs_to(payee.id)


def _can_view_settlement(actor: Actor, settlement: Settlement) -> bool:
    return actor.belongs_to(settlement.payee_id) or _can_monitor_program(actor, settlement.program)


def _can_review_settlement(actor: Actor, settlement: Settlement) -> bool:
    return actor.administers(settlement.program.region_code)


RULES: dict[Action, Callable[[Actor, Any], bool]] = {
    Action.ORGANIZATION_REGISTER: _anyone,
    Action.ORGANIZATION_VIEW: _can_view_organization,
    Action.ORGANIZATION_VIEW_MEMBERS: _can_view_members,
    Action.ORGANIZATION_REVIEW: _can_review_organization,
    Action.ORGANIZATION_EDIT: _can_edit_organization,
    Action.ORGANIZATION_INVITE: _can_invite,
    Action.ORGANIZATION_LIST_REVIEW_QUEUE: _is_regional_admin,
    Action.ORGANIZATION_PUBLISH: _can_publish_for,
    Action.ENTRY_CREATE: _can_create_entry,
    Action.ENTRY_VIEW: _can_view_entry,
    Action.ENTRY_VIEW_CONTACT: _can_view_entry_contact,
    Action.ENTRY_EDIT: _can_edit_entry,
    Action.ENTRY_DELETE: _can_delete_entry,
    Action.ENTRY_MANAGE: _can_manage_entry,
    Action.ENTRY_ARCHIVE: _can_archive_entry,
    Action.ENTRY_REVIEW: _can_review_entry,
    Action.ENTRY_IMPORT: _is_regional_admin,
    Action.ENTRY_LIST_REVIEW_QUEUE: _is_regional_admin,
    Action.ACCOUNT_LOG_IN: _anyone,
    Action.ACCOUNT_MANAGE_OWN: _authenticated,
    Action.USER_ADMINISTER: _is_platform_admin,
    Action.PROGRAM_CREATE: _is_regional_admin,
    Action.PROGRAM_VIEW: _can_view_program,
    Action.PROGRAM_MANAGE: _can_manage_program,
    Action.PROGRAM_MONITOR: _can_monitor_program,
    Action.PROVIDER_APPLY: _can_apply_as_provider,
    Action.PROVIDER_VIEW: _can_view_provider,
    Action.PROVIDER_REVIEW: _can_review_provider,
    Action.PROVIDER_OBJECT: _can_object_to_provider,
    Action.PROVIDER_MANAGE: _can_manage_provider,
    Action.PROVIDER_LIST_REVIEW_QUEUE: _is_regional_admin,
    Action.APPLICATION_CREATE: _can_apply_for_voucher,
    Action.APPLICATION_VIEW: _can_view_application,
    Action.APPLICATION_REVIEW: _can_review_application,
    Action.VOUCHER_VIEW: _can_view_voucher,
    Action.VOUCHER_REVOKE: _can_revoke_voucher,
    Action.REDEMPTION_RECORD: _can_record_redemption,
    Action.REDEMPTION_VIEW: _can_view_redemption,
    Action.CLAIM_CREATE: _can_claim_reimbursement,
    Action.CLAIM_REVIEW: _can_review_claim,
    Action.SETTLEMENT_REQUEST: _can_request_settlement,
    Action.SETTLEMENT_VIEW: _can_view_settlement,
    Action.SETTLEMENT_REVIEW: _can_review_settlement,
    Action.LEDGER_AUDIT: _is_platform_admin,
}

# What an actor must be allowed to see of an object before any other denial may say
# more than 404: a denial never reveals that a hidden object exists.
VIEW_ACTION_BY_TYPE: dict[type, Action] = {
    Organization: Action.ORGANIZATION_VIEW, Entry: Action.ENTRY_VIEW, VoucherProgram: Action.PROGRAM_VIEW,
    ProviderProfile: Action.PROVIDER_VIEW, VoucherApplication: Action.APPLICATION_VIEW,
    Voucher: Action.VOUCHER_VIEW, Redemption: Action.REDEMPTION_VIEW, Settlement: Action.SETTLEMENT_VIEW,
}


def _view_action_for(obj: Any) -> Action | None:
    return next((action for cls, action in VIEW_ACTION_BY_TYPE.items() if isinstance(obj, cls)), None)


def visible_entries(actor: Actor) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_entry` row for row."""
    if actor.is_platform_admin:
        return sa.true()
    conditions = [Entry.status == EntryStatus.APPROVED]
    if actor.organization_id is not None:
        conditions.append(Entry.organization_id == actor.organization_id)
    if actor.is_regional_admin and actor.region_code:
        conditions.append(sa.and_(Entry.region_code == actor.region_code, Entry.status != EntryStatus.DRAFT))
    return sa.or_(*conditions)


def visible_organizations(actor: Actor) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_organization` row for row."""
    if actor.is_platform_admin or actor.is_regional_admin:
        return sa.true()
    conditions = [Organization.status == OrganizationStatus.APPROVED]
    if actor.organization_id is not None:
        conditions.append(Organization.id == actor.organization_id)
    return sa.or_(*conditions)


def visible_programs(actor: Actor) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_program`."""
    if actor.is_platform_admin:
        return sa.true()
    conditions = [VoucherProgram.status != ProgramStatus.DRAFT]
    if actor.is_regional_admin and actor.region_code:
        conditions.append(VoucherProgram.region_code == actor.region_code)
    return sa.or_(*conditions)


def visible_providers(actor: Actor) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_provider`."""
    if actor.is_platform_admin or actor.is_regional_admin:
        return sa.true()
    conditions = [ProviderProfile.status.in_(PUBLIC_PROVIDER_STATES)]
    if actor.organization_id is not None:
        conditions.append(ProviderProfile.organization_id == actor.organization_id)
    return sa.or_(*conditions)


def _monitored_programs(actor: Actor, program_id: Any) -> sa.ColumnElement[bool]:
    if actor.is_regional_admin and actor.region_code:
        return program_id.in_(sa.select(VoucherProgram.id).where(VoucherProgram.region_code == actor.region_code))
    return sa.false()


def visible_holdings(actor: Actor, model: type[VoucherApplication] | type[Voucher]) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_application` and `_can_view_voucher`."""
    if actor.is_platform_admin:
        return sa.true()
    conditions = [_monitored_programs(actor, model.program_id)]
    if actor.organization_id is not None:
        conditions.append(model.organization_id == actor.organization_id)
    return sa.or_(*conditions)


def visible_redemptions(actor: Actor) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_redemption`."""
    if actor.is_platform_admin:
        return sa.true()
    conditions = [_monitored_programs(actor, Redemption.program_id)]
    if actor.is_regional_admin and actor.region_code:
        conditions.append(Redemption.provider_id.in_(
            sa.select(Organization.id).where(Organization.region_code == actor.region_code)))
    if actor.organization_id is not None:
        conditions += [Redemption.provider_id == actor.organization_id, Redemption.payee_id == actor.organization_id,
                       Redemption.voucher_id.in_(sa.select(Voucher.id).where(
                           Voucher.organization_id == actor.organization_id))]
    return sa.or_(*conditions)


def visible_settlements(actor: Actor) -> sa.ColumnElement[bool]:
    """The query filter that matches `_can_view_settlement`."""
    if actor.is_platform_admin:
        return sa.true()
    conditions = [_monitored_programs(actor, Settlement.program_id)]
    if actor.organization_id is not None:
        conditions.append(Settlement.payee_id == actor.organization_id)
    return sa.or_(*conditions)


_checked: contextvars.ContextVar[bool] = contextvars.ContextVar("policy_checked", default=False)


def can(actor: Actor, action: Action, obj: Any = None) -> bool:
    return RULES[action](actor, obj)


def authorize(actor: Actor, action: Action, obj: Any = None) -> None:
    """Raise unless the actor may do the action; marks the running service as checked."""
    _checked.set(True)
    if can(actor, action, obj):
        return
    view_action = _view_action_for(obj)
    if view_action is not None and not can(actor, view_action, obj):
        # An administrator acting on another region's entry is told 403: officials may
        # know it exists; everyone else learns nothing (404).
        if action is view_action or not actor.is_regional_admin:
            raise NotFound()
        raise Forbidden()
    if not actor.is_authenticated:
        raise NotAuthenticated()
    raise Forbidden()


def mark_checked() -> None:
    """For list services that apply a `visible_*` filter instead of one object check."""
    _checked.set(True)


class PolicyNotChecked(RuntimeError):
    pass


@contextlib.contextmanager
def checked_by(service_name: str) -> Iterator[None]:
    """Around one service call: fail it if it returns without consulting the policy."""
    token = _checked.set(False)
    try:
        yield
        if not _checked.get():
            raise PolicyNotChecked(f"{service_name} returned without consulting the policy")
    finally:
        _checked.reset(token)
