"""The audit finds every kind of break in the books (each made by hand, as a bug or a manual edit would)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from exchange.vouchers.audit import audit_books
from exchange.vouchers.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OrganizationAllowance,
    Redemption,
    Settlement,
    TransactionKind,
    Voucher,
)
from exchange.vouchers.services import OrderRequest, record_redemption, request_settlement
from tests import factories


@pytest.fixture
def books(db):  # type: ignore[no-untyped-def]
    """A programme with one voucher that paid one order, and a settlement request."""
    program = factories.program(db, "HE")
    sme = factories.organization(db, kind="sme", region="HE").owner
    voucher = factories.voucher(db, sme, program.id, 1_000_000)
    provider = factories.provider(db, "BJ").owner
    product = factories.product_of(db, provider.organization_id)
    redemption = record_redemption(db, provider, OrderRequest(voucher.code, product.id, 400_000, "HT-1"))
    settlement = request_settlement(db, provider, program.id)
    assert audit_books(db).ok
    return voucher, redemption, settlement


def unbalance(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    entry = db.scalar(sa.select(LedgerEntry).join(LedgerTransaction)
                      .where(LedgerTransaction.kind == TransactionKind.REDEEM, LedgerEntry.amount_fen > 0))
    entry.amount_fen += 1
    return f"transaction {entry.transaction_id}: 2 legs summing to 1 fen"


def edit_a_balance(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    account = db.scalar(sa.select(LedgerAccount).where(LedgerAccount.voucher_id == voucher.id))
    account.balance_fen = 0
    return f"account {account.key}: kept balance 0 fen"


def redeem_after_expiry(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    db.get(Voucher, voucher.id).expires_at = redemption.created_at - timedelta(days=1)
    return f"voucher {voucher.code} redeemed after it expired or was revoked"


def lose_an_order(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    db.get(Redemption, redemption.id).covered_fen -= 100
    db.get(Redemption, redemption.id).copay_fen += 100
    return f"voucher {voucher.code}: orders cover 199900 fen, the ledger redeemed 200000 fen"


def inflate_a_settlement(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    db.get(Settlement, settlement.id).amount_fen += 50
    return f"settlement {settlement.id}: 200050 fen asked, its orders cover 200000 fen"


def forget_an_allowance(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    allowance = db.scalar(sa.select(OrganizationAllowance))
    allowance.issued_fen = 0
    return f"allowance counts 0 fen, vouchers {voucher.face_fen} fen"


def change_a_face_value(db, voucher, redemption, settlement):  # type: ignore[no-untyped-def]
    db.get(Voucher, voucher.id).face_fen = 2_000_000
    return f"voucher {voucher.code}: face 2000000 fen but 1000000 fen issued"


@pytest.mark.parametrize("corrupt", [unbalance, edit_a_balance, redeem_after_expiry, lose_an_order,
                                     inflate_a_settlement, forget_an_allowance, change_a_face_value])
def test_the_audit_reports_a_break(db, books, corrupt):
    expected = corrupt(db, *books)
    db.commit()

    report = audit_books(db)

    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems
