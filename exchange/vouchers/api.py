"""API face of innovation vouchers (创新券): programmes, applications, vouchers, redemptions and
reimbursement claims, settlements, and providers with their services.

Money is integer fen in fields ending in `_fen`; times are ISO 8601 with their offset. Views parse,
call one service and serialise; every rule (who may, budget, caps, balances) is the services'.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from werkzeug.routing import BaseConverter

from exchange.api import BEARER_SECURITY, Blueprint, api, login_required
from exchange.api.schemas import page_body, page_of, page_request
from exchange.db import utcnow
from exchange.extensions import db
from exchange.storage import Upload
from exchange.vouchers import providers, services
from exchange.vouchers.models import VoucherProgram
from exchange.vouchers.schemas import (
    ApplicationListQuerySchema,
    ApplicationRequestSchema,
    ClaimSchema,
    HoldingSchema,
    IdempotencyHeaderSchema,
    ObjectionRequestSchema,
    ObjectionSchema,
    OrderSchema,
    ProductRequestSchema,
    ProgramDashboardSchema,
    ProgramListQuerySchema,
    ProgramRulesSchema,
    ProviderApplicationSchema,
    ProviderDetailSchema,
    ProviderListQuerySchema,
    ProviderSchema,
    RecordedRedemptionSchema,
    RedemptionDetailSchema,
    RedemptionListQuerySchema,
    RedemptionSchema,
    ServiceProductSchema,
    SettlementApprovalSchema,
    SettlementDetailSchema,
    SettlementListQuerySchema,
    SettlementRequestSchema,
    SettlementSchema,
    UnsettledSchema,
    VoucherApplicationSchema,
    VoucherListQuerySchema,
    VoucherProgramSchema,
    VoucherReasonSchema,
    VoucherSchema,
    VoucherStatementSchema,
)
from exchange.web import request_actor

VOUCHER_CODE_PATTERN = r"[0-9A-Za-z-]{1,40}"


class VoucherCodeConverter(BaseConverter):
    """A voucher code in a path (BJ2026-ABCD-EFGH): letters, digits and hyphens; anything else is
    404, never a string the database cannot even compare (PostgreSQL refuses NUL)."""

    regex = VOUCHER_CODE_PATTERN


api.register_converter(VoucherCodeConverter,
                       lambda _converter: {"type": "string", "pattern": f"^{VOUCHER_CODE_PATTERN}$"})

bp = Blueprint("vouchers_api", __name__, url_prefix="/api/v1",
               description="Innovation vouchers: programmes, applications, redemptions, settlements")
bp.record_once(lambda state: state.app.url_map.converters.setdefault("voucher_code", VoucherCodeConverter))

PROGRAMS, APPLICATIONS, VOUCHERS = "voucher-programs", "voucher-applications", "vouchers"
REDEMPTIONS, SETTLEMENTS, PROVIDERS = "redemptions", "settlements", "voucher-providers"


# Fields ------------------------------------------------------------------------------------------







# Field factories, named like the fields they make.









# Shared output pieces ----------------------------------------------------------------------------

class _Shown:
    """An object as the API shows it: its own attributes and a few more (figures, a balance)."""

    def __init__(self, base: Any, **extra: Any) -> None:
        self._base = base
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)






# Programmes --------------------------------------------------------------------------------------







def _with_figures(programs: list[VoucherProgram]) -> list[_Shown]:
    figures = services.program_figures(db.session, programs)  # two queries for the whole page
    return [_Shown(program, **asdict(figures[program.id])) for program in programs]


def _rules(body: dict[str, Any]) -> services.ProgramRules:
    return services.ProgramRules(**body)








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





def _holding(holding: services.Holding, now: Any, **extra: Any) -> _Shown:
    return _Shown(holding.voucher, balance_fen=holding.balance_fen, expires_soon=holding.expires_soon(now), **extra)




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

















def _product(body: dict[str, Any]) -> providers.ProductChanges:
    return providers.ProductChanges(**body)


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
