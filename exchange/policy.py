"""Who may do what: one table of rules, each one object that gives both the check for one object and
the query filter for lists.

Every service calls `authorize` (or `visible_*` for lists) before it acts; the
`@service` decorator fails any service call that returned without asking, so a
forgotten check is a failing test rather than a silent hole.
"""
from __future__ import annotations

import abc
import contextlib
import contextvars
import enum
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import sqlalchemy as sa

from exchange.accounts.models import Role
from exchange.errors import Forbidden, NotAuthenticated, NotFound
from exchange.catalog.models import PUBLISHERS, Entry, EntryKind, EntryStatus
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


# Generators: each is one reason to allow, and yields both the check for one object and the query
# filter that selects exactly the rows the check allows (InvenioRDM's permission generators), so a
# list, a search and a detail page cannot disagree. A rule combines them with | (any), & (all), ~ (not).

class Generator(abc.ABC):
    @abc.abstractmethod
    def allows(self, actor: Actor, obj: Any) -> bool: ...

    @abc.abstractmethod
    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]: ...

    @property
    def has_query(self) -> bool:
        return True

    def __or__(self, other: Generator) -> Generator:
        return AnyOf(self, other)

    def __and__(self, other: Generator) -> Generator:
        return AllOf(self, other)

    def __invert__(self) -> Generator:
        return Not(self)


class _Combination(Generator):
    """Several generators joined by `_join` (or, and); `_decides` is the constant that settles the whole
    (true for or) and `_empty` the one that changes nothing (false for or)."""

    _holds: Callable[[Any], bool]
    _join: Callable[..., sa.ColumnElement[bool]]
    _decides: Callable[[], sa.ColumnElement[bool]]
    _empty: Callable[[], sa.ColumnElement[bool]]

    def __init__(self, *generators: Generator) -> None:
        self.generators = generators

    def allows(self, actor: Actor, obj: Any) -> bool:
        return self._holds(generator.allows(actor, obj) for generator in self.generators)

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        # The parts that settle nothing for this actor are left out, so a list query carries only its own terms.
        decides, empty = self._decides(), self._empty()
        parts = [part for part in (g.query(actor, model) for g in self.generators) if not isinstance(part, type(empty))]
        if any(isinstance(part, type(decides)) for part in parts):
            return decides
        return self._join(*parts) if parts else empty

    @property
    def has_query(self) -> bool:
        return all(generator.has_query for generator in self.generators)


class AnyOf(_Combination):
    _holds, _join, _decides, _empty = staticmethod(any), staticmethod(sa.or_), staticmethod(sa.true), staticmethod(sa.false)


class AllOf(_Combination):
    _holds, _join, _decides, _empty = staticmethod(all), staticmethod(sa.and_), staticmethod(sa.false), staticmethod(sa.true)


class Not(Generator):
    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def allows(self, actor: Actor, obj: Any) -> bool:
        return not self.generator.allows(actor, obj)

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        # Only over non-null columns: SQL's NOT of a comparison with NULL is not true.
        return sa.not_(self.generator.query(actor, model))

    @property
    def has_query(self) -> bool:
        return self.generator.has_query


class ActorIs(Generator):
    """Who the actor is, whatever the object: signed in, an owner of their organisation, an admin."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def allows(self, actor: Actor, obj: Any) -> bool:
        return bool(getattr(actor, self.flag))

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        return sa.true() if self.allows(actor, None) else sa.false()


class Anyone(Generator):
    def allows(self, actor: Actor, obj: Any) -> bool:
        return True

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        return sa.true()


class _OnPath(Generator):
    """A test of one value of the object, reached through a dotted path of attributes
    ("program.region_code"); in SQL, each relationship on the way becomes an EXISTS."""

    def __init__(self, path: str) -> None:
        self.path = path.split(".")

    def value(self, obj: Any) -> Any:
        for name in self.path:
            obj = getattr(obj, name)
        return obj

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        return self._where(actor, model, self.path)

    def _where(self, actor: Actor, model: Any, path: list[str]) -> sa.ColumnElement[bool]:
        attribute = getattr(model, path[0])
        if len(path) == 1:
            return self.test(actor, attribute)
        return attribute.has(self._where(actor, attribute.property.mapper.class_, path[1:]))

    @abc.abstractmethod
    def test(self, actor: Actor, column: Any) -> sa.ColumnElement[bool]: ...


class In(_OnPath):
    """The object's value (a state, a kind) is one of these."""

    def __init__(self, path: str, *values: enum.Enum) -> None:
        super().__init__(path)
        self.values = values

    def allows(self, actor: Actor, obj: Any) -> bool:
        return self.value(obj) in self.values

    def test(self, actor: Actor, column: Any) -> sa.ColumnElement[bool]:
        return column.in_(self.values)


class MemberOf(_OnPath):
    """The actor belongs to the organisation this path names."""

    def allows(self, actor: Actor, obj: Any) -> bool:
        return actor.belongs_to(self.value(obj))

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        return sa.false() if actor.organization_id is None else super().query(actor, model)

    def test(self, actor: Actor, column: Any) -> sa.ColumnElement[bool]:
        return column == actor.organization_id


class AdminOf(_OnPath):
    """The actor is the regional admin of the region this path names."""

    def allows(self, actor: Actor, obj: Any) -> bool:
        return actor.administers(self.value(obj))

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        if not (actor.is_regional_admin and actor.region_code):
            return sa.false()
        return super().query(actor, model)

    def test(self, actor: Actor, column: Any) -> sa.ColumnElement[bool]:
        return column == actor.region_code


class Check(Generator):
    """A rule about something that is not one row (an organisation with a kind, none at all): no filter."""

    def __init__(self, predicate: Callable[[Actor, Any], bool]) -> None:
        self.predicate = predicate

    def allows(self, actor: Actor, obj: Any) -> bool:
        return self.predicate(actor, obj)

    def query(self, actor: Actor, model: type) -> sa.ColumnElement[bool]:
        raise TypeError("a Check has no query filter")

    @property
    def has_query(self) -> bool:
        return False


class Rule:
    """Who may do one action: a generator and, for an action on one row, the model of that row.
    A rule on a model allows nothing when there is no object (the actor has no organisation)."""

    def __init__(self, generator: Generator, on: type | None = None) -> None:
        self.generator = generator
        self.on = on

    def allows(self, actor: Actor, obj: Any = None) -> bool:
        if self.on is not None and obj is None:
            return False
        return self.generator.allows(actor, obj)

    @property
    def has_filter(self) -> bool:
        return self.on is not None and self.generator.has_query

    def filter(self, actor: Actor, model: type | None = None) -> sa.ColumnElement[bool]:
        """The rows of `model` (by default the rule's own) the actor may act on."""
        assert self.has_filter, "this rule has no query filter"
        return self.generator.query(actor, model or self.on)  # type: ignore[arg-type]


ANYONE = Anyone()
AUTHENTICATED = ActorIs("is_authenticated")
REGIONAL_ADMIN = ActorIs("is_regional_admin")
PLATFORM_ADMIN = ActorIs("is_platform_admin")
ORG_OWNER = ActorIs("is_org_owner")

PUBLIC_PROVIDER_STATES = (ProviderStatus.IN_NOTICE, ProviderStatus.ADMITTED)

# Approved details are what the admin vouched for; only an unapproved registration is edited.
_PUBLISH_FOR = MemberOf("id") & In("status", OrganizationStatus.APPROVED)
_MANAGE_ENTRY = MemberOf("organization_id") & In("organization.status", OrganizationStatus.APPROVED)
_MONITOR_PROGRAM = PLATFORM_ADMIN | AdminOf("region_code")
_MONITOR_HOLDING = PLATFORM_ADMIN | AdminOf("program.region_code")


def _can_create_entry(actor: Actor, target: tuple[Organization, EntryKind] | None) -> bool:
    if target is None:  # the actor has no organisation
        return False
    organization, kind = target
    return _PUBLISH_FOR.allows(actor, organization) and organization.kind in PUBLISHERS[kind]


def _can_apply_for_voucher(actor: Actor, target: tuple[Organization | None, VoucherProgram]) -> bool:
    organization, program = target
    return (organization is not None and organization.kind is OrganizationKind.SME
            and _PUBLISH_FOR.allows(actor, organization) and organization.region_code == program.region_code)


RULES: dict[Action, Rule] = {
    Action.ORGANIZATION_REGISTER: Rule(ANYONE),
    # Registered organisations are public bodies: every administrator may read them,
    # so another region's admin is told 403 (not 404) when trying to review one.
    Action.ORGANIZATION_VIEW: Rule(In("status", OrganizationStatus.APPROVED) | PLATFORM_ADMIN | REGIONAL_ADMIN
                                   | MemberOf("id"), on=Organization),
    Action.ORGANIZATION_VIEW_MEMBERS: Rule(PLATFORM_ADMIN | AdminOf("region_code") | MemberOf("id"), on=Organization),
    Action.ORGANIZATION_REVIEW: Rule(AdminOf("region_code"), on=Organization),
    Action.ORGANIZATION_EDIT: Rule(MemberOf("id") & ORG_OWNER & ~In("status", OrganizationStatus.APPROVED),
                                   on=Organization),
    Action.ORGANIZATION_INVITE: Rule(MemberOf("id") & ORG_OWNER, on=Organization),
    Action.ORGANIZATION_LIST_REVIEW_QUEUE: Rule(REGIONAL_ADMIN),
    Action.ORGANIZATION_PUBLISH: Rule(_PUBLISH_FOR, on=Organization),
    Action.ENTRY_CREATE: Rule(Check(_can_create_entry)),
    # Drafts stay with their organisation; the region's admin sees everything submitted.
    Action.ENTRY_VIEW: Rule(In("status", EntryStatus.APPROVED) | PLATFORM_ADMIN | MemberOf("organization_id")
                            | (AdminOf("region_code") & ~In("status", EntryStatus.DRAFT)), on=Entry),
    Action.ENTRY_VIEW_CONTACT: Rule(PLATFORM_ADMIN | MemberOf("organization_id") | AdminOf("region_code"), on=Entry),
    Action.ENTRY_EDIT: Rule(_MANAGE_ENTRY & In("status", EntryStatus.DRAFT, EntryStatus.REJECTED), on=Entry),
    Action.ENTRY_DELETE: Rule(_MANAGE_ENTRY & In("status", EntryStatus.DRAFT), on=Entry),
    Action.ENTRY_MANAGE: Rule(_MANAGE_ENTRY, on=Entry),
    Action.ENTRY_ARCHIVE: Rule(_MANAGE_ENTRY | AdminOf("region_code"), on=Entry),
    Action.ENTRY_REVIEW: Rule(AdminOf("region_code"), on=Entry),
    Action.ENTRY_IMPORT: Rule(REGIONAL_ADMIN),
    Action.ENTRY_LIST_REVIEW_QUEUE: Rule(REGIONAL_ADMIN),
    Action.ACCOUNT_LOG_IN: Rule(ANYONE),
    Action.ACCOUNT_MANAGE_OWN: Rule(AUTHENTICATED),
    Action.USER_ADMINISTER: Rule(PLATFORM_ADMIN),
    # Vouchers. Money rules (budget, caps, balances) are the services'; these say who may ask.
    Action.PROGRAM_CREATE: Rule(REGIONAL_ADMIN),
    Action.PROGRAM_VIEW: Rule(~In("status", ProgramStatus.DRAFT) | _MONITOR_PROGRAM, on=VoucherProgram),
    Action.PROGRAM_MANAGE: Rule(AdminOf("region_code"), on=VoucherProgram),
    Action.PROGRAM_MONITOR: Rule(_MONITOR_PROGRAM, on=VoucherProgram),
    Action.PROVIDER_APPLY: Rule(In("kind", OrganizationKind.PROVIDER) & _PUBLISH_FOR, on=Organization),
    # Like organisations: every administrator may read an application, so another region's is told 403.
    Action.PROVIDER_VIEW: Rule(In("status", *PUBLIC_PROVIDER_STATES) | PLATFORM_ADMIN | REGIONAL_ADMIN
                               | MemberOf("organization_id"), on=ProviderProfile),
    Action.PROVIDER_REVIEW: Rule(AdminOf("organization.region_code"), on=ProviderProfile),
    Action.PROVIDER_OBJECT: Rule(AUTHENTICATED & ~MemberOf("organization_id") & In("status", ProviderStatus.IN_NOTICE),
                                 on=ProviderProfile),
    Action.PROVIDER_MANAGE: Rule(MemberOf("organization_id"), on=ProviderProfile),
    Action.PROVIDER_LIST_REVIEW_QUEUE: Rule(REGIONAL_ADMIN),
    Action.APPLICATION_CREATE: Rule(Check(_can_apply_for_voucher)),
    Action.APPLICATION_VIEW: Rule(MemberOf("organization_id") | _MONITOR_HOLDING, on=VoucherApplication),
    Action.APPLICATION_REVIEW: Rule(AdminOf("program.region_code"), on=VoucherApplication),
    Action.VOUCHER_VIEW: Rule(MemberOf("organization_id") | _MONITOR_HOLDING, on=Voucher),
    Action.VOUCHER_REVOKE: Rule(AdminOf("program.region_code"), on=Voucher),
    Action.REDEMPTION_RECORD: Rule(MemberOf("organization_id"), on=ProviderProfile),
    # A cross-region order is visible to the admins of both regions: the issuer's and the provider's.
    Action.REDEMPTION_VIEW: Rule(MemberOf("provider_id") | MemberOf("payee_id") | MemberOf("voucher.organization_id")
                                 | PLATFORM_ADMIN | AdminOf("voucher.program.region_code")
                                 | AdminOf("provider.organization.region_code"), on=Redemption),
    Action.CLAIM_CREATE: Rule(MemberOf("organization_id"), on=Voucher),
    Action.CLAIM_REVIEW: Rule(AdminOf("voucher.program.region_code"), on=Redemption),
    Action.SETTLEMENT_REQUEST: Rule(MemberOf("id"), on=Organization),
    Action.SETTLEMENT_VIEW: Rule(MemberOf("payee_id") | _MONITOR_HOLDING, on=Settlement),
    Action.SETTLEMENT_REVIEW: Rule(AdminOf("program.region_code"), on=Settlement),
    Action.LEDGER_AUDIT: Rule(PLATFORM_ADMIN),
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


def visible(actor: Actor, model: type) -> sa.ColumnElement[bool]:
    """The query filter of the rows of `model` the actor may see: the view rule's own filter."""
    return RULES[VIEW_ACTION_BY_TYPE[model]].filter(actor, model)


# The names the services call: each is `visible` for one model.

def visible_entries(actor: Actor) -> sa.ColumnElement[bool]:
    return visible(actor, Entry)


def visible_organizations(actor: Actor) -> sa.ColumnElement[bool]:
    return visible(actor, Organization)


def visible_programs(actor: Actor) -> sa.ColumnElement[bool]:
    return visible(actor, VoucherProgram)


def visible_providers(actor: Actor) -> sa.ColumnElement[bool]:
    return visible(actor, ProviderProfile)


def visible_holdings(actor: Actor, model: type[VoucherApplication] | type[Voucher]) -> sa.ColumnElement[bool]:
    return visible(actor, model)


def visible_redemptions(actor: Actor) -> sa.ColumnElement[bool]:
    return visible(actor, Redemption)


def visible_settlements(actor: Actor) -> sa.ColumnElement[bool]:
    return visible(actor, Settlement)


_checked: contextvars.ContextVar[bool] = contextvars.ContextVar("policy_checked", default=False)


def can(actor: Actor, action: Action, obj: Any = None) -> bool:
    return RULES[action].allows(actor, obj)


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
