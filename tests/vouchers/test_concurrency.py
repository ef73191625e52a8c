"""Money under concurrency: many requests at the same moment, each on its own database connection.

Strategy proved here (see exchange/vouchers/ledger.py):
* PostgreSQL at Read Committed: every debit is a conditional `UPDATE ledger_accounts SET balance_fen =
  balance_fen + :amount WHERE id = :id AND balance_fen + :amount >= 0`, re-evaluated against the latest
  committed row after a concurrent writer commits; a redemption first locks its voucher row
  (`SELECT … FOR UPDATE`), so the share it computes from the balance is still true when it writes.
  An organisation's cap is the same kind of conditional update on its allowance row.
* SQLite (no row locks, FOR UPDATE ignored): money transactions start with BEGIN IMMEDIATE and so take
  turns; the same conditional updates and CHECK constraints hold.

On both, the number of successes must be exactly what the balance or the budget allows, and the books
must balance afterwards. The test runs on whichever database the suite runs on (CI: both).
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts.models import User
from exchange.errors import Conflict
from exchange.extensions import db as extension_db
from exchange.vouchers.audit import audit_books
from exchange.vouchers.models import Voucher, VoucherApplication
from exchange.vouchers.services import (
    ApplicationRequest,
    OrderRequest,
    apply_for_voucher,
    approve_application,
    program_overview,
    record_redemption,
    voucher_balances,
)
from tests import factories
from tests.conftest import database_url

CONCURRENT_REQUESTS = 50


@pytest.fixture
def app_overrides(tmp_path: Any) -> dict[str, Any]:
    # One connection per concurrent request: the pool must not make them queue for a connection.
    return {"SQLALCHEMY_ENGINES": {"default": {"url": database_url(tmp_path), "pool_size": CONCURRENT_REQUESTS + 5,
                                               "max_overflow": 0, "pool_timeout": 60}}}


def run_at_once(app: Any, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each call in its own thread with its own app context (session and connection), all released
    together by a barrier; returns each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def worker(index: int) -> None:
        with app.app_context():
            session = extension_db.session
            session.connection()  # take a connection before the start line, not after it
            barrier.wait()
            try:
                outcomes[index] = calls[index](session)
            except Exception as error:  # each outcome is inspected by the test
                session.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a concurrent request hung"
    return outcomes


def tally(outcomes: list[Any]) -> Counter[str]:
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, Conflict)]
    assert not unexpected, f"unexpected errors: {unexpected[:3]}"
    return Counter(o.code if isinstance(o, Conflict) else "ok" for o in outcomes)


def test_concurrent_redemptions_of_one_voucher_never_overdraw_it(app, db):
    program = factories.program(db, "HE")
    sme = factories.organization(db, kind="sme", region="HE").owner
    voucher = factories.voucher(db, sme, program.id, 5_000_000)          # 50,000 yuan
    provider = factories.provider(db, "BJ", products=(("热分析检测", "testing", "4000"),)).owner
    product = factories.product_of(db, provider.organization_id)           # covers 2,000 yuan each: 25 fit
    provider_id, code, product_id = provider.id, voucher.code, product.id

    def redeem(index: int) -> Callable[[Any], Any]:
        def call(session: Any) -> Any:
            actor = session.get(User, provider_id)
            order = OrderRequest(code, product_id, 400_000, f"HT-{index}")
            return record_redemption(session, actor, order).covered_fen
        return call

    outcomes = run_at_once(app, [redeem(index) for index in range(CONCURRENT_REQUESTS)])

    counts = tally(outcomes)
    assert counts == {"ok": 25, "voucher_exhausted": 25}
    db.expire_all()
    voucher_id = db.scalar(sa.select(Voucher.id).where(Voucher.code == code))
    assert voucher_balances(db, [voucher_id]) == {voucher_id: 0}
    assert sum(o for o in outcomes if isinstance(o, int)) == 5_000_000
    assert audit_books(db).ok, audit_books(db).problems


@pytest.mark.parametrize("limit", ["budget", "cap"])
def test_concurrent_approvals_never_issue_beyond_the_budget_or_the_cap(app, db, limit):
    # Ten units left to give: the programme's budget, or (with a large budget) the organisation's cap.
    unit = 500_000
    rules = {"budget_fen": 10 * unit, "cap_per_org_fen": 100 * unit} if limit == "budget" else {
        "budget_fen": 1_000 * unit, "cap_per_org_fen": 10 * unit}
    program = factories.program(db, "TJ", max_face_fen=unit, **rules)
    sme = factories.organization(db, kind="sme", region="TJ").owner
    application_ids = [apply_for_voucher(db, sme, ApplicationRequest(
        program_id=program.id, service_category="testing", planned_service=f"检测 {index}", amount_fen=unit,
        justification="研发检测。")).id for index in range(CONCURRENT_REQUESTS)]
    admin_id = factories.region_admin(db, "TJ").id

    def approve(application_id: int) -> Callable[[Any], Any]:
        def call(session: Any) -> Any:
            return approve_application(session, session.get(User, admin_id), application_id).face_fen
        return call

    outcomes = run_at_once(app, [approve(application_id) for application_id in application_ids])

    expected_refusal = "budget_exhausted" if limit == "budget" else "cap_reached"
    assert tally(outcomes) == {"ok": 10, expected_refusal: 40}
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 10
    assert db.scalar(sa.select(sa.func.count()).select_from(VoucherApplication)
                     .where(VoucherApplication.status == "approved")) == 10
    figures = program_overview(db, sme, program.id).figures
    assert figures.issued_fen == 10 * unit
    assert figures.remaining_fen == rules["budget_fen"] - 10 * unit
    assert audit_books(db).ok, audit_books(db).problems


def test_concurrent_retries_with_one_idempotency_key_record_one_order(app, db):
    program = factories.program(db, "HE")
    sme = factories.organization(db, kind="sme", region="HE").owner
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    provider = factories.provider(db, "BJ").owner
    product = factories.product_of(db, provider.organization_id)
    provider_id, order = provider.id, OrderRequest(voucher.code, product.id, 1_000_000, "HT-RETRY")

    def retry(session: Any) -> Any:
        return record_redemption(session, session.get(User, provider_id), order, idempotency_key="retry-1").id

    outcomes = run_at_once(app, [retry] * 10)

    assert tally(outcomes) == {"ok": 10}
    assert len(set(outcomes)) == 1
    db.expire_all()
    voucher_id = db.scalar(sa.select(Voucher.id).where(Voucher.code == voucher.code))
    assert voucher_balances(db, [voucher_id]) == {voucher_id: 4_500_000}
    assert audit_books(db).ok
