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
    Action.ACCOUNT_LOG_IN: _anyone,
    Action.ACCOUNT_MANAGE_OWN: _authenticated,
    Action.USER_ADMINISTER: _is_platform_admin,
}

# What an actor must be allowed to see of an object before any other denial may say
# more than 404: a denial never reveals that a hidden object exists.
VIEW_ACTION_BY_TYPE: dict[type, Action] = {Organization: Action.ORGANIZATION_VIEW}


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
    view_action = VIEW_ACTION_BY_TYPE.get(type(obj))
    if view_action is not None and not can(actor, view_action, obj):
        raise NotFound()
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
