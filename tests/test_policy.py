"""Every service consults the policy: one that forgets fails loudly instead of leaking."""
from __future__ import annotations

import inspect

import pytest

from exchange import policy
from exchange.accounts import services as account_services
from exchange.accounts.models import Visitor
from exchange.orgs import services as org_services
from exchange.site import services as site_services
from exchange.unit_of_work import service


def test_a_service_that_never_asks_the_policy_fails(db):
    @service
    def careless(session, actor):
        return "done"

    with pytest.raises(policy.PolicyNotChecked):
        careless(db, Visitor())


def test_a_service_that_asks_the_policy_runs(db):
    @service
    def careful(session, actor):
        policy.authorize(actor, policy.Action.ORGANIZATION_REGISTER)
        return "done"

    assert careful(db, Visitor()) == "done"


@pytest.mark.parametrize("module", [account_services, org_services, site_services])
def test_every_public_service_taking_an_actor_is_guarded(module):
    unguarded = [
        name for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
        and "actor" in inspect.signature(function).parameters and not hasattr(function, "__wrapped__")
    ]
    assert unguarded == []


def test_the_list_filter_agrees_with_the_object_rule(db):
    import sqlalchemy as sa

    from exchange.orgs.models import Organization
    from tests import factories

    viewers = [Visitor(), factories.organization(db, region="BJ").owner, factories.admin(db, "TJ"),
               factories.platform_admin(db)]
    pending = factories.organization(db, region="BJ", status="pending")
    factories.organization(db, region="HE", status="rejected")
    viewers.append(pending.owner)
    for viewer in viewers:
        listed = set(db.scalars(sa.select(Organization.id).where(policy.visible_organizations(viewer))))
        allowed = {org.id for org in db.scalars(sa.select(Organization))
                   if policy.can(viewer, policy.Action.ORGANIZATION_VIEW, org)}
        assert listed == allowed, viewer
