"""Random sequences of voucher operations against a model of what the books must say (hypothesis,
stateful). After every step: the audit finds nothing, and every balance equals the model's."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from exchange.db import utcnow
from exchange.errors import Conflict, ValidationFailed
from exchange.vouchers.audit import audit_books
from exchange.vouchers.models import Voucher, VoucherApplication
from exchange.vouchers.services import (
    ApplicationRequest,
    OrderRequest,
    apply_for_voucher,
    approve_application,
    approve_settlement,
    expire_vouchers,
    program_overview,
    record_redemption,
    reject_application,
    request_settlement,
    revoke_voucher,
    voucher_balances,
)
from tests import factories

UNIT = 100_000  # 1,000 yuan


@dataclass
class ModelVoucher:
    id: int
    code: str
    balance: int
    ended: bool = False


@dataclass
class Books:
    """What the ledger must say, kept by hand."""

    budget_left: int
    cap: int
    coverage_percent: int
    issued_to: dict[int, int] = field(default_factory=dict)   # organisation id → issued
    payable: int = 0
    settled: int = 0


def test_random_voucher_operations_keep_the_books_true(db):
    smes = [factories.organization(db, kind="sme", region="HE").owner for _ in range(2)]
    provider = factories.provider(db, "TJ", products=(("检测服务", "testing", "30000"),)).owner
    product = factories.product_of(db, provider.organization_id)
    admin = factories.region_admin(db, "HE")

    class VoucherBooks(RuleBasedStateMachine):
        applications = Bundle("applications")
        vouchers = Bundle("vouchers")

        @initialize(budget_units=st.integers(1, 12), cap_units=st.integers(1, 8), coverage=st.integers(1, 100))
        def open_programme(self, budget_units: int, cap_units: int, coverage: int) -> None:
            self.program = factories.program(db, "HE", budget_fen=budget_units * UNIT, unit_fen=UNIT,
                                             max_face_fen=4 * UNIT, cap_per_org_fen=cap_units * UNIT,
                                             coverage_percent=coverage)
            self.books = Books(budget_left=budget_units * UNIT, cap=cap_units * UNIT, coverage_percent=coverage)
            self.model_vouchers: dict[int, ModelVoucher] = {}

        @rule(target=applications, sme=st.sampled_from(range(2)), units=st.integers(1, 4))
        def apply(self, sme: int, units: int):  # type: ignore[no-untyped-def]
            amount = units * UNIT
            request = ApplicationRequest(program_id=self.program.id, service_category="testing",
                                         planned_service="检测", amount_fen=amount, justification="研发需要。")
            if amount > self.books.cap:
                with pytest.raises(ValidationFailed):
                    apply_for_voucher(db, smes[sme], request)
                return multiple()
            return apply_for_voucher(db, smes[sme], request).id

        @rule(target=vouchers, application_id=applications)
        def approve(self, application_id: int):  # type: ignore[no-untyped-def]
            application = db.get(VoucherApplication, application_id)
            decided = application.status.value != "submitted"
            amount, organization_id = application.amount_fen, application.organization_id
            already = self.books.issued_to.get(organization_id, 0)
            try:
                voucher = approve_application(db, admin, application_id)
            except Conflict as refused:
                expected = ("application_decided" if decided else
                            "cap_reached" if already + amount > self.books.cap else "budget_exhausted")
                assert refused.code == expected
                assert decided or amount > self.books.budget_left or already + amount > self.books.cap
                return multiple()
            assert not decided and amount <= self.books.budget_left and already + amount <= self.books.cap
            self.books.budget_left -= amount
            self.books.issued_to[organization_id] = already + amount
            self.model_vouchers[voucher.id] = ModelVoucher(voucher.id, voucher.code, amount)
            event("issued")
            return voucher.id

        @rule(application_id=applications)
        def reject(self, application_id: int) -> None:
            try:
                reject_application(db, admin, application_id, "材料不全。")
            except Conflict as refused:
                assert refused.code == "application_decided"

        @rule(voucher_id=vouchers, fee_yuan=st.integers(1, 30000))
        def redeem(self, voucher_id: int, fee_yuan: int) -> None:
            model = self.model_vouchers[voucher_id]
            fee = fee_yuan * 100
            share = fee * self.books.coverage_percent // 100
            order = OrderRequest(model.code, product.id, fee, f"HT-{voucher_id}-{fee}")
            try:
                redemption = record_redemption(db, provider, order)
            except Conflict as refused:
                assert model.ended or model.balance == 0, refused.code
                return
            except ValidationFailed:
                assert share == 0 and model.balance > 0 and not model.ended
                return
            assert not model.ended
            assert redemption.covered_fen == min(model.balance, share)
            assert redemption.copay_fen == fee - redemption.covered_fen
            model.balance -= redemption.covered_fen
            event("redeemed in full" if redemption.covered_fen == share else "redeemed the rest")
            self.books.payable += redemption.covered_fen

        @precondition(lambda self: self.books.payable > 0)
        @rule()
        def settle(self) -> None:
            settlement = request_settlement(db, provider, self.program.id)
            assert settlement.amount_fen == self.books.payable
            approve_settlement(db, admin, settlement.id)
            self.books.settled += self.books.payable
            event("settled")
            self.books.payable = 0

        @rule(voucher_id=vouchers)
        def revoke(self, voucher_id: int) -> None:
            model = self.model_vouchers[voucher_id]
            try:
                revoke_voucher(db, admin, model.code, "核查发现虚假合同。")
            except Conflict:
                assert model.ended
                return
            self._end(model)

        @rule(voucher_id=vouchers)
        def expire(self, voucher_id: int) -> None:
            model = self.model_vouchers[voucher_id]
            voucher = db.get(Voucher, voucher_id)
            if not model.ended:  # its last day ends now: after every order it paid so far
                voucher.expires_at = utcnow()
                db.commit()
            expired = expire_vouchers(db, now=utcnow() + timedelta(microseconds=1))
            assert expired == (0 if model.ended else 1)
            if not model.ended:
                self._end(model)

        def _end(self, model: ModelVoucher) -> None:
            self.books.budget_left += model.balance
            model.balance, model.ended = 0, True

        @invariant()
        def books_balance(self) -> None:
            if not hasattr(self, "books"):
                return
            report = audit_books(db)
            assert report.ok, report.problems
            figures = program_overview(db, admin, self.program.id).figures
            assert figures.remaining_fen == self.books.budget_left
            assert figures.redeemed_fen - figures.settled_fen == self.books.payable
            assert figures.settled_fen == self.books.settled
            balances = voucher_balances(db, list(self.model_vouchers))
            assert balances == {vid: model.balance for vid, model in self.model_vouchers.items()}

    run_state_machine_as_test(VoucherBooks, settings=settings(
        max_examples=50, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
