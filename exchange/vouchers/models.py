"""Innovation vouchers (创新券): programmes, providers and their services, applications, vouchers,
redemptions, settlements, and the double-entry ledger that holds every fen of them."""
from __future__ import annotations

from datetime import datetime
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import ENUM_LABELS, Base, LabelledEnum, TimestampMixin, enum_column, utcnow
from exchange.orgs.models import Organization
from exchange.taxonomy.models import Region

Fen = sa.BigInteger  # money is integer fen (分) everywhere; never floats


class ProgramStatus(LabelledEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class RedemptionMode(LabelledEnum):
    DIRECT = "direct"                # 通兑: the provider records the order, the voucher pays its share
    REIMBURSEMENT = "reimbursement"  # 通用: the SME pays in full and claims its share back


class ServiceCategory(LabelledEnum):
    TESTING = "testing"
    JOINT_RND = "joint_rnd"
    COMMISSIONED_RND = "commissioned_rnd"
    DESIGN = "design"
    TECHNICAL_SOLUTION = "technical_solution"


class ProviderCategory(LabelledEnum):
    KEY_LAB = "key_lab"
    ENGINEERING_CENTRE = "engineering_centre"
    TESTING_CENTRE = "testing_centre"
    DESIGN_CENTRE = "design_centre"
    TRANSFER_AGENCY = "transfer_agency"


class ProviderStatus(LabelledEnum):
    APPLIED = "applied"
    IN_NOTICE = "in_notice"
    ADMITTED = "admitted"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ApplicationStatus(LabelledEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class VoucherStatus(LabelledEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class RedemptionStatus(LabelledEnum):
    CLAIMED = "claimed"      # a reimbursement claim waiting for the admin; no money has moved
    RECORDED = "recorded"    # the voucher paid its share: on the ledger
    REJECTED = "rejected"    # a claim the admin refused


class SettlementStatus(LabelledEnum):
    REQUESTED = "requested"
    PAID = "paid"
    REJECTED = "rejected"


class AccountKind(LabelledEnum):
    FUNDING = "funding"    # where a programme's budget comes from: the only account that goes negative
    BUDGET = "budget"      # a programme's budget not yet issued
    VOUCHER = "voucher"    # a voucher's remaining value
    PAYABLE = "payable"    # what a programme owes a payee for redeemed vouchers, not yet settled
    PAYOUT = "payout"      # what a programme has paid a payee


class TransactionKind(LabelledEnum):
    FUND = "fund"
    ISSUE = "issue"
    REDEEM = "redeem"
    SETTLE = "settle"
    REVOKE = "revoke"
    EXPIRE = "expire"


ENUM_LABELS.update({
    (ProgramStatus, "draft"): _l("Draft"),
    (ProgramStatus, "open"): _l("Open for applications"),
    (ProgramStatus, "closed"): _l("Closed"),
    (RedemptionMode, "direct"): _l("Direct redemption (通兑)"),
    (RedemptionMode, "reimbursement"): _l("Reimbursement (通用)"),
    (ServiceCategory, "testing"): _l("Testing and inspection"),
    (ServiceCategory, "joint_rnd"): _l("Joint R&D"),
    (ServiceCategory, "commissioned_rnd"): _l("Commissioned R&D"),
    (ServiceCategory, "design"): _l("Design"),
    (ServiceCategory, "technical_solution"): _l("Technical solutions"),
    (ProviderCategory, "key_lab"): _l("Key laboratory"),
    (ProviderCategory, "engineering_centre"): _l("Engineering research centre"),
    (ProviderCategory, "testing_centre"): _l("Testing centre"),
    (ProviderCategory, "design_centre"): _l("Design centre"),
    (ProviderCategory, "transfer_agency"): _l("Technology transfer agency"),
    (ProviderStatus, "applied"): _l("Applied"),
    (ProviderStatus, "in_notice"): _l("In public notice"),
    (ProviderStatus, "admitted"): _l("Admitted"),
    (ProviderStatus, "rejected"): _l("Rejected"),
    (ProviderStatus, "suspended"): _l("Suspended"),
    (ApplicationStatus, "submitted"): _l("Waiting for review"),
    (ApplicationStatus, "approved"): _l("Approved"),
    (ApplicationStatus, "rejected"): _l("Rejected"),
    (VoucherStatus, "active"): _l("Valid"),
    (VoucherStatus, "revoked"): _l("Revoked"),
    (VoucherStatus, "expired"): _l("Expired"),
    (RedemptionStatus, "claimed"): _l("Claim waiting for review"),
    (RedemptionStatus, "recorded"): _l("Redeemed"),
    (RedemptionStatus, "rejected"): _l("Claim rejected"),
    (SettlementStatus, "requested"): _l("Waiting for approval"),
    (SettlementStatus, "paid"): _l("Paid"),
    (SettlementStatus, "rejected"): _l("Rejected"),
    (AccountKind, "funding"): _l("Programme funding"),
    (AccountKind, "budget"): _l("Programme budget"),
    (AccountKind, "voucher"): _l("Voucher balance"),
    (AccountKind, "payable"): _l("Payable to provider"),
    (AccountKind, "payout"): _l("Paid out"),
    (TransactionKind, "fund"): _l("Budget funded"),
    (TransactionKind, "issue"): _l("Voucher issued"),
    (TransactionKind, "redeem"): _l("Redeemed"),
    (TransactionKind, "settle"): _l("Settled"),
    (TransactionKind, "revoke"): _l("Revoked, returned to the budget"),
    (TransactionKind, "expire"): _l("Expired, returned to the budget"),
})

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 2000
REFERENCE_MAX_LENGTH = 100
CODE_LENGTH = 16


class VoucherProgram(TimestampMixin, Base):
    """One region's voucher scheme for one year: every rule of it is data here, never code."""

    __tablename__ = "voucher_programs"
    __table_args__ = (
        sa.CheckConstraint("budget_fen > 0", name="budget_positive"),
        sa.CheckConstraint("unit_fen > 0 AND max_face_fen >= unit_fen", name="face_values"),
        sa.CheckConstraint("coverage_percent BETWEEN 1 AND 100", name="coverage_percent"),
        sa.CheckConstraint("cap_per_org_fen > 0", name="cap_positive"),
        sa.CheckConstraint("validity_days > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX_LENGTH))
    year: Mapped[int]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    budget_fen: Mapped[int] = mapped_column(Fen)
    unit_fen: Mapped[int] = mapped_column(Fen)
    max_face_fen: Mapped[int] = mapped_column(Fen)
    # The share of a service fee that a voucher may cover; the rest is the SME's co-payment.
    coverage_percent: Mapped[int]
    cap_per_org_fen: Mapped[int] = mapped_column(Fen)
    eligible_categories: Mapped[list[str]] = mapped_column(sa.JSON)
    validity_days: Mapped[int]
    accepting_regions: Mapped[list[str]] = mapped_column(sa.JSON)
    redemption_mode: Mapped[RedemptionMode] = mapped_column(enum_column(RedemptionMode, "redemption_mode"))
    status: Mapped[ProgramStatus] = mapped_column(enum_column(ProgramStatus, "program_status"),
                                                  default=ProgramStatus.DRAFT, index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    region: Mapped[Region] = relationship()

    @property
    def categories(self) -> list[ServiceCategory]:
        return [ServiceCategory(value) for value in self.eligible_categories]

    def covered_share(self, fee_fen: int) -> int:
        """The part of a fee a voucher may pay under this programme (rounded down to the fen)."""
        return fee_fen * self.coverage_percent // 100


class ProviderProfile(TimestampMixin, Base):
    """A service provider's admission: applied → public notice (7 days) → admitted, in all three regions."""

    __tablename__ = "voucher_providers"

    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), primary_key=True)
    category: Mapped[ProviderCategory] = mapped_column(enum_column(ProviderCategory, "provider_category"))
    qualifications: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ProviderStatus] = mapped_column(enum_column(ProviderStatus, "provider_status"),
                                                   default=ProviderStatus.APPLIED, index=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    notice_starts_at: Mapped[datetime | None]
    notice_ends_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # of a rejection or a suspension

    organization: Mapped[Organization] = relationship(lazy="joined")
    products: Mapped[list[ServiceProduct]] = relationship(
        back_populates="provider", order_by="ServiceProduct.id")
    objections: Mapped[list[ProviderObjection]] = relationship(order_by="ProviderObjection.id")

    @property
    def id(self) -> int:
        return self.organization_id

    @property
    def region_code(self) -> str:
        return self.organization.region_code

    @property
    def is_admitted(self) -> bool:
        return self.status is ProviderStatus.ADMITTED


class ProviderObjection(Base):
    """An objection raised during a provider's public notice; it holds the admission until dismissed."""

    __tablename__ = "voucher_provider_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_providers.organization_id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    dismissed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    dismissal_reason: Mapped[str] = mapped_column(sa.Text, default="")


class ServiceProduct(TimestampMixin, Base):
    """A service a provider sells at a published fee; vouchers pay only for these."""

    __tablename__ = "voucher_service_products"
    __table_args__ = (sa.CheckConstraint("fee_fen > 0", name="fee_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_providers.organization_id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX_LENGTH))
    category: Mapped[ServiceCategory] = mapped_column(enum_column(ServiceCategory, "service_category"))
    fee_fen: Mapped[int] = mapped_column(Fen)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    provider: Mapped[ProviderProfile] = relationship(back_populates="products")


class VoucherApplication(TimestampMixin, Base):
    __tablename__ = "voucher_applications"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    service_category: Mapped[ServiceCategory] = mapped_column(enum_column(ServiceCategory, "service_category"))
    planned_service: Mapped[str] = mapped_column(sa.String(NAME_MAX_LENGTH))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_providers.organization_id"))
    amount_fen: Mapped[int] = mapped_column(Fen)
    justification: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus, "application_status"),
                                                      default=ApplicationStatus.SUBMITTED, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")

    program: Mapped[VoucherProgram] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")
    provider: Mapped[ProviderProfile | None] = relationship()
    voucher: Mapped[Voucher | None] = relationship(back_populates="application")


class Voucher(TimestampMixin, Base):
    __tablename__ = "vouchers"
    __table_args__ = (sa.CheckConstraint("face_fen > 0", name="face_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_LENGTH), unique=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_applications.id"), unique=True)
    face_fen: Mapped[int] = mapped_column(Fen)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[VoucherStatus] = mapped_column(enum_column(VoucherStatus, "voucher_status"),
                                                  default=VoucherStatus.ACTIVE, index=True)
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revocation_reason: Mapped[str] = mapped_column(sa.Text, default="")
    expiry_warned_at: Mapped[datetime | None]

    program: Mapped[VoucherProgram] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")
    application: Mapped[VoucherApplication] = relationship(back_populates="voucher")

    def is_usable(self, now: datetime) -> bool:
        return self.status is VoucherStatus.ACTIVE and now < self.expires_at


class Settlement(TimestampMixin, Base):
    """A payee asks a programme to pay what vouchers covered; the issuing region's admin decides."""

    __tablename__ = "voucher_settlements"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"), index=True)
    payee_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    amount_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[SettlementStatus] = mapped_column(enum_column(SettlementStatus, "settlement_status"),
                                                     default=SettlementStatus.REQUESTED, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    payment_reference: Mapped[str] = mapped_column(sa.String(REFERENCE_MAX_LENGTH), default="")
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")

    program: Mapped[VoucherProgram] = relationship(lazy="joined")
    payee: Mapped[Organization] = relationship(lazy="joined")
    redemptions: Mapped[list[Redemption]] = relationship(back_populates="settlement", order_by="Redemption.id")


class Redemption(TimestampMixin, Base):
    """One voucher-paid order: the fee, what the voucher covered and what the SME co-paid."""

    __tablename__ = "voucher_redemptions"
    __table_args__ = (
        sa.CheckConstraint("fee_fen > 0", name="fee_positive"),
        sa.CheckConstraint("covered_fen >= 0 AND copay_fen >= 0 AND covered_fen + copay_fen = fee_fen",
                           name="shares"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"), index=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"), index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_providers.organization_id"), index=True)
    # Who is paid for it: the provider (通兑) or the SME that paid in full (通用).
    payee_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    service_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_service_products.id"))
    service_description: Mapped[str] = mapped_column(sa.String(NAME_MAX_LENGTH))
    fee_fen: Mapped[int] = mapped_column(Fen)
    covered_fen: Mapped[int] = mapped_column(Fen)
    copay_fen: Mapped[int] = mapped_column(Fen)
    # The voucher's balance once this order was paid: part of the answer a retried request gets again.
    balance_after_fen: Mapped[int | None] = mapped_column(Fen)
    contract_reference: Mapped[str] = mapped_column(sa.String(REFERENCE_MAX_LENGTH))
    status: Mapped[RedemptionStatus] = mapped_column(enum_column(RedemptionStatus, "redemption_status"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")
    settlement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_settlements.id"), index=True)

    voucher: Mapped[Voucher] = relationship(lazy="joined")
    provider: Mapped[ProviderProfile] = relationship(lazy="joined")
    payee: Mapped[Organization] = relationship()
    product: Mapped[ServiceProduct | None] = relationship()
    settlement: Mapped[Settlement | None] = relationship(back_populates="redemptions")
    attachments: Mapped[list[ClaimAttachment]] = relationship(order_by="ClaimAttachment.id")


class ClaimAttachment(Base):
    """A contract or receipt of a reimbursement claim (stored like entry attachments)."""

    __tablename__ = "voucher_claim_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_redemptions.id"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganizationAllowance(Base):
    """How much of its cap an organisation has been issued in a programme: the guard against
    over-issuing to one organisation under concurrent approvals (a conditional update)."""

    __tablename__ = "voucher_allowances"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "organization_id"),
        sa.CheckConstraint("issued_fen >= 0 AND issued_fen <= cap_fen", name="within_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    cap_fen: Mapped[int] = mapped_column(Fen)
    issued_fen: Mapped[int] = mapped_column(Fen, default=0)


class LedgerAccount(Base):
    """An account of the ledger. `balance_fen` is the running total kept in the same transaction as
    the entries, so that a conditional update can refuse an overdraft; the audit proves it equals
    the sum of the entries."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (sa.CheckConstraint("kind = 'funding' OR balance_fen >= 0", name="not_overdrawn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(60), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind, "account_kind"))
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"), index=True)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    balance_fen: Mapped[int] = mapped_column(Fen, default=0)


class LedgerTransaction(Base):
    """A balanced set of entries: the amounts of its entries sum to zero."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column(TransactionKind, "transaction_kind"), index=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_programs.id"), index=True)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id"), index=True)
    redemption_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_redemptions.id"))
    settlement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_settlements.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (sa.CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")


class IdempotencyRecord(Base):
    """The first answer to an unsafe request that moves money, kept with the hash of its body, in
    the same transaction as the effect: a retry with the same key gets that answer again."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("actor_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    scope: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_redemptions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

