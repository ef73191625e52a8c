"""The double-entry ledger: every movement of money is one balanced transaction.

Overdrafts are refused by the database, not by a read followed by a write: each leg is a
conditional `UPDATE … SET balance = balance + :amount WHERE id = :id AND balance + :amount >= 0`.
PostgreSQL at Read Committed re-evaluates that condition against the latest committed row after
waiting for a concurrent writer, so two redemptions of the last yuan cannot both succeed; a CHECK
constraint backs it up. SQLite has no row locks and silently ignores FOR UPDATE: there, money
transactions start with BEGIN IMMEDIATE (`begin_money_transaction`), which makes them take turns.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.db import utcnow
from exchange.unit_of_work import begin_immediate
from exchange.vouchers.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)


class Overdrawn(Exception):
    """A leg would take an account below zero; the caller turns it into the user's message."""

    def __init__(self, account: LedgerAccount) -> None:
        super().__init__(account.key)
        self.account = account


def begin_money_transaction(session: Session) -> None:
    """Start the transaction a money-moving service runs in, first thing in its unit of work.

    On SQLite, BEGIN IMMEDIATE takes the write lock before anything is read, so the balances a
    service reads are still true when it writes; a read snapshot taken earlier (loading the
    user of the request) is ended first. PostgreSQL needs nothing: the conditional updates and
    row locks below do the work.
    """
    begin_immediate(session)


def account_key(kind: AccountKind, program_id: int, *, voucher_id: int | None = None,
                organization_id: int | None = None) -> str:
    parts = [kind.value, str(program_id)]
    if voucher_id is not None:
        parts.append(f"v{voucher_id}")
    if organization_id is not None:
        parts.append(f"o{organization_id}")
    return ":".join(parts)


def account(session: Session, kind: AccountKind, program_id: int, *, voucher_id: int | None = None,
            organization_id: int | None = None, lock: bool = False) -> LedgerAccount:
    """The account, opened on first use (concurrent first uses open it once: the key is unique).

    With `lock`, its row stays locked until the transaction ends (PostgreSQL) and its balance is
    read fresh, so that what the caller computes from it is still true when it writes.
    """
    key = account_key(kind, program_id, voucher_id=voucher_id, organization_id=organization_id)
    statement = sa.select(LedgerAccount).where(LedgerAccount.key == key)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    existing = session.scalar(statement)
    if existing is not None:
        return existing
    insert = insert_ignoring_duplicates(session, LedgerAccount, ["key"]).values(
        key=key, kind=kind, program_id=program_id, voucher_id=voucher_id, organization_id=organization_id,
        balance_fen=0)
    session.execute(insert)
    return session.scalars(statement).one()


def insert_ignoring_duplicates(session: Session, model: type, unique_columns: list[str]) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING: a row that a concurrent transaction created first is kept."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(model).on_conflict_do_nothing(index_elements=unique_columns)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing(index_elements=unique_columns)


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount_fen: int


def post(session: Session, kind: TransactionKind, legs: Sequence[Leg], *, program_id: int,
         actor_id: int | None, voucher_id: int | None = None, redemption_id: int | None = None,
         settlement_id: int | None = None) -> LedgerTransaction:
    """Write one balanced transaction.

    The entries are inserted first and the balances updated last, legs in the order given (callers
    put the programme's accounts before a voucher's, a voucher's before a payee's), so that a busy
    account shared by many transactions (a provider's payable) is locked only for the last moment
    before the caller commits.
    """
    if sum(leg.amount_fen for leg in legs) != 0 or any(leg.amount_fen == 0 for leg in legs):
        raise ValueError(f"unbalanced or empty legs in a {kind} transaction: {legs}")
    transaction = LedgerTransaction(kind=kind, program_id=program_id, voucher_id=voucher_id,
                                    redemption_id=redemption_id, settlement_id=settlement_id, actor_id=actor_id,
                                    created_at=utcnow())
    transaction.entries = [LedgerEntry(account_id=leg.account.id, amount_fen=leg.amount_fen) for leg in legs]
    session.add(transaction)
    session.flush()
    for leg in legs:
        # A credit cannot overdraw; the funding account is the one allowed below zero.
        guarded = leg.amount_fen < 0 and leg.account.kind is not AccountKind.FUNDING
        result = session.execute(
            sa.update(LedgerAccount)
            .where(LedgerAccount.id == leg.account.id,
                   LedgerAccount.balance_fen + leg.amount_fen >= 0 if guarded else sa.true())
            .values(balance_fen=LedgerAccount.balance_fen + leg.amount_fen)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Overdrawn(leg.account)
        session.expire(leg.account, ["balance_fen"])
    return transaction


def derived_balance(session: Session, ledger_account: LedgerAccount) -> int:
    """The balance as the ledger says it: the sum of the account's entries."""
    return session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
                          .where(LedgerEntry.account_id == ledger_account.id)) or 0

