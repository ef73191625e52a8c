"""The books' invariants, checked in the database with aggregate queries (one pass each), so that the
audit stays fast on hundreds of thousands of ledger entries. Used by `flask vouchers audit` and after
every step of the property-based tests."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.vouchers.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OrganizationAllowance,
    Redemption,
    RedemptionStatus,
    Settlement,
    SettlementStatus,
    TransactionKind,
    Voucher,
    VoucherProgram,
    VoucherStatus,
)


@dataclass(frozen=True)
class AuditReport:
    problems: list[str]
    transactions: int
    entries: int

    @property
    def ok(self) -> bool:
        return not self.problems


def _moved(kind: TransactionKind) -> sa.ColumnElement[int]:
    """The amount a transaction of `kind` moved: the sum of its positive legs."""
    return sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(LedgerTransaction.kind == kind, LedgerEntry.amount_fen > 0), LedgerEntry.amount_fen), else_=0)), 0)


def audit_books(session: Session) -> AuditReport:
    problems: list[str] = []
    entry_sums = (sa.select(LedgerEntry.account_id, sa.func.sum(LedgerEntry.amount_fen).label("total"))
                  .group_by(LedgerEntry.account_id).subquery())
    derived = sa.func.coalesce(entry_sums.c.total, 0)

    # Every transaction is balanced and has at least two legs.
    for transaction_id, total, legs in session.execute(
            sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount_fen), sa.func.count())
            .group_by(LedgerEntry.transaction_id)
            .having(sa.or_(sa.func.sum(LedgerEntry.amount_fen) != 0, sa.func.count() < 2))):
        problems.append(f"transaction {transaction_id}: {legs} legs summing to {total} fen (must be ≥ 2 legs, 0 fen)")
    for (transaction_id,) in session.execute(
            sa.select(LedgerTransaction.id).where(~sa.exists().where(LedgerEntry.transaction_id == LedgerTransaction.id))):
        problems.append(f"transaction {transaction_id} has no entries")

    # Each account's running balance equals the sum of its entries; only funding goes negative.
    for key, kept, total in session.execute(
            sa.select(LedgerAccount.key, LedgerAccount.balance_fen, derived)
            .outerjoin(entry_sums, entry_sums.c.account_id == LedgerAccount.id)
            .where(sa.or_(LedgerAccount.balance_fen != derived,
                          sa.and_(LedgerAccount.kind != AccountKind.FUNDING, derived < 0)))):
        problems.append(f"account {key}: kept balance {kept} fen, ledger says {total} fen")

    # Per programme: funded exactly its budget; issued (net of returns) never beyond it.
    for program_id, budget, funded, issued, returned in session.execute(
            sa.select(VoucherProgram.id, VoucherProgram.budget_fen, _moved(TransactionKind.FUND),
                      _moved(TransactionKind.ISSUE),
                      _moved(TransactionKind.REVOKE) + _moved(TransactionKind.EXPIRE))
            .outerjoin(LedgerTransaction, LedgerTransaction.program_id == VoucherProgram.id)
            .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .group_by(VoucherProgram.id, VoucherProgram.budget_fen)):
        if funded not in (0, budget):
            problems.append(f"programme {program_id}: funded {funded} fen, budget is {budget} fen")
        if issued - returned > budget:
            problems.append(f"programme {program_id}: {issued - returned} fen issued net of returns, over the "
                            f"{budget} fen budget")

    # Per voucher: face = remaining + redeemed + returned; 0 ≤ remaining ≤ face; ended vouchers hold nothing.
    voucher_moves = (
        sa.select(LedgerTransaction.voucher_id,
                  _moved(TransactionKind.ISSUE).label("issued"),
                  sa.func.coalesce(sa.func.sum(sa.case(
                      (sa.and_(LedgerTransaction.kind == TransactionKind.REDEEM, LedgerEntry.amount_fen > 0),
                       LedgerEntry.amount_fen), else_=0)), 0).label("redeemed"),
                  (_moved(TransactionKind.REVOKE) + _moved(TransactionKind.EXPIRE)).label("returned"))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.voucher_id.is_not(None)).group_by(LedgerTransaction.voucher_id).subquery())
    remaining = (sa.select(LedgerAccount.voucher_id, derived.label("remaining"))
                 .outerjoin(entry_sums, entry_sums.c.account_id == LedgerAccount.id)
                 .where(LedgerAccount.kind == AccountKind.VOUCHER).subquery())
    covered = (sa.select(Redemption.voucher_id, sa.func.sum(Redemption.covered_fen).label("covered"))
               .where(Redemption.status == RedemptionStatus.RECORDED).group_by(Redemption.voucher_id).subquery())
    for code, face, status, issued, redeemed, returned, left, recorded in session.execute(
            sa.select(Voucher.code, Voucher.face_fen, Voucher.status,
                      sa.func.coalesce(voucher_moves.c.issued, 0), sa.func.coalesce(voucher_moves.c.redeemed, 0),
                      sa.func.coalesce(voucher_moves.c.returned, 0), sa.func.coalesce(remaining.c.remaining, 0),
                      sa.func.coalesce(covered.c.covered, 0))
            .outerjoin(voucher_moves, voucher_moves.c.voucher_id == Voucher.id)
            .outerjoin(remaining, remaining.c.voucher_id == Voucher.id)
            .outerjoin(covered, covered.c.voucher_id == Voucher.id)):
        if issued != face:
            problems.append(f"voucher {code}: face {face} fen but {issued} fen issued")
        if face != left + redeemed + returned:
            problems.append(f"voucher {code}: face {face} ≠ remaining {left} + redeemed {redeemed} + returned {returned}")
        if not 0 <= left <= face:
            problems.append(f"voucher {code}: remaining {left} fen outside 0…{face}")
        if status is not VoucherStatus.ACTIVE and left != 0:
            problems.append(f"voucher {code} is {status.value} but still holds {left} fen")
        if recorded != redeemed:
            problems.append(f"voucher {code}: orders cover {recorded} fen, the ledger redeemed {redeemed} fen")

    # Nothing redeemed after expiry or revocation.
    for transaction_id, code in session.execute(
            sa.select(LedgerTransaction.id, Voucher.code).join(Voucher, Voucher.id == LedgerTransaction.voucher_id)
            .where(LedgerTransaction.kind == TransactionKind.REDEEM,
                   sa.or_(LedgerTransaction.created_at >= Voucher.expires_at,
                          sa.and_(Voucher.status == VoucherStatus.REVOKED,
                                  LedgerTransaction.created_at > Voucher.ended_at)))):
        problems.append(f"transaction {transaction_id}: voucher {code} redeemed after it expired or was revoked")

    # Settled never more than redeemed: paid settlements equal payouts, and each equals its orders.
    for settlement_id, amount, orders in session.execute(
            sa.select(Settlement.id, Settlement.amount_fen, sa.func.coalesce(sa.func.sum(Redemption.covered_fen), 0))
            .outerjoin(Redemption, Redemption.settlement_id == Settlement.id)
            .where(Settlement.status != SettlementStatus.REJECTED)
            .group_by(Settlement.id, Settlement.amount_fen)
            .having(Settlement.amount_fen != sa.func.coalesce(sa.func.sum(Redemption.covered_fen), 0))):
        problems.append(f"settlement {settlement_id}: {amount} fen asked, its orders cover {orders} fen")
    paid = dict(session.execute(sa.select(Settlement.program_id, sa.func.sum(Settlement.amount_fen))
                                .where(Settlement.status == SettlementStatus.PAID)
                                .group_by(Settlement.program_id)).all())
    for program_id, settled, redeemed in session.execute(
            sa.select(LedgerTransaction.program_id, _moved(TransactionKind.SETTLE), _moved(TransactionKind.REDEEM))
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .group_by(LedgerTransaction.program_id)):
        if settled > redeemed:
            problems.append(f"programme {program_id}: settled {settled} fen, more than the {redeemed} fen redeemed")
        if settled != (paid.get(program_id) or 0):
            problems.append(f"programme {program_id}: paid settlements {paid.get(program_id) or 0} fen, "
                            f"the ledger settled {settled} fen")

    # Each organisation's allowance counts exactly the vouchers issued to it, within its cap.
    faces = (sa.select(Voucher.program_id, Voucher.organization_id, sa.func.sum(Voucher.face_fen).label("faces"))
             .group_by(Voucher.program_id, Voucher.organization_id).subquery())
    for program_id, organization_id, counted, cap, issued in session.execute(
            sa.select(OrganizationAllowance.program_id, OrganizationAllowance.organization_id,
                      OrganizationAllowance.issued_fen, OrganizationAllowance.cap_fen,
                      sa.func.coalesce(faces.c.faces, 0))
            .outerjoin(faces, sa.and_(faces.c.program_id == OrganizationAllowance.program_id,
                                      faces.c.organization_id == OrganizationAllowance.organization_id))
            .where(sa.or_(OrganizationAllowance.issued_fen != sa.func.coalesce(faces.c.faces, 0),
                          OrganizationAllowance.issued_fen > OrganizationAllowance.cap_fen))):
        problems.append(f"programme {program_id}, organisation {organization_id}: allowance counts {counted} fen, "
                        f"vouchers {issued} fen, cap {cap} fen")

    transactions = session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) or 0
    entries = session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) or 0
    return AuditReport(problems, transactions, entries)
