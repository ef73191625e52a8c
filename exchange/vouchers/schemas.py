"""Request and answer schemas of the innovation vouchers API (exchange/vouchers/api.py).

Money is integer fen in fields ending in `_fen`; times are ISO 8601 with their offset. Request fields
come from the one input kit (exchange/api/fields.py).
"""
from __future__ import annotations


import marshmallow as ma

from exchange.api.fields import REGIONS, Choice, Fen, File, Id, StrictBoolean, Text, values_of
from exchange.api.schemas import AttachmentSchema, OrganizationRefSchema, PageQuerySchema, QuerySchema, RequestSchema
from exchange.vouchers.models import (
    ApplicationStatus,
    ProgramStatus,
    ProviderCategory,
    ProviderStatus,
    RedemptionMode,
    RedemptionStatus,
    ServiceCategory,
    SettlementStatus,
    VoucherStatus,
)
from exchange.vouchers.money import MAX_PRODUCT_FEE_FEN


class VoucherProgramRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    region = ma.fields.String(attribute="region_code", required=True)
    year = ma.fields.Integer(required=True)
    redemption_mode = ma.fields.String(required=True)


class VoucherReasonSchema(RequestSchema):
    reason = Text(required=True, metadata={"description": "Shown to the applicant"})


class ProgramRulesSchema(RequestSchema):
    name = Text(required=True, metadata={"example": "2026年河北省科技创新券"})
    year = ma.fields.Integer(required=True, strict=True, metadata={"example": 2026})
    budget_fen = Fen(required=True, metadata={"description": "Total budget", "example": 100_000_000})
    unit_fen = Fen(required=True, metadata={"description": "Vouchers come in whole units of this",
                                            "example": 500_000})
    max_face_fen = Fen(required=True, metadata={"description": "The largest face value of one voucher"})
    coverage_percent = ma.fields.Integer(required=True, strict=True, metadata={
        "description": "The share of a service fee a voucher may cover, 1 to 100", "example": 50})
    cap_per_org_fen = Fen(required=True, metadata={"description": "At most this per organisation"})
    eligible_categories = ma.fields.List(Text(metadata={"enum": values_of(ServiceCategory)}), required=True)
    validity_days = ma.fields.Integer(required=True, strict=True, metadata={"example": 365})
    accepting_regions = ma.fields.List(Text(), required=True, metadata={
        "description": "Regions whose providers accept the vouchers", "example": ["BJ", "TJ", "HE"]})
    redemption_mode = Choice(values_of(RedemptionMode), required=True, metadata={
        "description": "direct (通兑): the provider records the order; reimbursement (通用): the SME claims"})
    description = Text(load_default="")


class ProgramListQuerySchema(PageQuerySchema):
    region = Text(metadata={"enum": REGIONS})
    status = Choice(values_of(ProgramStatus))


class VoucherProgramSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    region = ma.fields.String(attribute="region_code", required=True)
    name = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": values_of(ProgramStatus)})
    description = ma.fields.String(required=True)
    unit_fen = ma.fields.Integer(required=True)
    max_face_fen = ma.fields.Integer(required=True)
    coverage_percent = ma.fields.Integer(required=True)
    cap_per_org_fen = ma.fields.Integer(required=True)
    eligible_categories = ma.fields.List(ma.fields.String(), required=True)
    validity_days = ma.fields.Integer(required=True)
    accepting_regions = ma.fields.List(ma.fields.String(), required=True)
    redemption_mode = ma.fields.String(required=True, metadata={"enum": values_of(RedemptionMode)})
    opened_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    # The books, from the ledger
    budget_fen = ma.fields.Integer(required=True)
    issued_fen = ma.fields.Integer(required=True)
    returned_fen = ma.fields.Integer(required=True, metadata={
        "description": "Issued, then returned to the budget by revocation or expiry"})
    redeemed_fen = ma.fields.Integer(required=True)
    settled_fen = ma.fields.Integer(required=True)
    remaining_fen = ma.fields.Integer(required=True, metadata={"description": "Budget not issued"})
    vouchers = ma.fields.Integer(required=True, metadata={"description": "Vouchers issued"})


class DayRemainingSchema(ma.Schema):
    date = ma.fields.String(required=True, metadata={"description": "ISO date"})
    remaining_fen = ma.fields.Integer(required=True)


class RegionRedemptionsSchema(ma.Schema):
    region = ma.fields.String(required=True, metadata={"description": "The providers' region"})
    orders = ma.fields.Integer(required=True)
    covered_fen = ma.fields.Integer(required=True)


class ProgramDashboardSchema(ma.Schema):
    program = ma.fields.Nested(VoucherProgramSchema, required=True)
    remaining_by_day = ma.fields.List(ma.fields.Nested(DayRemainingSchema), required=True,
                                      metadata={"description": "Burn-down: the remaining budget at each day's end"})
    redeemed_by_provider_region = ma.fields.List(ma.fields.Nested(RegionRedemptionsSchema), required=True)
    waiting_applications = ma.fields.Integer(required=True)
    waiting_claims = ma.fields.Integer(required=True)
    waiting_settlements = ma.fields.Integer(required=True)


class ApplicationRequestSchema(RequestSchema):
    program_id = Id(required=True)
    service_category = Choice(values_of(ServiceCategory), required=True)
    planned_service = Text(required=True, metadata={"example": "材料成分检测与失效分析"})
    amount_fen = Fen(required=True, metadata={"description": "A whole number of the programme's units"})
    justification = Text(required=True)
    provider_id = Id(allow_none=True, load_default=None, metadata={
        "description": "An admitted provider's organisation id, if already chosen"})


class QueueQuerySchema(PageQuerySchema):
    program = Id(strict=False, metadata={"description": "Programme id"})


class ApplicationListQuerySchema(QueueQuerySchema):
    status = Choice(values_of(ApplicationStatus))


class VoucherApplicationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    organization = ma.fields.Nested(OrganizationRefSchema, required=True)
    service_category = ma.fields.String(required=True)
    planned_service = ma.fields.String(required=True)
    provider_id = ma.fields.Integer(allow_none=True)
    amount_fen = ma.fields.Integer(required=True)
    justification = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": values_of(ApplicationStatus)})
    rejection_reason = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class VoucherSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "HE2026-ABCD-EFGH"})
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    organization = ma.fields.Nested(OrganizationRefSchema, required=True, metadata={"description": "The holder"})
    application_id = ma.fields.Integer(required=True)
    face_fen = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": values_of(VoucherStatus)})
    issued_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    revocation_reason = ma.fields.String(required=True)


class HoldingSchema(VoucherSchema):
    balance_fen = ma.fields.Integer(required=True, metadata={"description": "What is left, from the ledger"})
    expires_soon = ma.fields.Boolean(required=True, metadata={
        "description": "Usable, and expires within the warning period"})


class MovementSchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"enum": ["issue", "redeem", "revoke", "expire"]})
    amount_fen = ma.fields.Integer(required=True, metadata={"description": "+ into the voucher, − out of it"})
    balance_fen = ma.fields.Integer(required=True, metadata={"description": "After the movement"})
    occurred_at = ma.fields.AwareDateTime(required=True)
    redemption_id = ma.fields.Function(lambda movement: movement.redemption.id if movement.redemption else None,
                                       allow_none=True)


class VoucherStatementSchema(HoldingSchema):
    movements = ma.fields.List(ma.fields.Nested(MovementSchema), required=True)
    redemption_ids = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "Every order the voucher paid for or was claimed against"})


class VoucherListQuerySchema(PageQuerySchema):
    program = Id(strict=False, metadata={"description": "Programme id"})


class OrderSchema(RequestSchema):
    voucher_code = Text(required=True, metadata={"example": "HE2026-ABCD-EFGH"})
    service_product_id = Id(required=True, metadata={"description": "One of the provider's published services"})
    fee_fen = Fen(required=True, metadata={"description": "The order's fee, at most the published fee",
                                           "example": 1_200_000})
    contract_reference = Text(required=True, metadata={"example": "HT-2026-001"})


class IdempotencyHeaderSchema(QuerySchema):
    idempotency_key = ma.fields.String(data_key="Idempotency-Key", metadata={
        "description": "Optional, 1 to 200 printable characters. A retry with the same key and the same body "
                       "answers 201 with the first redemption again and records nothing more; the same key "
                       "with another body is 409 idempotency_key_reused."})


class RecordedRedemptionSchema(ma.Schema):
    """What recording an order answers: the same again for a retry with the same Idempotency-Key."""

    id = ma.fields.Integer(required=True)
    voucher_code = ma.fields.Function(lambda redemption: redemption.voucher.code, required=True)
    program_id = ma.fields.Integer(required=True)
    provider_id = ma.fields.Integer(required=True)
    payee_id = ma.fields.Integer(required=True, metadata={
        "description": "Who is paid by settlement: the provider (通兑) or the SME that paid in full (通用)"})
    service_product_id = ma.fields.Integer(allow_none=True)
    service_description = ma.fields.String(required=True)
    fee_fen = ma.fields.Integer(required=True)
    covered_fen = ma.fields.Integer(required=True, metadata={"description": "Paid by the voucher"})
    copay_fen = ma.fields.Integer(required=True, metadata={"description": "Paid by the SME"})
    balance_after_fen = ma.fields.Integer(allow_none=True, metadata={
        "description": "The voucher's balance once this order was paid (none while a claim waits)"})
    contract_reference = ma.fields.String(required=True)
    recorded_at = ma.fields.AwareDateTime(attribute="created_at", required=True)


class RedemptionSchema(RecordedRedemptionSchema):
    provider = ma.fields.Nested(OrganizationRefSchema, attribute="provider.organization", required=True)
    status = ma.fields.String(required=True, metadata={"enum": values_of(RedemptionStatus)})
    settlement_id = ma.fields.Integer(allow_none=True)
    rejection_reason = ma.fields.String(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class RedemptionDetailSchema(RedemptionSchema):
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True, metadata={
        "description": "Contract and receipts of a reimbursement claim"})


class RedemptionListQuerySchema(QueueQuerySchema):
    status = Choice(values_of(RedemptionStatus))
    unsettled = ma.fields.Boolean(metadata={"description": "Only recorded orders not yet in a settlement"})


class ClaimSchema(RequestSchema):
    """A multipart/form-data body: the fields as text, and one or more files named `files`."""

    voucher_code = Text(required=True)
    provider_id = Id(strict=False, required=True, metadata={"description": "The admitted provider that did the work"})
    service_description = Text(required=True)
    fee_fen = Fen(strict=False, required=True, metadata={"description": "What the SME paid in full"})
    contract_reference = Text(required=True)
    files = ma.fields.List(File(), required=True, metadata={"description": "Contract and receipts (PDF, PNG, "
                                                                            "JPEG or DOCX)"})


class SettlementRequestSchema(RequestSchema):
    program_id = Id(required=True, metadata={"description": "Ask this programme for everything it owes "
                                                            "the caller's organisation not yet asked for"})


class SettlementApprovalSchema(RequestSchema):
    payment_reference = Text(load_default="", metadata={"description": "The payout's bank reference"})


class SettlementListQuerySchema(QueueQuerySchema):
    status = Choice(values_of(SettlementStatus))


class SettlementSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    payee = ma.fields.Nested(OrganizationRefSchema, required=True)
    amount_fen = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": values_of(SettlementStatus)})
    payment_reference = ma.fields.String(required=True)
    rejection_reason = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class SettlementDetailSchema(SettlementSchema):
    redemption_ids = ma.fields.Function(lambda settlement: [r.id for r in settlement.redemptions], required=True,
                                        metadata={"description": "The orders it pays (emptied on rejection)"})


class UnsettledSchema(ma.Schema):
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    orders = ma.fields.Integer(required=True)
    amount_fen = ma.fields.Integer(required=True)


class ProviderApplicationSchema(RequestSchema):
    category = Choice(values_of(ProviderCategory), required=True)
    qualifications = Text(required=True, metadata={"example": "CMA 资质认定证书，CNAS 实验室认可。"})


class ProductRequestSchema(RequestSchema):
    name = Text(required=True, metadata={"example": "材料成分检测"})
    category = Choice(values_of(ServiceCategory), required=True)
    fee_fen = Fen(high=MAX_PRODUCT_FEE_FEN, required=True, metadata={"description": "The published fee"})
    description = Text(load_default="")
    is_active = StrictBoolean(load_default=True)


class ObjectionRequestSchema(RequestSchema):
    text = Text(required=True, metadata={"description": "Why the provider should not be admitted"})


class ProviderListQuerySchema(PageQuerySchema):
    region = Text(metadata={"enum": REGIONS})
    category = Choice(values_of(ProviderCategory))
    service_category = Choice(values_of(ServiceCategory))
    status = Choice(values_of(ProviderStatus), metadata={
        "description": "admitted by default; in_notice for the public notice (公示)"})
    q = Text(metadata={"description": "Words in the provider's or a service's name"})


class ServiceProductSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    provider_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True, metadata={"enum": values_of(ServiceCategory)})
    fee_fen = ma.fields.Integer(required=True)
    description = ma.fields.String(required=True)
    is_active = ma.fields.Boolean(required=True)


class ObjectionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    dismissed_at = ma.fields.AwareDateTime(allow_none=True)
    dismissal_reason = ma.fields.String(required=True)


class ProviderSchema(ma.Schema):
    org_id = ma.fields.Integer(attribute="organization_id", required=True)
    name = ma.fields.String(attribute="organization.name", required=True)
    region = ma.fields.String(attribute="region_code", required=True)
    category = ma.fields.String(required=True, metadata={"enum": values_of(ProviderCategory)})
    qualifications = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": values_of(ProviderStatus)})
    applied_at = ma.fields.AwareDateTime(required=True)
    notice_starts_at = ma.fields.AwareDateTime(allow_none=True)
    notice_ends_at = ma.fields.AwareDateTime(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    reason = ma.fields.String(required=True, metadata={"description": "Of a rejection or a suspension"})
    products = ma.fields.List(ma.fields.Nested(ServiceProductSchema), required=True)


class ProviderDetailSchema(ProviderSchema):
    objections = ma.fields.List(ma.fields.Nested(ObjectionSchema), metadata={
        "description": "Objections raised during the notice (for its region's admins)"})
