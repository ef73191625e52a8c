"""The life of a voucher through the service layer: issue, redeem, settle, revoke, expire — and the books."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from exchange.errors import Conflict, Forbidden, NotFound, ValidationFailed
from exchange.vouchers.audit import audit_books
from exchange.vouchers.models import RedemptionStatus, SettlementStatus, VoucherStatus
from exchange.vouchers.services import (
    ApplicationRequest,
    OrderRequest,
    apply_for_voucher,
    approve_application,
    approve_settlement,
    expire_vouchers,
    list_redemptions,
    program_overview,
    RedemptionFilters,
    record_redemption,
    request_settlement,
    revoke_voucher,
    voucher_statement,
)
from exchange.pagination import PageRequest
from exchange.db import utcnow
from tests import factories


def order(voucher_code: str, product_id: int, fee_fen: int, reference: str = "HT-2026-001") -> OrderRequest:
    return OrderRequest(voucher_code=voucher_code, service_product_id=product_id, fee_fen=fee_fen,
                        contract_reference=reference)


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """A Hebei programme (50 % of a fee), a Hebei SME and an admitted Beijing provider."""
    program = factories.program(db, "HE", budget_fen=20_000_000, cap_per_org_fen=10_000_000)
    sme = factories.organization(db, kind="sme", region="HE").owner
    provider = factories.provider(db, "BJ").owner
    product = factories.product_of(db, provider.organization_id)
    return program, sme, provider, product


def test_a_cross_region_redemption_covers_the_ratio_and_is_paid_by_the_issuing_programme(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 5_000_000)

    redemption = record_redemption(db, provider, order(voucher.code, product.id, 1_200_000))

    assert (redemption.covered_fen, redemption.copay_fen) == (600_000, 600_000)
    statement = voucher_statement(db, sme, voucher.code)
    assert statement.balance_fen == 4_400_000
    assert [m.amount_fen for m in statement.movements] == [5_000_000, -600_000]
    # both regions' admins see it
    for region in ("HE", "BJ"):
        admin = factories.region_admin(db, region)
        seen = list_redemptions(db, admin, RedemptionFilters(), PageRequest())
        assert [r.id for r in seen.items] == [redemption.id]
    assert list_redemptions(db, factories.region_admin(db, "TJ"), RedemptionFilters(), PageRequest()).total == 0
    assert audit_books(db).ok


def test_the_voucher_covers_at_most_its_remaining_balance(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 500_000)

    first = record_redemption(db, provider, order(voucher.code, product.id, 2_000_000))

    assert (first.covered_fen, first.copay_fen, first.balance_after_fen) == (500_000, 1_500_000, 0)
    with pytest.raises(Conflict) as refused:
        record_redemption(db, provider, order(voucher.code, product.id, 2_000_000, "HT-2"))
    assert refused.value.code == "voucher_exhausted"
    assert audit_books(db).ok


def test_an_idempotency_key_answers_a_retry_with_the_first_redemption_and_refuses_another_body(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 5_000_000)

    first = record_redemption(db, provider, order(voucher.code, product.id, 1_000_000), idempotency_key="k-1")
    again = record_redemption(db, provider, order(voucher.code, product.id, 1_000_000), idempotency_key="k-1")

    assert again.id == first.id
    assert voucher_statement(db, sme, voucher.code).balance_fen == 4_500_000
    with pytest.raises(Conflict) as reused:
        record_redemption(db, provider, order(voucher.code, product.id, 999_900), idempotency_key="k-1")
    assert reused.value.code == "idempotency_key_reused"


def test_a_fee_above_the_published_fee_is_refused(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id)

    with pytest.raises(ValidationFailed) as refused:
        record_redemption(db, provider, order(voucher.code, product.id, product.fee_fen + 1))
    assert "fee_fen" in refused.value.fields


def test_issuing_stops_at_the_budget_and_at_the_organisations_cap(db, world):
    program, sme, provider, product = world
    factories.voucher(db, sme, program.id, 10_000_000)
    with pytest.raises(Conflict) as capped:
        factories.voucher(db, sme, program.id, 500_000)
    assert capped.value.code == "cap_reached"
    other = factories.organization(db, kind="sme", region="HE").owner
    factories.voucher(db, other, program.id, 10_000_000)
    third = factories.organization(db, kind="sme", region="HE").owner
    with pytest.raises(Conflict) as exhausted:
        factories.voucher(db, third, program.id, 500_000)
    assert exhausted.value.code == "budget_exhausted"
    assert program_overview(db, third, program.id).figures.remaining_fen == 0
    assert audit_books(db).ok


def test_revocation_returns_the_unspent_value_and_the_voucher_then_refuses_payment(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    record_redemption(db, provider, order(voucher.code, product.id, 2_000_000))

    revoke_voucher(db, factories.region_admin(db, "HE"), voucher.code, "虚报服务合同。")

    assert program_overview(db, sme, program.id).figures.remaining_fen == 20_000_000 - 5_000_000 + 4_000_000
    with pytest.raises(Conflict) as refused:
        record_redemption(db, provider, order(voucher.code, product.id, 2_000_000, "HT-9"))
    assert refused.value.code == "voucher_revoked"
    assert audit_books(db).ok


def test_an_expired_voucher_is_refused_even_before_the_worker_ran_and_the_worker_returns_its_value(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    voucher.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()

    with pytest.raises(Conflict) as refused:
        record_redemption(db, provider, order(voucher.code, product.id, 1_000_000))
    assert refused.value.code == "voucher_expired"

    assert expire_vouchers(db) == 1
    assert voucher_statement(db, sme, voucher.code).voucher.status is VoucherStatus.EXPIRED
    assert program_overview(db, sme, program.id).figures.remaining_fen == 20_000_000
    assert audit_books(db).ok


def test_the_provider_is_settled_once_by_the_issuing_regions_admin(db, world):
    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    record_redemption(db, provider, order(voucher.code, product.id, 1_000_000))
    record_redemption(db, provider, order(voucher.code, product.id, 2_000_000, "HT-2"))

    settlement = request_settlement(db, provider, program.id)
    assert settlement.amount_fen == 1_500_000
    with pytest.raises(Conflict):
        request_settlement(db, provider, program.id)
    with pytest.raises(Forbidden):
        approve_settlement(db, factories.region_admin(db, "BJ"), settlement.id)
    paid = approve_settlement(db, factories.region_admin(db, "HE"), settlement.id, "银行流水 20261126")

    assert paid.status is SettlementStatus.PAID
    assert program_overview(db, sme, program.id).figures.settled_fen == 1_500_000
    assert all(r.status is RedemptionStatus.RECORDED for r in paid.redemptions)
    assert audit_books(db).ok


def test_only_an_sme_of_the_programmes_region_may_apply(db, world):
    program, sme, provider, product = world
    beijing_sme = factories.organization(db, kind="sme", region="BJ").owner
    request = ApplicationRequest(program_id=program.id, service_category="testing", planned_service="检测",
                                 amount_fen=500_000, justification="需要检测。")
    with pytest.raises(Forbidden):
        apply_for_voucher(db, beijing_sme, request)
    with pytest.raises(Forbidden):
        apply_for_voucher(db, provider, request)


def test_another_regions_admin_cannot_approve_an_application(db, world):
    program, sme, provider, product = world
    application = apply_for_voucher(db, sme, ApplicationRequest(
        program_id=program.id, service_category="testing", planned_service="检测", amount_fen=500_000,
        justification="需要检测。"))
    with pytest.raises(Forbidden):
        approve_application(db, factories.region_admin(db, "BJ"), application.id)
    with pytest.raises(NotFound):
        approve_application(db, factories.organization(db, kind="sme", region="HE").owner, application.id)


def test_holders_are_warned_once_before_a_voucher_with_value_left_expires(db, world):
    from exchange.notifications.models import Notification
    from exchange.vouchers.services import warn_of_expiry

    program, sme, provider, product = world
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    far = factories.voucher(db, factories.organization(db, kind="sme", region="HE").owner, program.id, 500_000)
    voucher.expires_at = utcnow() + timedelta(days=10)
    db.commit()

    assert warn_of_expiry(db) == 1
    assert warn_of_expiry(db) == 0

    warned = db.scalars(sa.select(Notification).where(Notification.user_id == sme.id)).all()
    assert [n.subject for n in warned if "到期" in n.subject] == [f"创新券即将到期：{voucher.code}"]
    assert far.expiry_warned_at is None
