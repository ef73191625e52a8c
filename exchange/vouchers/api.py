"""API face of innovation vouchers (创新券): programmes, applications, vouchers, redemptions and
reimbursement claims, settlements, and providers with their services.

Money is integer fen in fields ending in `_fen`; times are ISO 8601 with their offset. Views parse,
call one service and serialise; every rule (who may, budget, caps, balances) is the services'.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload as UploadField
from werkzeug.datastructures import CombinedMultiDict, FileStorage
from werkzeug.routing import BaseConverter

from exchange.accounts.services import has_control_characters
from exchange.api import BEARER_SECURITY, ArgumentsParser, Blueprint, api, login_required
from exchange.api.schemas import PageQuerySchema, QuerySchema, RequestSchema, page_body, page_of, page_request
from exchange.catalog.api import AttachmentSchema, OrganizationRefSchema
from exchange.db import utcnow
from exchange.extensions import db
from exchange.storage import Upload
from exchange.vouchers import providers, services
from exchange.vouchers.models import (
    ApplicationStatus,
    ProgramStatus,
    ProviderCategory,
    ProviderStatus,
    RedemptionMode,
    RedemptionStatus,
    ServiceCategory,
    SettlementStatus,
    VoucherProgram,
    VoucherStatus,
)
from exchange.vouchers.money import MAX_YUAN, yuan_text
from exchange.web import request_actor

MAX_ID = 2**63 - 1  # the largest id the database can bind
MAX_AMOUNT_FEN = 10**15  # the services' own bound on every amount
MAX_PRODUCT_FEE_FEN = int(MAX_YUAN) * 100  # published fees are typed in yuan on the pages
VOUCHER_CODE_PATTERN = r"[0-9A-Za-z-]{1,40}"


# Path converter, parser and blueprint ------------------------------------------------------------

class VoucherCodeConverter(BaseConverter):
    """A voucher code in a path (BJ2026-ABCD-EFGH): letters, digits and hyphens; anything else is
    404, never a string the database cannot even compare (PostgreSQL refuses NUL)."""

    regex = VOUCHER_CODE_PATTERN


api.register_converter(VoucherCodeConverter,
                       lambda _converter: {"type": "string", "pattern": f"^{VOUCHER_CODE_PATTERN}$"})


class VoucherArgumentsParser(ArgumentsParser):
    """The API's parser with one more location: a multipart body's fields and files together."""

    __location_map__ = {**ArgumentsParser.__location_map__, "form_and_files": "load_form_and_files"}

    def load_form_and_files(self, req: Any, schema: ma.Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class VoucherBlueprint(Blueprint):
    ARGUMENTS_PARSER = VoucherArgumentsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form_and_files": "multipart/form-data"}


bp = VoucherBlueprint("vouchers_api", __name__, url_prefix="/api/v1",
                      description="Innovation vouchers: programmes, applications, redemptions, settlements")
bp.record_once(lambda state: state.app.url_map.converters.setdefault("voucher_code", VoucherCodeConverter))

PROGRAMS, APPLICATIONS, VOUCHERS = "voucher-programs", "voucher-applications", "vouchers"
REDEMPTIONS, SETTLEMENTS, PROVIDERS = "redemptions", "settlements", "voucher-providers"


# Fields ------------------------------------------------------------------------------------------

class Text(ma.fields.String):
    """Text without control characters: PostgreSQL cannot even store NUL (a 500, not a message)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text):
            raise ma.ValidationError("Invalid value.")
        return text


class StrictBoolean(ma.fields.Boolean):
    """true or false, not 1, "yes" or "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class File(UploadField):
    """One uploaded file of a multipart body (a plain form field of the same name is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Invalid value.")
        return value


# Field factories, named like the fields they make.

def Id(*, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """An id: a whole number the database can bind (1 to 2**63 − 1)."""
    return ma.fields.Integer(strict=strict, validate=ma.validate.Range(min=1, max=MAX_ID, error="Invalid value."),
                             **kwargs)


def Fen(*, high: int = MAX_AMOUNT_FEN, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """An amount in fen: a whole number (never a float, a string or a boolean), 1 to `high`."""
    return ma.fields.Integer(strict=strict, validate=ma.validate.Range(
        min=1, max=high, error=_l("Enter a number from %(low)s to %(high)s.", low=1, high=high)), **kwargs)


def Choice(values: list[str], **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(values, error=_l("Please choose one of the options.")),
                            **kwargs)


def _values(enum_class: Any) -> list[str]:
    return [member.value for member in enum_class]


# Shared output pieces ----------------------------------------------------------------------------

class _Shown:
    """An object as the API shows it: its own attributes and a few more (figures, a balance)."""

    def __init__(self, base: Any, **extra: Any) -> None:
        self._base = base
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


class VoucherProgramRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    region = ma.fields.String(attribute="region_code", required=True)
    year = ma.fields.Integer(required=True)
    redemption_mode = ma.fields.String(required=True)


class VoucherReasonSchema(RequestSchema):
    reason = Text(required=True, metadata={"description": "Shown to the applicant"})


# Programmes --------------------------------------------------------------------------------------

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
    eligible_categories = ma.fields.List(Text(metadata={"enum": _values(ServiceCategory)}), required=True)
    validity_days = ma.fields.Integer(required=True, strict=True, metadata={"example": 365})
    accepting_regions = ma.fields.List(Text(), required=True, metadata={
        "description": "Regions whose providers accept the vouchers", "example": ["BJ", "TJ", "HE"]})
    redemption_mode = Choice(_values(RedemptionMode), required=True, metadata={
        "description": "direct (通兑): the provider records the order; reimbursement (通用): the SME claims"})
    description = Text(load_default="")


class ProgramListQuerySchema(PageQuerySchema):
    region = Text(metadata={"enum": ["BJ", "TJ", "HE"]})
    status = Choice(_values(ProgramStatus))


class VoucherProgramSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    region = ma.fields.String(attribute="region_code", required=True)
    name = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": _values(ProgramStatus)})
    description = ma.fields.String(required=True)
    unit_fen = ma.fields.Integer(required=True)
    max_face_fen = ma.fields.Integer(required=True)
    coverage_percent = ma.fields.Integer(required=True)
    cap_per_org_fen = ma.fields.Integer(required=True)
    eligible_categories = ma.fields.List(ma.fields.String(), required=True)
    validity_days = ma.fields.Integer(required=True)
    accepting_regions = ma.fields.List(ma.fields.String(), required=True)
    redemption_mode = ma.fields.String(required=True, metadata={"enum": _values(RedemptionMode)})
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


def _with_figures(programs: list[VoucherProgram]) -> list[_Shown]:
    figures = services.program_figures(db.session, programs)  # two queries for the whole page
    return [_Shown(program, **asdict(figures[program.id])) for program in programs]


def _rules(body: dict[str, Any]) -> services.ProgramRules:
    return services.ProgramRules(**body)


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


@bp.route(f"/{PROGRAMS}", methods=["GET"], endpoint="list_programs")
@bp.arguments(ProgramListQuerySchema, location="query")
@bp.response(200, page_of(VoucherProgramSchema))
@bp.doc(tags=[PROGRAMS])
def list_programs(args: dict[str, Any]) -> Any:
    """Programmes with their books: open and closed ones for everyone, drafts for their region's admin."""
    page = services.list_programs(db.session, request_actor(),
                                  services.ProgramFilters(region=args.get("region"), status=args.get("status")),
                                  page_request(args))
    return {**page_body(page), "items": _with_figures(page.items)}


@bp.route(f"/{PROGRAMS}", methods=["POST"], endpoint="create_program")
@login_required
@bp.arguments(ProgramRulesSchema)
@bp.response(201, VoucherProgramSchema)
@bp.doc(tags=[PROGRAMS], security=BEARER_SECURITY)
def create_program(body: dict[str, Any]) -> Any:
    """A regional admin drafts a programme of their own region (every rule is data on it)."""
    return _with_figures([services.create_program(db.session, request_actor(), _rules(body))])[0]


@bp.route(f"/{PROGRAMS}/<int:program_id>", methods=["GET"], endpoint="get_program")
@bp.response(200, VoucherProgramSchema)
@bp.doc(tags=[PROGRAMS])
def get_program(program_id: int) -> Any:
    """A programme's rules with its budget, issued, redeemed, settled and remaining amounts."""
    overview = services.program_overview(db.session, request_actor(), program_id)
    return _Shown(overview.program, **asdict(overview.figures))


@bp.route(f"/{PROGRAMS}/<int:program_id>", methods=["PATCH"], endpoint="update_program")
@login_required
@bp.arguments(ProgramRulesSchema)
@bp.response(200, VoucherProgramSchema)
@bp.doc(tags=[PROGRAMS], security=BEARER_SECURITY)
def update_program(body: dict[str, Any], program_id: int) -> Any:
    """Replace the rules of a draft programme (all of them); an open one keeps what it promised (409)."""
    return _with_figures([services.update_program(db.session, request_actor(), program_id, _rules(body))])[0]


@bp.route(f"/{PROGRAMS}/<int:program_id>/open", methods=["POST"], endpoint="open_program")
@login_required
@bp.response(200, VoucherProgramSchema)
@bp.doc(tags=[PROGRAMS], security=BEARER_SECURITY)
def open_program(program_id: int) -> Any:
    """Open for applications; the first opening funds the budget on the ledger."""
    return _with_figures([services.open_program(db.session, request_actor(), program_id)])[0]


@bp.route(f"/{PROGRAMS}/<int:program_id>/close", methods=["POST"], endpoint="close_program")
@login_required
@bp.response(200, VoucherProgramSchema)
@bp.doc(tags=[PROGRAMS], security=BEARER_SECURITY)
def close_program(program_id: int) -> Any:
    """No new applications or issuance; vouchers already issued stay usable until they expire."""
    return _with_figures([services.close_program(db.session, request_actor(), program_id)])[0]


@bp.route(f"/{PROGRAMS}/<int:program_id>/dashboard", methods=["GET"], endpoint="program_dashboard")
@login_required
@bp.response(200, ProgramDashboardSchema)
@bp.doc(tags=[PROGRAMS], security=BEARER_SECURITY)
def program_dashboard(program_id: int) -> Any:
    """For the programme's region admin (and platform admins): burn-down, redemptions by provider region,
    waiting queues."""
    dashboard = services.program_dashboard(db.session, request_actor(), program_id)
    return {
        "program": _Shown(dashboard.program, **asdict(dashboard.figures)),
        "remaining_by_day": [{"date": day, "remaining_fen": remaining}
                             for day, remaining in dashboard.remaining_by_day],
        "redeemed_by_provider_region": [{"region": region, "orders": orders, "covered_fen": covered}
                                        for region, orders, covered in dashboard.redeemed_by_provider_region],
        "waiting_applications": dashboard.waiting_applications, "waiting_claims": dashboard.waiting_claims,
        "waiting_settlements": dashboard.waiting_settlements}


# Applications and issuance -----------------------------------------------------------------------

class ApplicationRequestSchema(RequestSchema):
    program_id = Id(required=True)
    service_category = Choice(_values(ServiceCategory), required=True)
    planned_service = Text(required=True, metadata={"example": "材料成分检测与失效分析"})
    amount_fen = Fen(required=True, metadata={"description": "A whole number of the programme's units"})
    justification = Text(required=True)
    provider_id = Id(allow_none=True, load_default=None, metadata={
        "description": "An admitted provider's organisation id, if already chosen"})


class QueueQuerySchema(PageQuerySchema):
    program = Id(strict=False, metadata={"description": "Programme id"})


class ApplicationListQuerySchema(QueueQuerySchema):
    status = Choice(_values(ApplicationStatus))


class VoucherApplicationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    organization = ma.fields.Nested(OrganizationRefSchema, required=True)
    service_category = ma.fields.String(required=True)
    planned_service = ma.fields.String(required=True)
    provider_id = ma.fields.Integer(allow_none=True)
    amount_fen = ma.fields.Integer(required=True)
    justification = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": _values(ApplicationStatus)})
    rejection_reason = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class VoucherSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "HE2026-ABCD-EFGH"})
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    organization = ma.fields.Nested(OrganizationRefSchema, required=True, metadata={"description": "The holder"})
    application_id = ma.fields.Integer(required=True)
    face_fen = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": _values(VoucherStatus)})
    issued_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    revocation_reason = ma.fields.String(required=True)


class HoldingSchema(VoucherSchema):
    balance_fen = ma.fields.Integer(required=True, metadata={"description": "What is left, from the ledger"})
    expires_soon = ma.fields.Boolean(required=True, metadata={
        "description": "Usable, and expires within the warning period"})


@bp.route(f"/{APPLICATIONS}", methods=["GET"], endpoint="list_applications")
@login_required
@bp.arguments(ApplicationListQuerySchema, location="query")
@bp.response(200, page_of(VoucherApplicationSchema))
@bp.doc(tags=[APPLICATIONS], security=BEARER_SECURITY)
def list_applications(args: dict[str, Any]) -> Any:
    """The caller's organisation's applications; for a regional admin, the queue of their region's
    programmes (oldest first)."""
    filters = services.QueueFilters(program=args.get("program"), status=args.get("status"))
    return page_body(services.list_applications(db.session, request_actor(), filters, page_request(args)))


@bp.route(f"/{APPLICATIONS}", methods=["POST"], endpoint="apply_for_voucher")
@login_required
@bp.arguments(ApplicationRequestSchema)
@bp.response(201, VoucherApplicationSchema)
@bp.doc(tags=[APPLICATIONS], security=BEARER_SECURITY)
def apply_for_voucher(body: dict[str, Any]) -> Any:
    """An SME of the programme's region applies to an open programme; nothing is reserved yet."""
    return services.apply_for_voucher(db.session, request_actor(), services.ApplicationRequest(**body))


@bp.route(f"/{APPLICATIONS}/<int:application_id>", methods=["GET"], endpoint="get_application")
@login_required
@bp.response(200, VoucherApplicationSchema)
@bp.doc(tags=[APPLICATIONS], security=BEARER_SECURITY)
def get_application(application_id: int) -> Any:
    return services.get_application(db.session, request_actor(), application_id)


@bp.route(f"/{APPLICATIONS}/<int:application_id>/approve", methods=["POST"], endpoint="approve_application")
@login_required
@bp.response(201, HoldingSchema, description="The voucher issued")
@bp.doc(tags=[APPLICATIONS], security=BEARER_SECURITY)
def approve_application(application_id: int) -> Any:
    """The programme's region admin approves: a voucher is issued (201), never beyond the remaining
    budget (409 budget_exhausted) nor the organisation's cap (409 cap_reached)."""
    voucher = services.approve_application(db.session, request_actor(), application_id)
    return _Shown(voucher, balance_fen=voucher.face_fen, expires_soon=False)  # nothing spent yet


@bp.route(f"/{APPLICATIONS}/<int:application_id>/reject", methods=["POST"], endpoint="reject_application")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, VoucherApplicationSchema)
@bp.doc(tags=[APPLICATIONS], security=BEARER_SECURITY)
def reject_application(body: dict[str, Any], application_id: int) -> Any:
    return services.reject_application(db.session, request_actor(), application_id, body["reason"])


# Vouchers ----------------------------------------------------------------------------------------

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


def _holding(holding: services.Holding, now: Any, **extra: Any) -> _Shown:
    return _Shown(holding.voucher, balance_fen=holding.balance_fen, expires_soon=holding.expires_soon(now), **extra)


class VoucherListQuerySchema(PageQuerySchema):
    program = Id(strict=False, metadata={"description": "Programme id"})


@bp.route(f"/{VOUCHERS}", methods=["GET"], endpoint="list_vouchers")
@login_required
@bp.arguments(VoucherListQuerySchema, location="query")
@bp.response(200, page_of(HoldingSchema))
@bp.doc(tags=[VOUCHERS], security=BEARER_SECURITY)
def list_vouchers(args: dict[str, Any]) -> Any:
    """The holder's wallet with balances; for a regional admin, their region's programmes' vouchers."""
    page = services.list_vouchers(db.session, request_actor(), page_request(args), program_id=args.get("program"))
    now = utcnow()
    return {**page_body(page), "items": [_holding(holding, now) for holding in page.items]}


@bp.route(f"/{VOUCHERS}/<voucher_code:code>", methods=["GET"], endpoint="get_voucher")
@login_required
@bp.response(200, VoucherStatementSchema)
@bp.doc(tags=[VOUCHERS], security=BEARER_SECURITY)
def get_voucher(code: str) -> Any:
    """A voucher with its balance, every movement of it and every order it paid for."""
    statement = services.voucher_statement(db.session, request_actor(), code)
    return _holding(services.Holding(statement.voucher, statement.balance_fen), utcnow(),
                    movements=statement.movements,
                    redemption_ids=[redemption.id for redemption in statement.redemptions])


@bp.route(f"/{VOUCHERS}/<voucher_code:code>/revoke", methods=["POST"], endpoint="revoke_voucher")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, VoucherSchema)
@bp.doc(tags=[VOUCHERS], security=BEARER_SECURITY)
def revoke_voucher(body: dict[str, Any], code: str) -> Any:
    """The issuing region's admin voids a voucher; its unspent value goes back to the budget."""
    return services.revoke_voucher(db.session, request_actor(), code, body["reason"])


# Redemptions (通兑) and reimbursement claims (通用) ------------------------------------------------

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
    status = ma.fields.String(required=True, metadata={"enum": _values(RedemptionStatus)})
    settlement_id = ma.fields.Integer(allow_none=True)
    rejection_reason = ma.fields.String(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class RedemptionDetailSchema(RedemptionSchema):
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True, metadata={
        "description": "Contract and receipts of a reimbursement claim"})


class RedemptionListQuerySchema(QueueQuerySchema):
    status = Choice(_values(RedemptionStatus))
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


@bp.route(f"/{REDEMPTIONS}", methods=["POST"], endpoint="record_redemption")
@login_required
@bp.arguments(OrderSchema)
@bp.arguments(IdempotencyHeaderSchema, location="headers")
@bp.response(201, RecordedRedemptionSchema)
@bp.doc(tags=[REDEMPTIONS], security=BEARER_SECURITY)
def record_redemption(body: dict[str, Any], headers: dict[str, Any]) -> Any:
    """An admitted provider records a voucher-paid order (通兑): the voucher covers
    min(balance, coverage × fee), the SME co-pays the rest. Paid by the issuing region's programme,
    whichever region the provider is in."""
    return services.record_redemption(db.session, request_actor(), services.OrderRequest(**body),
                                      idempotency_key=headers.get("idempotency_key"))


@bp.route(f"/{REDEMPTIONS}", methods=["GET"], endpoint="list_redemptions")
@login_required
@bp.arguments(RedemptionListQuerySchema, location="query")
@bp.response(200, page_of(RedemptionSchema))
@bp.doc(tags=[REDEMPTIONS], security=BEARER_SECURITY)
def list_redemptions(args: dict[str, Any]) -> Any:
    """Orders and claims the caller may see: their own (provider, payee, holder); for a regional admin,
    those paid by their region's programmes and those served by their region's providers."""
    filters = services.RedemptionFilters(program=args.get("program"), status=args.get("status"),
                                         unsettled=bool(args.get("unsettled")))
    return page_body(services.list_redemptions(db.session, request_actor(), filters, page_request(args)))


@bp.route(f"/{REDEMPTIONS}/<int:redemption_id>", methods=["GET"], endpoint="get_redemption")
@login_required
@bp.response(200, RedemptionDetailSchema)
@bp.doc(tags=[REDEMPTIONS], security=BEARER_SECURITY)
def get_redemption(redemption_id: int) -> Any:
    return services.get_redemption(db.session, request_actor(), redemption_id)


@bp.route(f"/{REDEMPTIONS}/claims", methods=["POST"], endpoint="submit_claim")
@login_required
@bp.arguments(ClaimSchema, location="form_and_files")
@bp.response(201, RedemptionDetailSchema)
@bp.doc(tags=[REDEMPTIONS], security=BEARER_SECURITY)
def submit_claim(body: dict[str, Any]) -> Any:
    """The holder of a 通用 voucher paid a provider in full and claims the voucher's share, with the
    contract and receipts; the programme's region admin decides."""
    files = [Upload(file.filename or "", file.stream) for file in body.pop("files")]
    return services.submit_claim(db.session, request_actor(), services.ClaimRequest(**body), files)


@bp.route(f"/{REDEMPTIONS}/<int:redemption_id>/approve", methods=["POST"], endpoint="approve_claim")
@login_required
@bp.response(200, RedemptionDetailSchema)
@bp.doc(tags=[REDEMPTIONS], security=BEARER_SECURITY)
def approve_claim(redemption_id: int) -> Any:
    """Approve a reimbursement claim: the voucher pays its share, to be settled to the SME."""
    return services.approve_claim(db.session, request_actor(), redemption_id)


@bp.route(f"/{REDEMPTIONS}/<int:redemption_id>/reject", methods=["POST"], endpoint="reject_claim")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, RedemptionDetailSchema)
@bp.doc(tags=[REDEMPTIONS], security=BEARER_SECURITY)
def reject_claim(body: dict[str, Any], redemption_id: int) -> Any:
    return services.reject_claim(db.session, request_actor(), redemption_id, body["reason"])


# Settlements (兑付) --------------------------------------------------------------------------------

class SettlementRequestSchema(RequestSchema):
    program_id = Id(required=True, metadata={"description": "Ask this programme for everything it owes "
                                                            "the caller's organisation not yet asked for"})


class SettlementApprovalSchema(RequestSchema):
    payment_reference = Text(load_default="", metadata={"description": "The payout's bank reference"})


class SettlementListQuerySchema(QueueQuerySchema):
    status = Choice(_values(SettlementStatus))


class SettlementSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    program = ma.fields.Nested(VoucherProgramRefSchema, required=True)
    payee = ma.fields.Nested(OrganizationRefSchema, required=True)
    amount_fen = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": _values(SettlementStatus)})
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


@bp.route(f"/{SETTLEMENTS}", methods=["GET"], endpoint="list_settlements")
@login_required
@bp.arguments(SettlementListQuerySchema, location="query")
@bp.response(200, page_of(SettlementSchema))
@bp.doc(tags=[SETTLEMENTS], security=BEARER_SECURITY)
def list_settlements(args: dict[str, Any]) -> Any:
    """The caller's organisation's requests; for a regional admin, those on their region's programmes."""
    filters = services.QueueFilters(program=args.get("program"), status=args.get("status"))
    return page_body(services.list_settlements(db.session, request_actor(), filters, page_request(args)))


@bp.route(f"/{SETTLEMENTS}", methods=["POST"], endpoint="request_settlement")
@login_required
@bp.arguments(SettlementRequestSchema)
@bp.response(201, SettlementDetailSchema)
@bp.doc(tags=[SETTLEMENTS], security=BEARER_SECURITY)
def request_settlement(body: dict[str, Any]) -> Any:
    """A payee (provider for 通兑, SME for 通用) asks to be paid; 409 nothing_to_settle when nothing waits."""
    return services.request_settlement(db.session, request_actor(), body["program_id"])


@bp.route(f"/{SETTLEMENTS}/unsettled", methods=["GET"], endpoint="unsettled_summary")
@login_required
@bp.response(200, UnsettledSchema(many=True))
@bp.doc(tags=[SETTLEMENTS], security=BEARER_SECURITY)
def unsettled_summary() -> Any:
    """Per programme, what it owes the caller's organisation that has not been asked for yet."""
    return services.unsettled_summary(db.session, request_actor())


@bp.route(f"/{SETTLEMENTS}/<int:settlement_id>", methods=["GET"], endpoint="get_settlement")
@login_required
@bp.response(200, SettlementDetailSchema)
@bp.doc(tags=[SETTLEMENTS], security=BEARER_SECURITY)
def get_settlement(settlement_id: int) -> Any:
    return services.get_settlement(db.session, request_actor(), settlement_id)


@bp.route(f"/{SETTLEMENTS}/<int:settlement_id>/approve", methods=["POST"], endpoint="approve_settlement")
@login_required
@bp.arguments(SettlementApprovalSchema, required=False)
@bp.response(200, SettlementDetailSchema)
@bp.doc(tags=[SETTLEMENTS], security=BEARER_SECURITY)
def approve_settlement(body: dict[str, Any] | None, settlement_id: int) -> Any:
    """The issuing region's admin approves: the payout is recorded on the ledger."""
    return services.approve_settlement(db.session, request_actor(), settlement_id,
                                       (body or {}).get("payment_reference", ""))


@bp.route(f"/{SETTLEMENTS}/<int:settlement_id>/reject", methods=["POST"], endpoint="reject_settlement")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, SettlementDetailSchema)
@bp.doc(tags=[SETTLEMENTS], security=BEARER_SECURITY)
def reject_settlement(body: dict[str, Any], settlement_id: int) -> Any:
    """Refuse a request; its orders can be asked for again in a new one."""
    return services.reject_settlement(db.session, request_actor(), settlement_id, body["reason"])


# Providers and their services -------------------------------------------------------------------

class ProviderApplicationSchema(RequestSchema):
    category = Choice(_values(ProviderCategory), required=True)
    qualifications = Text(required=True, metadata={"example": "CMA 资质认定证书，CNAS 实验室认可。"})


class ProductRequestSchema(RequestSchema):
    name = Text(required=True, metadata={"example": "材料成分检测"})
    category = Choice(_values(ServiceCategory), required=True)
    fee_fen = Fen(high=MAX_PRODUCT_FEE_FEN, required=True, metadata={"description": "The published fee"})
    description = Text(load_default="")
    is_active = StrictBoolean(load_default=True)


class ObjectionRequestSchema(RequestSchema):
    text = Text(required=True, metadata={"description": "Why the provider should not be admitted"})


class ProviderListQuerySchema(PageQuerySchema):
    region = Text(metadata={"enum": ["BJ", "TJ", "HE"]})
    category = Choice(_values(ProviderCategory))
    service_category = Choice(_values(ServiceCategory))
    status = Choice(_values(ProviderStatus), metadata={
        "description": "admitted by default; in_notice for the public notice (公示)"})
    q = Text(metadata={"description": "Words in the provider's or a service's name"})


class ServiceProductSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    provider_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True, metadata={"enum": _values(ServiceCategory)})
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
    category = ma.fields.String(required=True, metadata={"enum": _values(ProviderCategory)})
    qualifications = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": _values(ProviderStatus)})
    applied_at = ma.fields.AwareDateTime(required=True)
    notice_starts_at = ma.fields.AwareDateTime(allow_none=True)
    notice_ends_at = ma.fields.AwareDateTime(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    reason = ma.fields.String(required=True, metadata={"description": "Of a rejection or a suspension"})
    products = ma.fields.List(ma.fields.Nested(ServiceProductSchema), required=True)


class ProviderDetailSchema(ProviderSchema):
    objections = ma.fields.List(ma.fields.Nested(ObjectionSchema), metadata={
        "description": "Objections raised during the notice (for its region's admins)"})


def _product(body: dict[str, Any]) -> providers.ProductChanges:
    return providers.ProductChanges(name=body["name"], category=body["category"], fee_yuan=yuan_text(body["fee_fen"]),
                                    description=body["description"], is_active=body["is_active"])


@bp.route(f"/{PROVIDERS}", methods=["GET"], endpoint="list_providers")
@bp.arguments(ProviderListQuerySchema, location="query")
@bp.response(200, page_of(ProviderSchema))
@bp.doc(tags=[PROVIDERS])
def list_providers(args: dict[str, Any]) -> Any:
    """Admitted providers of all three regions with their services (recognised everywhere once admitted)."""
    filters = providers.ProviderFilters(**{name: args.get(name) for name in
                                           ("region", "category", "service_category", "status", "q")})
    return page_body(providers.list_providers(db.session, request_actor(), filters, page_request(args)))


@bp.route(f"/{PROVIDERS}", methods=["POST"], endpoint="apply_as_provider")
@login_required
@bp.arguments(ProviderApplicationSchema)
@bp.response(201, ProviderDetailSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def apply_as_provider(body: dict[str, Any]) -> Any:
    """A provider organisation asks to be admitted (again, after a rejection)."""
    return providers.apply_as_provider(db.session, request_actor(), providers.ProviderApplication(**body))


@bp.route(f"/{PROVIDERS}/<int:org_id>", methods=["GET"], endpoint="get_provider")
@bp.response(200, ProviderDetailSchema)
@bp.doc(tags=[PROVIDERS])
def get_provider(org_id: int) -> Any:
    return providers.get_provider(db.session, request_actor(), org_id)


@bp.route(f"/{PROVIDERS}/<int:org_id>/notice", methods=["POST"], endpoint="start_provider_notice")
@login_required
@bp.response(200, ProviderDetailSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def start_provider_notice(org_id: int) -> Any:
    """Its region's admin publishes the application for public notice (公示) of the configured days."""
    return providers.start_notice(db.session, request_actor(), org_id)


@bp.route(f"/{PROVIDERS}/<int:org_id>/admit", methods=["POST"], endpoint="admit_provider")
@login_required
@bp.response(200, ProviderDetailSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def admit_provider(org_id: int) -> Any:
    """Admit after the notice ran its term with no open objection (409 notice_running, objection_open),
    or reinstate a suspended provider."""
    return providers.admit_provider(db.session, request_actor(), org_id)


@bp.route(f"/{PROVIDERS}/<int:org_id>/reject", methods=["POST"], endpoint="reject_provider")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, ProviderDetailSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def reject_provider(body: dict[str, Any], org_id: int) -> Any:
    return providers.reject_provider(db.session, request_actor(), org_id, body["reason"])


@bp.route(f"/{PROVIDERS}/<int:org_id>/suspend", methods=["POST"], endpoint="suspend_provider")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, ProviderDetailSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def suspend_provider(body: dict[str, Any], org_id: int) -> Any:
    """E.g. caught pricing above its published fees: it takes no voucher until admitted again."""
    return providers.suspend_provider(db.session, request_actor(), org_id, body["reason"])


@bp.route(f"/{PROVIDERS}/<int:org_id>/objections", methods=["POST"], endpoint="object_to_provider")
@login_required
@bp.arguments(ObjectionRequestSchema)
@bp.response(201, ObjectionSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def object_to_provider(body: dict[str, Any], org_id: int) -> Any:
    """Anyone logged in (but the provider's own members) objects during the public notice."""
    return providers.object_to_provider(db.session, request_actor(), org_id, body["text"])


@bp.route(f"/{PROVIDERS}/objections/<int:objection_id>/dismiss", methods=["POST"], endpoint="dismiss_objection")
@login_required
@bp.arguments(VoucherReasonSchema)
@bp.response(200, ObjectionSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def dismiss_objection(body: dict[str, Any], objection_id: int) -> Any:
    """The provider's region admin dismisses an objection (with a reason) so that it may be admitted."""
    return providers.dismiss_objection(db.session, request_actor(), objection_id, body["reason"])


@bp.route(f"/{PROVIDERS}/<int:org_id>/products", methods=["POST"], endpoint="add_product")
@login_required
@bp.arguments(ProductRequestSchema)
@bp.response(201, ServiceProductSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def add_product(body: dict[str, Any], org_id: int) -> Any:
    """The provider publishes a service with its fee: vouchers pay for it at that fee or below."""
    return providers.add_product(db.session, request_actor(), org_id, _product(body))


@bp.route("/voucher-products/<int:product_id>", methods=["PATCH"], endpoint="update_product")
@login_required
@bp.arguments(ProductRequestSchema)
@bp.response(200, ServiceProductSchema)
@bp.doc(tags=[PROVIDERS], security=BEARER_SECURITY)
def update_product(body: dict[str, Any], product_id: int) -> Any:
    """Replace a service's name, category, fee, description and whether it is offered."""
    return providers.update_product(db.session, request_actor(), product_id, _product(body))
