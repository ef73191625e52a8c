"""Who may do what: one table of rules per entity, with the query filter each rule implies.

Every service calls `authorize` (or `visible_*` for lists) before it acts; the
`@service` decorator fails any service call that returned without asking, so a
forgotten check is a failing test rather than a silent hole.
"""
from __future__ import annotations

import contextvars
import enum
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

import sqlalchemy as sa

from exchange.accounts.models import Role
from exchange.errors import Forbidden, NotAuthenticated, NotFound
from exchange.catalog.models import Entry, EntryKind, EntryStatus
from exchange.catalog.specs import KINDS
from exchange.orgs.models import Organization, OrganizationStatus


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
}

# What an actor must be allowed to see of an object before any other denial may say
# more than 404: a denial never reveals that a hidden object exists.
VIEW_ACTION_BY_TYPE: dict[type, Action] = {Organization: Action.ORGANIZATION_VIEW, Entry: Action.ENTRY_VIEW}


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


P = ParamSpec("P")
R = TypeVar("R")


def service(function: Callable[P, R]) -> Callable[P, R]:
    """Mark a service function: it must consult the policy before it returns."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _checked.set(False)
        try:
            result = function(*args, **kwargs)
            if not _checked.get():
                raise PolicyNotChecked(f"{function.__qualname__} returned without consulting the policy")
            return result
        finally:
            _checked.reset(token)

    return wrapper
