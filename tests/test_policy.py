"""Every service consults the policy: one that forgets fails loudly instead of leaking."""
from __future__ import annotations

import inspect
import itertools
from typing import Any

import pytest
import sqlalchemy as sa

from exchange import policy
from exchange.accounts import services as account_services
from exchange.accounts.models import User, Visitor
from exchange.catalog.models import Entry
from exchange.demo.entries import PATHS
from exchange.orgs import services as org_services
from exchange.orgs.models import Organization
from exchange.search.documents import viewer_labels, visibility_labels
from exchange.site import services as site_services
from exchange.unit_of_work import service
from exchange.vouchers import providers as voucher_providers
from exchange.vouchers import services as voucher_services
from exchange.vouchers.models import ProgramStatus, ProviderProfile, ProviderStatus, VoucherProgram
from tests import factories


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


REGIONS = ("BJ", "TJ", "HE")
ORGANIZATION_KINDS = ("institute", "enterprise", "sme", "provider")


def _world(db: Any) -> list[Any]:
    """Objects of every model a rule filters, in every state and region, and everyone who may look at
    them: the anonymous visitor, members of every kind of organisation in every state, the admin of
    every region and the platform admin."""
    viewers: list[Any] = [Visitor(), factories.platform_admin(db), *(factories.region_admin(db, r) for r in REGIONS)]
    for number, (kind, status) in enumerate(itertools.product(ORGANIZATION_KINDS, ("pending", "approved", "rejected"))):
        registered = factories.organization(db, kind=kind, region=REGIONS[number % 3], status=status)
        viewers.append(registered.owner)
    viewers.append(factories.member(db, registered.organization))  # not its owner
    for region in REGIONS:
        publisher = factories.organization(db, kind="institute", region=region).owner
        viewers.append(publisher)
        for status in PATHS:
            factories.entry(db, region=region, status=status, owner=publisher)
        for status in ("draft", "open", "closed"):
            factories.program(db, region, status=status)
        for status in ("applied", "in_notice", "admitted", "suspended"):
            viewers.append(factories.provider(db, region, status=status).owner)
    refused = factories.provider(db, "HE", status="applied")
    voucher_providers.reject_provider(db, factories.region_admin(db, "HE"), refused.organization.id, "资质证书已过期。")
    viewers.append(refused.owner)
    codes = {}
    for region in ("BJ", "TJ"):
        holder = factories.organization(db, kind="sme", region=region).owner
        viewers.append(holder)
        codes[region] = factories.voucher(db, holder, _open_program(db, region).id).code
    for fate in ("submitted", "rejected"):
        applicant = factories.organization(db, kind="sme", region="BJ").owner
        viewers.append(applicant)
        application = voucher_services.apply_for_voucher(db, applicant, voucher_services.ApplicationRequest(
            _open_program(db, "BJ").id, "testing", "材料成分检测", 5_000_000, "新产品研发需要第三方检测。"))
        if fate == "rejected":
            voucher_services.reject_application(db, factories.region_admin(db, "BJ"), application.id, "材料不全。")
    # Orders in the voucher's region and across regions, and what the providers asked to be paid.
    for voucher_region, provider_region in (("BJ", "BJ"), ("BJ", "TJ"), ("TJ", "HE")):
        provider = db.scalars(sa.select(ProviderProfile).join(ProviderProfile.organization).where(
            ProviderProfile.status == ProviderStatus.ADMITTED, Organization.region_code == provider_region)).first()
        provider_owner = db.scalars(sa.select(User).where(User.organization_id == provider.organization_id)).first()
        product = factories.product_of(db, provider.organization_id)
        voucher_services.record_redemption(db, provider_owner, voucher_services.OrderRequest(
            codes[voucher_region], product.id, product.fee_fen, "HT-规则-001"))
        voucher_services.request_settlement(db, provider_owner, _open_program(db, voucher_region).id)
    return viewers


def _open_program(db: Any, region: str) -> VoucherProgram:
    return db.scalars(sa.select(VoucherProgram).where(VoucherProgram.region_code == region,
                                                      VoucherProgram.status == ProgramStatus.OPEN)).one()


def test_every_list_filter_selects_exactly_the_rows_its_rule_allows(db):
    viewers = _world(db)
    filtered = {action: rule for action, rule in policy.RULES.items() if rule.has_filter}
    assert set(policy.VIEW_ACTION_BY_TYPE.values()) <= set(filtered)
    disagreements = []
    for action, rule in filtered.items():
        rows = list(db.scalars(sa.select(rule.on)))
        assert rows, f"the world has no {rule.on.__name__} to check {action} against"
        for viewer in viewers:
            listed = set(db.scalars(sa.select(rule.on).where(rule.filter(viewer))))
            allowed = {row for row in rows if policy.can(viewer, action, row)}
            if listed != allowed:
                disagreements.append(f"{action} for {viewer.role} {viewer.id}: listed, not allowed "
                                     f"{_keys(listed - allowed)}; allowed, not listed {_keys(allowed - listed)}")
    assert disagreements == []


def test_the_search_labels_grant_exactly_what_the_entry_rule_allows(db):
    viewers = _world(db)
    entries = list(db.scalars(sa.select(Entry)))
    for viewer in viewers:
        labels = viewer_labels(viewer)
        found = {entry for entry in entries if labels is None or set(visibility_labels(entry)) & set(labels)}
        assert found == {entry for entry in entries if policy.can(viewer, policy.Action.ENTRY_VIEW, entry)}, viewer


def _keys(rows: set[Any]) -> list[Any]:
    return sorted(sa.inspect(row).identity for row in rows)
