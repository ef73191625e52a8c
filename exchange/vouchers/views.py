"""Pages of innovation vouchers (创新券): programmes and providers for everyone; the regional admin's
programmes, dashboard, ledger and review queues; the provider's console; the SME's applications,
wallet and reimbursement claims."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from exchange.db import utcnow
from exchange.downloads import csv_download, stored_file_download
from exchange.errors import Conflict, NotFound, ValidationFailed
from exchange.extensions import db
from exchange.forms import ServiceForm, flash_error
from exchange.inputs import id_from_text
from exchange.pagination import PageRequest
from exchange.storage import Upload, upload_dir
from exchange.taxonomy.services import list_regions
from exchange.vouchers import pages, providers, services
from exchange.vouchers.forms import (
    AmountField,
    ApplicationForm,
    ClaimForm,
    ObjectionForm,
    OrderForm,
    PaymentForm,
    ProductForm,
    ProgramForm,
    ProviderApplicationForm,
    ReasonForm,
    new_idempotency_key,
)
from exchange.vouchers.models import (
    ProgramStatus,
    ProviderCategory,
    ProviderStatus,
    RedemptionStatus,
    ServiceCategory,
    SettlementStatus,
)
from exchange.vouchers.money import format_fen
from exchange.web import request_actor

bp = Blueprint("vouchers", __name__)

T = TypeVar("T")


# Helpers ------------------------------------------------------------------------------------------

def _attempt(call: Callable[[], T]) -> T | None:
    """A button's service call: a refusal the user can act on (a missing reason, a state that does
    not allow it) is flashed; not being allowed at all stays an error page."""
    try:
        return call()
    except (ValidationFailed, Conflict) as error:
        flash_error(error)
        return None


def _decide(call: Callable[[], T], done: Callable[[T], str], success_url: str, failure_url: str) -> Any:
    """A button (approve, reject, revoke…): on success say what was done and go on; a refusal is said on
    the object's page."""
    result = _attempt(call)
    if result is None:
        return redirect(failure_url)
    flash(done(result), "success")
    return redirect(success_url)


def _reason() -> str:
    return ReasonForm().reason.data or ""


def _submit(form: ServiceForm, call: Callable[[], T]) -> T | None:
    """A form's service call once the form reads well; what the service refuses lands on the form."""
    if not form.validate_on_submit():
        return None
    try:
        return call()
    except ValidationFailed as error:
        form.show_errors(error)
    except Conflict as error:
        form.form_errors.append(str(error.message))
        form.conflicted = True  # type: ignore[attr-defined]
    return None


def _status(*forms: ServiceForm) -> int:
    if any(getattr(form, "conflicted", False) for form in forms):
        return 409
    return 422 if any(form.errors or form.form_errors for form in forms) else 200


def _fen(field: AmountField) -> int | None:
    return field.data if isinstance(field.data, int) else None


def _page() -> PageRequest:
    return PageRequest.from_args(request.args)


# Programmes (public) -------------------------------------------------------------------------------

@bp.get("/voucher-programs")
def programs() -> Any:
    actor = request_actor()
    filters = services.ProgramFilters.from_args(request.args)
    page = services.list_programs(db.session, actor, filters, _page())
    return render_template("vouchers/programs.html", page=page, filters=filters, regions=list_regions(db.session),
                           figures=services.program_figures(db.session, page.items), statuses=list(ProgramStatus))


@bp.get("/voucher-programs/<int:program_id>")
def program_detail(program_id: int) -> Any:
    overview = services.program_overview(db.session, request_actor(), program_id)
    return render_template("vouchers/program.html", program=overview.program, figures=overview.figures,
                           regions={region.code: region for region in list_regions(db.session)})


# Programmes (regional admin) ------------------------------------------------------------------------

def _rules(form: ProgramForm) -> services.ProgramRules:
    return services.ProgramRules(
        name=form.name.data or "", year=form.year.data, budget_fen=_fen(form.budget), unit_fen=_fen(form.unit),
        max_face_fen=_fen(form.max_face), coverage_percent=form.coverage_percent.data,
        cap_per_org_fen=_fen(form.cap_per_org), validity_days=form.validity_days.data,
        redemption_mode=form.redemption_mode.data or "", eligible_categories=form.eligible_categories.data or [],
        accepting_regions=form.accepting_regions.data or [], description=form.description.data or "")


@bp.route("/voucher-programs/new", methods=["GET", "POST"])
@login_required
def create_program() -> Any:
    actor = request_actor()
    pages.program_creation(db.session, actor)
    form = ProgramForm().with_regions(list_regions(db.session))
    program = _submit(form, lambda: services.create_program(db.session, actor, _rules(form)))
    if program is not None:
        flash(_("The programme has been saved as a draft. Open it when its rules are final."), "success")
        return redirect(url_for("vouchers.program_detail", program_id=program.id))
    return render_template("vouchers/program_form.html", form=form, program=None), _status(form)


@bp.route("/voucher-programs/<int:program_id>/edit", methods=["GET", "POST"])
@login_required
def edit_program(program_id: int) -> Any:
    actor = request_actor()
    program = services.program_for_edit(db.session, actor, program_id)
    form = (ProgramForm.of(program) if request.method == "GET" else ProgramForm()).with_regions(list_regions(db.session))
    if _submit(form, lambda: services.update_program(db.session, actor, program_id, _rules(form))) is not None:
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("vouchers.program_detail", program_id=program_id))
    return render_template("vouchers/program_form.html", form=form, program=program), _status(form)


@bp.post("/voucher-programs/<int:program_id>/<any(open, close):action>")
@login_required
def change_program(program_id: int, action: str) -> Any:
    change = services.open_program if action == "open" else services.close_program
    here = url_for("vouchers.program_detail", program_id=program_id)
    return _decide(lambda: change(db.session, request_actor(), program_id),
                   lambda program: _("%(name)s is now: %(status)s.", name=program.name, status=program.status.label),
                   here, here)


@bp.get("/voucher-programs/<int:program_id>/dashboard")
@login_required
def dashboard(program_id: int) -> Any:
    actor = request_actor()
    board = services.program_dashboard(db.session, actor, program_id)
    vouchers = services.list_vouchers(db.session, actor, _page(), program_id=program_id)
    regions = {region.code: region.name for region in list_regions(db.session)}
    charts = {
        "burnDown": {"labels": [day for day, _remaining in board.remaining_by_day],
                     "fen": [remaining for _day, remaining in board.remaining_by_day],
                     "label": _("Remaining budget (yuan)")},
        "byRegion": {"labels": [regions.get(code, code) for code, _orders, _covered in board.redeemed_by_provider_region],
                     "fen": [covered for _code, _orders, covered in board.redeemed_by_provider_region],
                     "label": _("Redeemed (yuan)")},
    }
    return render_template("vouchers/dashboard.html", board=board, program=board.program, figures=board.figures,
                           charts=charts, regions=regions, vouchers=vouchers, now=utcnow())


@bp.get("/voucher-programs/<int:program_id>/ledger.csv")
@login_required
def ledger_export(program_id: int) -> Any:
    header, rows = pages.ledger_table(db.session, request_actor(), program_id)
    return csv_download(f"voucher-ledger-{program_id}-{utcnow():%Y%m%d}.csv", header, rows)


# Applications --------------------------------------------------------------------------------------

@bp.route("/voucher-programs/<int:program_id>/apply", methods=["GET", "POST"])
@login_required
def apply(program_id: int) -> Any:
    actor = request_actor()
    context = pages.application_form(db.session, actor, program_id)
    form = ApplicationForm().for_program(context.program, context.providers)
    application = _submit(form, lambda: services.apply_for_voucher(db.session, actor, services.ApplicationRequest(
        program_id=program_id, service_category=form.service_category.data or "",
        planned_service=form.planned_service.data or "", amount_fen=_fen(form.amount),
        justification=form.justification.data or "", provider_id=id_from_text(form.provider.data))))
    if application is not None:
        flash(_("Your application has been sent to the administrators of %(region)s.",
                region=context.program.region.name), "success")
        return redirect(url_for("vouchers.application_detail", application_id=application.id))
    return render_template("vouchers/apply.html", form=form, program=context.program), _status(form)


@bp.get("/voucher-applications/<int:application_id>")
@login_required
def application_detail(application_id: int) -> Any:
    application = services.get_application(db.session, request_actor(), application_id)
    return render_template("vouchers/application.html", application=application, reason_form=ReasonForm())


@bp.post("/voucher-applications/<int:application_id>/approve")
@login_required
def approve_application(application_id: int) -> Any:
    return _decide(lambda: services.approve_application(db.session, request_actor(), application_id),
                   lambda voucher: _("Voucher %(code)s of %(face)s has been issued.", code=voucher.code,
                                     face=format_fen(voucher.face_fen)),
                   url_for("vouchers.application_queue"),
                   url_for("vouchers.application_detail", application_id=application_id))


@bp.post("/voucher-applications/<int:application_id>/reject")
@login_required
def reject_application(application_id: int) -> Any:
    return _decide(lambda: services.reject_application(db.session, request_actor(), application_id, _reason()),
                   lambda _application: _("The application has been rejected."),
                   url_for("vouchers.application_queue"),
                   url_for("vouchers.application_detail", application_id=application_id))


# Vouchers -----------------------------------------------------------------------------------------

@bp.get("/vouchers")
@login_required
def wallet() -> Any:
    actor = request_actor()
    page = services.list_vouchers(db.session, actor, _page())
    applications = services.list_applications(db.session, actor, services.QueueFilters(),
                                              PageRequest(per_page=10)) if actor.organization_id else None
    return render_template("vouchers/wallet.html", page=page, applications=applications, now=utcnow())


@bp.get("/vouchers/<code>")
@login_required
def voucher_detail(code: str) -> Any:
    statement = services.voucher_statement(db.session, request_actor(), code)
    now = utcnow()
    return render_template("vouchers/voucher.html", statement=statement, reason_form=ReasonForm(), now=now,
                           expires_soon=services.Holding(statement.voucher, statement.balance_fen).expires_soon(now))


@bp.post("/vouchers/<code>/revoke")
@login_required
def revoke_voucher(code: str) -> Any:
    here = url_for("vouchers.voucher_detail", code=code)
    return _decide(lambda: services.revoke_voucher(db.session, request_actor(), code, _reason()),
                   lambda voucher: _("Voucher %(code)s has been revoked; what was left on it is back in the budget.",
                                     code=voucher.code),
                   here, here)


@bp.route("/vouchers/<code>/claim", methods=["GET", "POST"])
@login_required
def claim(code: str) -> Any:
    actor = request_actor()
    context = pages.claim_form(db.session, actor, code)
    form = ClaimForm().with_providers(context.providers)

    def submit() -> Any:
        files = [Upload(f.filename or "", f.stream) for f in (form.files.data or []) if f and f.filename]
        return services.submit_claim(db.session, actor, services.ClaimRequest(
            voucher_code=context.voucher.code, provider_id=id_from_text(form.provider.data),
            service_description=form.service_description.data or "", fee_fen=_fen(form.fee),
            contract_reference=form.contract_reference.data or ""), files)

    redemption = _submit(form, submit)
    if redemption is not None:
        flash(_("Your claim has been sent to the administrators for review."), "success")
        return redirect(url_for("vouchers.redemption_detail", redemption_id=redemption.id))
    return render_template("vouchers/claim.html", form=form, voucher=context.voucher), _status(form)


# Redemptions and claims -----------------------------------------------------------------------------

@bp.get("/voucher-redemptions")
@login_required
def redemptions() -> Any:
    """Orders paid by vouchers that the caller may see: for an admin, those of their region's programmes
    and those served by their region's providers (a cross-region order shows in both regions)."""
    filters = services.RedemptionFilters.from_args(request.args, "program", "status")
    return render_template("vouchers/redemptions.html", statuses=list(RedemptionStatus),
                           page=services.list_redemptions(db.session, request_actor(), filters, _page()))


@bp.get("/voucher-redemptions/<int:redemption_id>")
@login_required
def redemption_detail(redemption_id: int) -> Any:
    return render_template("vouchers/redemption.html", reason_form=ReasonForm(),
                           redemption=services.get_redemption(db.session, request_actor(), redemption_id))


@bp.get("/voucher-redemptions/<int:redemption_id>/attachments/<int:attachment_id>")
@login_required
def claim_attachment(redemption_id: int, attachment_id: int) -> Any:
    attachment = services.claim_attachment(db.session, request_actor(), redemption_id, attachment_id)
    return stored_file_download(upload_dir() / attachment.stored_name, attachment.content_type,
                                attachment.original_name)


@bp.post("/voucher-redemptions/<int:redemption_id>/approve")
@login_required
def approve_claim(redemption_id: int) -> Any:
    return _decide(lambda: services.approve_claim(db.session, request_actor(), redemption_id),
                   lambda redemption: _("The claim has been approved: the voucher covers %(covered)s.",
                                        covered=format_fen(redemption.covered_fen)),
                   url_for("vouchers.claim_queue"),
                   url_for("vouchers.redemption_detail", redemption_id=redemption_id))


@bp.post("/voucher-redemptions/<int:redemption_id>/reject")
@login_required
def reject_claim(redemption_id: int) -> Any:
    return _decide(lambda: services.reject_claim(db.session, request_actor(), redemption_id, _reason()),
                   lambda _redemption: _("The claim has been rejected."),
                   url_for("vouchers.claim_queue"),
                   url_for("vouchers.redemption_detail", redemption_id=redemption_id))


# Settlements (兑付) ---------------------------------------------------------------------------------

@bp.get("/voucher-settlements")
@login_required
def settlements() -> Any:
    actor = request_actor()
    page = services.list_settlements(db.session, actor, services.QueueFilters.from_args(request.args, "status"),
                                     _page())
    return render_template("vouchers/settlements.html", page=page, statuses=list(SettlementStatus),
                           unsettled=services.unsettled_summary(db.session, actor))


@bp.post("/voucher-settlements")
@login_required
def request_settlement() -> Any:
    program_id = id_from_text(request.form.get("program_id"))
    if program_id is None:
        raise NotFound()
    settlement = _attempt(lambda: services.request_settlement(db.session, request_actor(), program_id))
    if settlement is None:
        return redirect(url_for("vouchers.settlements"))
    flash(_("Settlement of %(amount)s requested from %(program)s.", amount=format_fen(settlement.amount_fen),
            program=settlement.program.name), "success")
    return redirect(url_for("vouchers.settlement_detail", settlement_id=settlement.id))


@bp.get("/voucher-settlements/<int:settlement_id>")
@login_required
def settlement_detail(settlement_id: int) -> Any:
    return render_template("vouchers/settlement.html", payment_form=PaymentForm(), reason_form=ReasonForm(),
                           settlement=services.get_settlement(db.session, request_actor(), settlement_id))


@bp.post("/voucher-settlements/<int:settlement_id>/approve")
@login_required
def approve_settlement(settlement_id: int) -> Any:
    reference = PaymentForm().payment_reference.data or ""
    return _decide(lambda: services.approve_settlement(db.session, request_actor(), settlement_id, reference),
                   lambda settlement: _("Settlement %(id)s of %(amount)s has been approved for payment.",
                                        id=settlement.id, amount=format_fen(settlement.amount_fen)),
                   url_for("vouchers.settlement_queue"),
                   url_for("vouchers.settlement_detail", settlement_id=settlement_id))


@bp.post("/voucher-settlements/<int:settlement_id>/reject")
@login_required
def reject_settlement(settlement_id: int) -> Any:
    return _decide(lambda: services.reject_settlement(db.session, request_actor(), settlement_id, _reason()),
                   lambda _settlement: _("The settlement request has been rejected."),
                   url_for("vouchers.settlement_queue"),
                   url_for("vouchers.settlement_detail", settlement_id=settlement_id))


# Review queues (regional admin) ---------------------------------------------------------------------

@bp.get("/review/voucher-applications")
@login_required
def application_queue() -> Any:
    return render_template("vouchers/review_applications.html", reason_form=ReasonForm(),
                           page=pages.application_queue(db.session, request_actor(), _page()))


@bp.get("/review/voucher-providers")
@login_required
def provider_queue() -> Any:
    return render_template("vouchers/review_providers.html", reason_form=ReasonForm(),
                           open_objections=providers.open_objections,
                           page=providers.provider_review_queue(db.session, request_actor(), _page()))


@bp.get("/review/voucher-claims")
@login_required
def claim_queue() -> Any:
    return render_template("vouchers/review_claims.html", reason_form=ReasonForm(),
                           page=services.claim_queue(db.session, request_actor(), _page()))


@bp.get("/review/voucher-settlements")
@login_required
def settlement_queue() -> Any:
    return render_template("vouchers/review_settlements.html", payment_form=PaymentForm(), reason_form=ReasonForm(),
                           page=pages.settlement_queue(db.session, request_actor(), _page()))


# Providers (public) --------------------------------------------------------------------------------

@bp.get("/voucher-providers")
def providers_list() -> Any:
    filters = providers.ProviderFilters.from_args(request.args, "region", "category", "service_category", "q")
    page = providers.list_providers(db.session, request_actor(), filters, _page())
    return render_template("vouchers/providers.html", page=page, filters=filters, regions=list_regions(db.session),
                           categories=list(ProviderCategory), service_categories=list(ServiceCategory))


@bp.get("/voucher-providers/notices")
def notices() -> Any:
    return render_template("vouchers/notices.html", providers=providers.notices(db.session, request_actor()),
                           objection_form=ObjectionForm(), now=utcnow())


@bp.get("/voucher-providers/<int:organization_id>")
def provider_detail(organization_id: int) -> Any:
    provider = providers.get_provider(db.session, request_actor(), organization_id)
    return render_template("vouchers/provider.html", provider=provider, objection_form=ObjectionForm(),
                           reason_form=ReasonForm(), open_objections=providers.open_objections(provider), now=utcnow())


@bp.post("/voucher-providers/<int:organization_id>/objections")
@login_required
def object_to_provider(organization_id: int) -> Any:
    text = ObjectionForm().text.data or ""
    board = url_for("vouchers.notices")
    return _decide(lambda: providers.object_to_provider(db.session, request_actor(), organization_id, text),
                   lambda _objection: _("Your objection has been recorded; the administrators will look into it "
                                        "before deciding."),
                   board, board)


# Providers (regional admin) ------------------------------------------------------------------------

def _provider_now(provider: Any) -> str:
    return _("%(name)s is now: %(status)s.", name=provider.organization.name, status=provider.status.label)


@bp.post("/voucher-providers/<int:organization_id>/<any(notice, admit):action>")
@login_required
def review_provider(organization_id: int, action: str) -> Any:
    change = providers.start_notice if action == "notice" else providers.admit_provider
    here = url_for("vouchers.provider_detail", organization_id=organization_id)
    return _decide(lambda: change(db.session, request_actor(), organization_id), _provider_now, here, here)


@bp.post("/voucher-providers/<int:organization_id>/<any(reject, suspend):action>")
@login_required
def refuse_provider(organization_id: int, action: str) -> Any:
    change = providers.reject_provider if action == "reject" else providers.suspend_provider
    here = url_for("vouchers.provider_detail", organization_id=organization_id)
    return _decide(lambda: change(db.session, request_actor(), organization_id, _reason()), _provider_now, here, here)


@bp.post("/voucher-providers/<int:organization_id>/objections/<int:objection_id>/dismiss")
@login_required
def dismiss_objection(organization_id: int, objection_id: int) -> Any:
    here = url_for("vouchers.provider_detail", organization_id=organization_id)
    return _decide(lambda: providers.dismiss_objection(db.session, request_actor(), objection_id, _reason()),
                   lambda _objection: _("The objection has been dismissed."), here, here)


# The provider's console ------------------------------------------------------------------------------

@bp.route("/provider/apply", methods=["GET", "POST"])
@login_required
def apply_as_provider() -> Any:
    actor = request_actor()
    existing = pages.provider_application(db.session, actor)
    if existing is not None and existing.status is not ProviderStatus.REJECTED:
        return redirect(url_for("vouchers.provider_console"))
    form = ProviderApplicationForm()
    provider = _submit(form, lambda: providers.apply_as_provider(db.session, actor, providers.ProviderApplication(
        category=form.category.data or "", qualifications=form.qualifications.data or "")))
    if provider is not None:
        flash(_("Your application has been sent. Add your services with their published fees while it is reviewed."),
              "success")
        return redirect(url_for("vouchers.provider_console"))
    return render_template("vouchers/provider_apply.html", form=form, previous=existing), _status(form)


def _console(order_form: OrderForm | None = None, product_form: ProductForm | None = None) -> Any:
    console = pages.provider_console(db.session, request_actor(), _page())
    products = console.provider.products if console.provider else []
    order_form = (order_form or OrderForm(formdata=None)).with_products(products)
    product_form = product_form or ProductForm(formdata=None)
    return render_template("vouchers/console.html", console=console, provider=console.provider,
                           order_form=order_form, product_form=product_form), _status(order_form, product_form)


@bp.get("/provider")
@login_required
def provider_console() -> Any:
    return _console()


def _product_changes(form: ProductForm) -> providers.ProductChanges:
    return providers.ProductChanges(name=form.name.data or "", category=form.category.data or "",
                                    fee_fen=_fen(form.published_fee), description=form.description.data or "",
                                    is_active=bool(form.is_active.data))


@bp.post("/provider/products")
@login_required
def add_product() -> Any:
    actor = request_actor()
    form = ProductForm()
    product = _submit(form, lambda: providers.add_product(db.session, actor, actor.organization_id or 0,
                                                          _product_changes(form)))
    if product is None:
        return _console(product_form=form)
    flash(_("%(name)s has been added to your services.", name=product.name), "success")
    return redirect(url_for("vouchers.provider_console"))


@bp.route("/provider/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int) -> Any:
    actor = request_actor()
    product = pages.product_for_edit(db.session, actor, product_id)
    form = ProductForm.of(product) if request.method == "GET" else ProductForm()
    if _submit(form, lambda: providers.update_product(db.session, actor, product_id, _product_changes(form))):
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("vouchers.provider_console"))
    return render_template("vouchers/product_form.html", form=form, product=product), _status(form)


@bp.post("/provider/orders")
@login_required
def record_order() -> Any:
    actor = request_actor()
    form = OrderForm()
    redemption = _submit(form, lambda: services.record_redemption(db.session, actor, services.OrderRequest(
        voucher_code=(form.voucher_code.data or "").strip().upper(),
        service_product_id=id_from_text(form.service_product.data), fee_fen=_fen(form.fee),
        contract_reference=(form.contract_reference.data or "").strip()), form.idempotency_key.data or None))
    if redemption is None:
        form.idempotency_key.data = new_idempotency_key()  # nothing was recorded: a corrected order is a new one
        return _console(order_form=form)
    flash(_("Order recorded: the voucher covers %(covered)s, the customer pays %(copay)s.",
            covered=format_fen(redemption.covered_fen), copay=format_fen(redemption.copay_fen)), "success")
    return redirect(url_for("vouchers.redemption_detail", redemption_id=redemption.id))

