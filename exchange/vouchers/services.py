"""Use cases of innovation vouchers: programmes, applications and issuance, redemption, reimbursement
claims, settlement, revocation and expiry. Every movement of money goes through `ledger.post`."""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from exchange.audit.services import record
from exchange.db import utcnow
from exchange.errors import Conflict, NotFound, ValidationFailed
from exchange.orgs.models import Organization
from exchange.pagination import ListFilters, Page, PageRequest, paginate
from exchange.policy import (
    Action,
    Actor,
    authorize,
    mark_checked,
    visible_holdings,
    visible_programs,
    visible_redemptions,
    visible_settlements,
)
from exchange.storage import StoredFile, Upload, store_upload
from exchange.taxonomy.models import Region
from exchange.unit_of_work import after_rollback, savepoint, service, unit_of_work
from exchange.vouchers import ledger
from exchange.vouchers.checks import (
    choice,
    has_forbidden_characters,
    optional_text,
    reason_text,
    required_text,
    whole_number,
)
from exchange.vouchers.ledger import Leg, Overdrawn
from exchange.vouchers.models import (
    CODE_LENGTH,
    NAME_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    AccountKind,
    ApplicationStatus,
    ClaimAttachment,
    IdempotencyRecord,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OrganizationAllowance,
    ProgramStatus,
    ProviderProfile,
    ProviderStatus,
    Redemption,
    RedemptionMode,
    RedemptionStatus,
    ServiceCategory,
    ServiceProduct,
    Settlement,
    SettlementStatus,
    TransactionKind,
    Voucher,
    VoucherApplication,
    VoucherProgram,
    VoucherStatus,
)
from exchange.vouchers.money import format_fen

MAX_CLAIM_FILES = 10
EXPIRY_WARNING_DAYS = 14


# Programmes -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProgramRules:
    """A programme's rules as an admin sets them; amounts in fen."""

    name: str
    year: int | None
    budget_fen: int | None
    unit_fen: int | None
    max_face_fen: int | None
    coverage_percent: int | None
    cap_per_org_fen: int | None
    validity_days: int | None
    redemption_mode: str
    eligible_categories: Sequence[str] = field(default_factory=list)
    accepting_regions: Sequence[str] = field(default_factory=lambda: ["BJ", "TJ", "HE"])
    description: str = ""


def _validate_rules(session: Session, rules: ProgramRules) -> dict[str, object]:
    errors: dict[str, object] = {}
    values: dict[str, object] = {
        "name": required_text(errors, "name", rules.name, NAME_MAX_LENGTH),
        "year": whole_number(errors, "year", rules.year, low=2000, high=2100),
        "budget_fen": whole_number(errors, "budget_fen", rules.budget_fen),
        "unit_fen": whole_number(errors, "unit_fen", rules.unit_fen),
        "max_face_fen": whole_number(errors, "max_face_fen", rules.max_face_fen),
        "coverage_percent": whole_number(errors, "coverage_percent", rules.coverage_percent, high=100),
        "cap_per_org_fen": whole_number(errors, "cap_per_org_fen", rules.cap_per_org_fen),
        "validity_days": whole_number(errors, "validity_days", rules.validity_days, high=3660),
        "redemption_mode": choice(errors, "redemption_mode", rules.redemption_mode, RedemptionMode),
        "description": optional_text(errors, "description", rules.description, TEXT_MAX_LENGTH),
    }
    categories = list(dict.fromkeys(rules.eligible_categories or []))
    if not categories or any(c not in ServiceCategory.__members__.values() for c in categories):
        errors["eligible_categories"] = _l("Choose at least one service category from the list.")
    regions = list(dict.fromkeys(rules.accepting_regions or []))
    known_regions = set(session.scalars(sa.select(Region.code)))
    if not regions or any(r not in known_regions for r in regions):
        errors["accepting_regions"] = _l("Choose at least one region whose providers accept the vouchers.")
    unit, face, cap, budget = (values[n] for n in ("unit_fen", "max_face_fen", "cap_per_org_fen", "budget_fen"))
    if not errors:
        if face % unit:  # type: ignore[operator]
            errors["max_face_fen"] = _l("The largest face value must be a whole number of units.")
        if cap < unit:  # type: ignore[operator]
            errors["cap_per_org_fen"] = _l("The cap per organisation must be at least one unit.")
        if budget < unit:  # type: ignore[operator]
            errors["budget_fen"] = _l("The budget must be at least one unit.")
    if errors:
        raise ValidationFailed(fields=errors)
    return values | {"eligible_categories": categories, "accepting_regions": regions}


def load_program(session: Session, program_id: int, *, lock: bool = False) -> VoucherProgram:
    statement = sa.select(VoucherProgram).where(VoucherProgram.id == program_id)
    program = session.scalar(statement.with_for_update(of=VoucherProgram) if lock else statement)
    if program is None:
        raise NotFound()
    return program


@service
def create_program(session: Session, actor: Actor, rules: ProgramRules) -> VoucherProgram:
    """A regional admin drafts a programme for their own region."""
    authorize(actor, Action.PROGRAM_CREATE)
    program = VoucherProgram(region_code=actor.region_code, created_by_id=actor.id, status=ProgramStatus.DRAFT,
                             **_validate_rules(session, rules))
    session.add(program)
    session.flush()
    record(session, "program.created", actor.id, program, budget_fen=program.budget_fen)
    return program


def _editable_program(session: Session, actor: Actor, program_id: int) -> VoucherProgram:
    program = load_program(session, program_id)
    authorize(actor, Action.PROGRAM_MANAGE, program)
    if program.status is not ProgramStatus.DRAFT:
        raise Conflict(_l("Only a draft programme can be changed."), code="program_not_draft")
    return program


@service
def program_for_edit(session: Session, actor: Actor, program_id: int) -> VoucherProgram:
    """The programme whose rules the edit form shows: its region's admin, while it is a draft."""
    return _editable_program(session, actor, program_id)


@service
def update_program(session: Session, actor: Actor, program_id: int, rules: ProgramRules) -> VoucherProgram:
    """Rules change only while the programme is a draft: what applicants were promised stays true."""
    program = _editable_program(session, actor, program_id)
    for name, value in _validate_rules(session, rules).items():
        setattr(program, name, value)
    record(session, "program.changed", actor.id, program)
    return program


@service
def open_program(session: Session, actor: Actor, program_id: int) -> VoucherProgram:
    """Open for applications; the first opening funds the budget on the ledger."""
    ledger.begin_money_transaction(session)
    program = load_program(session, program_id, lock=True)
    authorize(actor, Action.PROGRAM_MANAGE, program)
    if program.status is ProgramStatus.OPEN:
        raise Conflict(_l("The programme is already open."), code="program_open")
    if program.opened_at is None:
        funding = ledger.account(session, AccountKind.FUNDING, program.id)
        budget = ledger.account(session, AccountKind.BUDGET, program.id)
        ledger.post(session, TransactionKind.FUND, [Leg(funding, -program.budget_fen), Leg(budget, program.budget_fen)],
                    program_id=program.id, actor_id=actor.id)
        program.opened_at = utcnow()
    program.status, program.closed_at = ProgramStatus.OPEN, None
    record(session, "program.opened", actor.id, program)
    return program


@service
def close_program(session: Session, actor: Actor, program_id: int) -> VoucherProgram:
    """No new applications or issuance; vouchers already issued stay usable until they expire."""
    program = load_program(session, program_id, lock=True)
    authorize(actor, Action.PROGRAM_MANAGE, program)
    if program.status is not ProgramStatus.OPEN:
        raise Conflict(_l("Only an open programme can be closed."), code="program_not_open")
    program.status, program.closed_at = ProgramStatus.CLOSED, utcnow()
    record(session, "program.closed", actor.id, program)
    return program


@service
def get_program(session: Session, actor: Actor, program_id: int) -> VoucherProgram:
    program = load_program(session, program_id)
    authorize(actor, Action.PROGRAM_VIEW, program)
    return program


@dataclass(frozen=True)
class ProgramFilters(ListFilters):
    region: str | None = None
    status: str | None = None


@service
def list_programs(session: Session, actor: Actor, filters: ProgramFilters, page: PageRequest) -> Page[VoucherProgram]:
    mark_checked()
    statement = (sa.select(VoucherProgram).where(visible_programs(actor))
                 .order_by(VoucherProgram.year.desc(), VoucherProgram.region_code, VoucherProgram.id.desc()))
    if filters.region:
        statement = statement.where(VoucherProgram.region_code == filters.region)
    if filters.status in ProgramStatus.__members__.values():
        statement = statement.where(VoucherProgram.status == filters.status)
    return paginate(session, statement, page)


@dataclass(frozen=True)
class ProgramFigures:
    """A programme's books, all derived from the ledger (fen)."""

    budget_fen: int
    remaining_fen: int
    issued_fen: int
    returned_fen: int
    redeemed_fen: int
    settled_fen: int
    vouchers: int

    @property
    def outstanding_fen(self) -> int:
        """Issued and still on vouchers: neither spent nor returned."""
        return self.issued_fen - self.returned_fen - self.redeemed_fen

    @property
    def payable_fen(self) -> int:
        return self.redeemed_fen - self.settled_fen


def _sums_by_kind(session: Session, program_ids: Sequence[int]) -> dict[tuple[int, TransactionKind], int]:
    """Per programme and transaction kind, the amount moved (the positive side of each transaction)."""
    rows = session.execute(
        sa.select(LedgerTransaction.program_id, LedgerTransaction.kind, sa.func.sum(LedgerEntry.amount_fen))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.program_id.in_(program_ids), LedgerEntry.amount_fen > 0)
        .group_by(LedgerTransaction.program_id, LedgerTransaction.kind))
    return {(program_id, kind): int(total) for program_id, kind, total in rows}


def program_figures(session: Session, programs: Sequence[VoucherProgram]) -> dict[int, ProgramFigures]:
    """The books of several programmes in two queries (for lists as well as one page)."""
    ids = [program.id for program in programs]
    sums = _sums_by_kind(session, ids)
    counts = dict(session.execute(sa.select(Voucher.program_id, sa.func.count()).where(Voucher.program_id.in_(ids))
                                  .group_by(Voucher.program_id)).all())
    figures = {}
    for program in programs:
        def moved(kind: TransactionKind, program_id: int = program.id) -> int:
            return sums.get((program_id, kind), 0)

        funded = moved(TransactionKind.FUND)
        issued = moved(TransactionKind.ISSUE)
        returned = moved(TransactionKind.REVOKE) + moved(TransactionKind.EXPIRE)
        figures[program.id] = ProgramFigures(
            budget_fen=program.budget_fen, remaining_fen=(funded - issued + returned) if funded else program.budget_fen,
            issued_fen=issued, returned_fen=returned, redeemed_fen=moved(TransactionKind.REDEEM),
            settled_fen=moved(TransactionKind.SETTLE), vouchers=counts.get(program.id, 0))
    return figures


@dataclass(frozen=True)
class ProgramOverview:
    program: VoucherProgram
    figures: ProgramFigures


@service
def program_overview(session: Session, actor: Actor, program_id: int) -> ProgramOverview:
    """The public page of a programme: its rules and the remaining budget."""
    program = load_program(session, program_id)
    authorize(actor, Action.PROGRAM_VIEW, program)
    return ProgramOverview(program, program_figures(session, [program])[program.id])


@dataclass(frozen=True)
class Dashboard:
    program: VoucherProgram
    figures: ProgramFigures
    remaining_by_day: list[tuple[str, int]]          # burn-down: (ISO date, remaining budget at its end)
    redeemed_by_provider_region: list[tuple[str, int, int]]  # (region code, orders, covered fen)
    waiting_applications: int
    waiting_claims: int
    waiting_settlements: int


@service
def program_dashboard(session: Session, actor: Actor, program_id: int) -> Dashboard:
    program = load_program(session, program_id)
    authorize(actor, Action.PROGRAM_MONITOR, program)
    budget_key = ledger.account_key(AccountKind.BUDGET, program.id)
    day = sa.func.date(LedgerTransaction.created_at)
    movements = session.execute(
        sa.select(day, sa.func.sum(LedgerEntry.amount_fen))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.key == budget_key).group_by(day).order_by(day)).all()
    remaining, burn_down = 0, []
    for on_day, change in movements:
        remaining += int(change)
        burn_down.append((str(on_day), remaining))
    by_region = session.execute(
        sa.select(Organization.region_code, sa.func.count(), sa.func.sum(Redemption.covered_fen))
        .join(Organization, Organization.id == Redemption.provider_id)
        .where(Redemption.program_id == program.id, Redemption.status == RedemptionStatus.RECORDED)
        .group_by(Organization.region_code).order_by(Organization.region_code)).all()

    def waiting(statement: sa.Select) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0

    return Dashboard(
        program=program, figures=program_figures(session, [program])[program.id], remaining_by_day=burn_down,
        redeemed_by_provider_region=[(region, int(count), int(total or 0)) for region, count, total in by_region],
        waiting_applications=waiting(sa.select(VoucherApplication.id).where(
            VoucherApplication.program_id == program.id, VoucherApplication.status == ApplicationStatus.SUBMITTED)),
        waiting_claims=waiting(sa.select(Redemption.id).where(
            Redemption.program_id == program.id, Redemption.status == RedemptionStatus.CLAIMED)),
        waiting_settlements=waiting(sa.select(Settlement.id).where(
            Settlement.program_id == program.id, Settlement.status == SettlementStatus.REQUESTED)))


@service
def ledger_rows(session: Session, actor: Actor, program_id: int) -> Iterable[tuple[LedgerTransaction, LedgerEntry]]:
    """Every entry of a programme's ledger, oldest first, for the export."""
    program = load_program(session, program_id)
    authorize(actor, Action.PROGRAM_MONITOR, program)
    return session.execute(
        sa.select(LedgerTransaction, LedgerEntry).join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.program_id == program.id).order_by(LedgerTransaction.id, LedgerEntry.id)
        .execution_options(yield_per=1000))


# Applications and issuance ---------------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationRequest:
    program_id: int
    service_category: str
    planned_service: str
    amount_fen: int | None
    justification: str
    provider_id: int | None = None


def _validate_amount(program: VoucherProgram, amount: int | None, errors: dict[str, object]) -> int:
    value = whole_number(errors, "amount_fen", amount)
    if "amount_fen" in errors:
        return value
    if value % program.unit_fen:
        errors["amount_fen"] = _l("Vouchers come in units of %(unit)s: the amount must be a whole number of units.",
                                  unit=format_fen(program.unit_fen))
    elif value > program.max_face_fen:
        errors["amount_fen"] = _l("One voucher is at most %(max)s.", max=format_fen(program.max_face_fen))
    elif value > program.cap_per_org_fen:
        errors["amount_fen"] = _l("An organisation receives at most %(cap)s from this programme.",
                                  cap=format_fen(program.cap_per_org_fen))
    return value


@service
def apply_for_voucher(session: Session, actor: Actor, request: ApplicationRequest) -> VoucherApplication:
    """An SME of the programme's region applies; nothing is reserved until the admin approves."""
    program = load_program(session, request.program_id)
    authorize(actor, Action.PROGRAM_VIEW, program)
    organization = session.get(Organization, actor.organization_id) if actor.organization_id else None
    authorize(actor, Action.APPLICATION_CREATE, (organization, program))
    assert organization is not None
    if program.status is not ProgramStatus.OPEN:
        raise Conflict(_l("This programme is not open for applications."), code="program_not_open")
    errors: dict[str, object] = {}
    category = choice(errors, "service_category", request.service_category, ServiceCategory)
    if category is not None and category.value not in program.eligible_categories:
        errors["service_category"] = _l("This programme does not pay for that kind of service.")
    planned = required_text(errors, "planned_service", request.planned_service, NAME_MAX_LENGTH)
    justification = required_text(errors, "justification", request.justification, TEXT_MAX_LENGTH)
    amount = _validate_amount(program, request.amount_fen, errors)
    if request.provider_id is not None:
        provider = session.get(ProviderProfile, request.provider_id)
        if provider is None or provider.status is not ProviderStatus.ADMITTED:
            errors["provider_id"] = _l("Choose an admitted provider, or leave it empty.")
        elif provider.region_code not in program.accepting_regions:
            errors["provider_id"] = _l("This programme's vouchers are not accepted in that provider's region.")
    if errors:
        raise ValidationFailed(fields=errors)
    application = VoucherApplication(
        program_id=program.id, organization_id=organization.id, applicant_id=actor.id, service_category=category,
        planned_service=planned, provider_id=request.provider_id, amount_fen=amount, justification=justification)
    session.add(application)
    session.flush()
    record(session, "voucher.applied", actor.id, application, amount_fen=amount, program=program.id)
    return application


def _load_application(session: Session, application_id: int, *, lock: bool = False) -> VoucherApplication:
    statement = sa.select(VoucherApplication).where(VoucherApplication.id == application_id)
    application = session.scalar(statement.with_for_update(of=VoucherApplication) if lock else statement)
    if application is None:
        raise NotFound()
    return application


def _decide(session: Session, actor: Actor, application_id: int) -> VoucherApplication:
    application = _load_application(session, application_id, lock=True)
    authorize(actor, Action.APPLICATION_REVIEW, application)
    if application.status is not ApplicationStatus.SUBMITTED:
        raise Conflict(_l("This application has already been decided."), code="application_decided")
    return application


def new_voucher_code(program: VoucherProgram) -> str:
    # 8 characters from 31 that cannot be misread (no 0/O, 1/I/L): ~8.5e11 codes per region and year.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    body = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{program.region_code}{program.year}-{body[:4]}-{body[4:]}"


@service
def approve_application(session: Session, actor: Actor, application_id: int) -> Voucher:
    """Issue the voucher: never beyond the programme's remaining budget nor the organisation's cap.

    Both limits are conditional updates (the organisation's allowance, then the budget account) in one
    transaction, so concurrent approvals of the last budget succeed exactly as often as it allows.
    """
    ledger.begin_money_transaction(session)
    application = _decide(session, actor, application_id)
    program = application.program
    if program.status is not ProgramStatus.OPEN:
        raise Conflict(_l("The programme is not open: vouchers cannot be issued."), code="program_not_open")
    now = utcnow()
    voucher = Voucher(code=new_voucher_code(program), program_id=program.id,
                      organization_id=application.organization_id, application_id=application.id,
                      face_fen=application.amount_fen, issued_at=now,
                      expires_at=now + timedelta(days=program.validity_days))
    session.add(voucher)
    session.flush()
    application.status, application.decided_by_id, application.decided_at = ApplicationStatus.APPROVED, actor.id, now
    record(session, "voucher.issued", actor.id, voucher, code=voucher.code, face_fen=voucher.face_fen,
           application=application.id)
    _notify_members(session, application.organization_id, "voucher.issued", voucher)
    if not _take_allowance(session, program, application.organization_id, voucher.face_fen):
        raise Conflict(_l("This organisation has reached its cap in this programme."), code="cap_reached")
    # The programme's budget, shared by every approval, is updated last: locked only until the commit.
    budget = ledger.account(session, AccountKind.BUDGET, program.id)
    balance = ledger.account(session, AccountKind.VOUCHER, program.id, voucher_id=voucher.id)
    try:
        ledger.post(session, TransactionKind.ISSUE, [Leg(budget, -voucher.face_fen), Leg(balance, voucher.face_fen)],
                    program_id=program.id, actor_id=actor.id, voucher_id=voucher.id)
    except Overdrawn:
        raise Conflict(_l("The programme's remaining budget is smaller than this application."),
                       code="budget_exhausted") from None
    return voucher


def _take_allowance(session: Session, program: VoucherProgram, organization_id: int, amount: int) -> bool:
    """Count the amount against the organisation's cap; False if it would go over."""
    insert = (ledger.insert_ignoring_duplicates(session, OrganizationAllowance, ["program_id", "organization_id"])
              .values(program_id=program.id, organization_id=organization_id, cap_fen=program.cap_per_org_fen,
                      issued_fen=0))
    session.execute(insert)
    result = session.execute(
        sa.update(OrganizationAllowance)
        .where(OrganizationAllowance.program_id == program.id, OrganizationAllowance.organization_id == organization_id,
               OrganizationAllowance.issued_fen + amount <= OrganizationAllowance.cap_fen)
        .values(issued_fen=OrganizationAllowance.issued_fen + amount).execution_options(synchronize_session=False))
    return result.rowcount == 1


@service
def reject_application(session: Session, actor: Actor, application_id: int, reason: str) -> VoucherApplication:
    text = reason_text(reason)
    application = _decide(session, actor, application_id)
    application.status, application.decided_by_id, application.decided_at = (
        ApplicationStatus.REJECTED, actor.id, utcnow())
    application.rejection_reason = text
    record(session, "voucher.application_rejected", actor.id, application, reason=text)
    _notify_members(session, application.organization_id, "voucher.application_rejected", application)
    return application


@service
def get_application(session: Session, actor: Actor, application_id: int) -> VoucherApplication:
    application = _load_application(session, application_id)
    authorize(actor, Action.APPLICATION_VIEW, application)
    return application


@dataclass(frozen=True)
class QueueFilters(ListFilters):
    program: int | None = None
    status: str | None = None


@service
def list_applications(session: Session, actor: Actor, filters: QueueFilters,
                      page: PageRequest) -> Page[VoucherApplication]:
    """The caller's organisation's applications; for an admin, those of their region's programmes
    (the queue: oldest first)."""
    mark_checked()
    statement = (sa.select(VoucherApplication).where(visible_holdings(actor, VoucherApplication))
                 .order_by(VoucherApplication.created_at, VoucherApplication.id))
    if filters.program is not None:
        statement = statement.where(VoucherApplication.program_id == filters.program)
    if filters.status in ApplicationStatus.__members__.values():
        statement = statement.where(VoucherApplication.status == filters.status)
    return paginate(session, statement, page)


# Vouchers ---------------------------------------------------------------------------------------

def voucher_balances(session: Session, voucher_ids: Sequence[int]) -> dict[int, int]:
    """Remaining value per voucher, as the ledger says (one query)."""
    if not voucher_ids:
        return {}
    rows = session.execute(
        sa.select(LedgerAccount.voucher_id, sa.func.sum(LedgerEntry.amount_fen))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == AccountKind.VOUCHER, LedgerAccount.voucher_id.in_(voucher_ids))
        .group_by(LedgerAccount.voucher_id))
    balances = {voucher_id: 0 for voucher_id in voucher_ids}
    balances.update({voucher_id: int(total) for voucher_id, total in rows})
    return balances


@dataclass(frozen=True)
class Holding:
    voucher: Voucher
    balance_fen: int

    def expires_soon(self, now: datetime) -> bool:
        return self.voucher.is_usable(now) and self.voucher.expires_at - now <= timedelta(days=EXPIRY_WARNING_DAYS)


@service
def list_vouchers(session: Session, actor: Actor, page: PageRequest, program_id: int | None = None) -> Page[Holding]:
    """The wallet (a holder's vouchers) or, for an admin, their region's vouchers; with balances."""
    mark_checked()
    statement = sa.select(Voucher).where(visible_holdings(actor, Voucher)).order_by(Voucher.issued_at.desc(),
                                                                                    Voucher.id.desc())
    if program_id is not None:
        statement = statement.where(Voucher.program_id == program_id)
    vouchers = paginate(session, statement, page)
    balances = voucher_balances(session, [voucher.id for voucher in vouchers.items])
    return Page(items=[Holding(voucher, balances[voucher.id]) for voucher in vouchers.items], total=vouchers.total,
                request=page)


@dataclass(frozen=True)
class Movement:
    kind: TransactionKind
    amount_fen: int          # + into the voucher, − out of it
    balance_fen: int         # after the movement
    occurred_at: datetime
    redemption: Redemption | None


@dataclass(frozen=True)
class VoucherStatement:
    voucher: Voucher
    balance_fen: int
    movements: list[Movement]
    redemptions: list[Redemption]


def load_voucher(session: Session, code: str, *, lock: bool = False) -> Voucher:
    code = (code or "").strip().upper()
    if len(code) > CODE_LENGTH or has_forbidden_characters(code):
        raise NotFound()
    statement = sa.select(Voucher).where(Voucher.code == code)
    voucher = session.scalar(statement.with_for_update(of=Voucher) if lock else statement)
    if voucher is None:
        raise NotFound()
    return voucher


@service
def voucher_statement(session: Session, actor: Actor, code: str) -> VoucherStatement:
    """A voucher with every movement of its balance and every order it paid for."""
    voucher = load_voucher(session, code)
    authorize(actor, Action.VOUCHER_VIEW, voucher)
    rows = session.execute(
        sa.select(LedgerTransaction, LedgerEntry.amount_fen)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.kind == AccountKind.VOUCHER, LedgerAccount.voucher_id == voucher.id)
        .order_by(LedgerTransaction.id)).all()
    redemptions = list(session.scalars(sa.select(Redemption).where(Redemption.voucher_id == voucher.id)
                                       .order_by(Redemption.id)))
    by_id = {redemption.id: redemption for redemption in redemptions}
    balance, movements = 0, []
    for transaction, amount in rows:
        balance += int(amount)
        movements.append(Movement(transaction.kind, int(amount), balance, transaction.created_at,
                                  by_id.get(transaction.redemption_id) if transaction.redemption_id else None))
    return VoucherStatement(voucher, balance, movements, redemptions)


def _end_voucher(session: Session, voucher: Voucher, kind: TransactionKind, actor_id: int | None) -> int:
    """Return what is left on the voucher to the programme's budget; the amount returned."""
    balance_account = ledger.account(session, AccountKind.VOUCHER, voucher.program_id, voucher_id=voucher.id,
                                     lock=True)
    left = balance_account.balance_fen
    if left:
        budget = ledger.account(session, AccountKind.BUDGET, voucher.program_id)
        ledger.post(session, kind, [Leg(budget, left), Leg(balance_account, -left)], program_id=voucher.program_id,
                    actor_id=actor_id, voucher_id=voucher.id)
    voucher.status = VoucherStatus.REVOKED if kind is TransactionKind.REVOKE else VoucherStatus.EXPIRED
    voucher.ended_at, voucher.ended_by_id = utcnow(), actor_id
    return left


@service
def revoke_voucher(session: Session, actor: Actor, code: str, reason: str) -> Voucher:
    """Void a voucher (fraud, misuse); its unspent value goes back to the programme's budget."""
    text = reason_text(reason)
    ledger.begin_money_transaction(session)
    voucher = load_voucher(session, code, lock=True)
    authorize(actor, Action.VOUCHER_REVOKE, voucher)
    if voucher.status is not VoucherStatus.ACTIVE:
        raise Conflict(_l("This voucher is already %(status)s.", status=voucher.status.label), code="voucher_ended")
    returned = _end_voucher(session, voucher, TransactionKind.REVOKE, actor.id)
    voucher.revocation_reason = text
    record(session, "voucher.revoked", actor.id, voucher, code=voucher.code, returned_fen=returned, reason=text)
    _notify_members(session, voucher.organization_id, "voucher.revoked", voucher)
    return voucher


def expire_vouchers(session: Session, now: datetime | None = None, batch_size: int = 200) -> int:
    """The worker's job: end vouchers past their expiry and return what is left to the budget.

    Redemption refuses an expired voucher by its date whether or not this has run yet.
    """
    now = now or utcnow()
    expired = 0
    while True:
        with unit_of_work(session):  # one per batch
            ledger.begin_money_transaction(session)
            vouchers = session.scalars(
                sa.select(Voucher).where(Voucher.status == VoucherStatus.ACTIVE, Voucher.expires_at <= now)
                .order_by(Voucher.id).limit(batch_size).with_for_update(skip_locked=True, of=Voucher)).all()
            for voucher in vouchers:
                returned = _end_voucher(session, voucher, TransactionKind.EXPIRE, None)
                record(session, "voucher.expired", None, voucher, code=voucher.code, returned_fen=returned)
        expired += len(vouchers)
        if len(vouchers) < batch_size:
            return expired


def warn_of_expiry(session: Session, now: datetime | None = None) -> int:
    """Tell holders, once, that a voucher with value left expires within EXPIRY_WARNING_DAYS."""
    now = now or utcnow()
    with unit_of_work(session):
        ledger.begin_money_transaction(session)  # on SQLite: write what it reads (several workers may run)
        vouchers = session.scalars(
            sa.select(Voucher).where(Voucher.status == VoucherStatus.ACTIVE, Voucher.expiry_warned_at.is_(None),
                                     Voucher.expires_at > now,
                                     Voucher.expires_at <= now + timedelta(days=EXPIRY_WARNING_DAYS))).all()
        balances = voucher_balances(session, [voucher.id for voucher in vouchers])
        for voucher in vouchers:
            voucher.expiry_warned_at = now
            if balances[voucher.id]:
                _notify_members(session, voucher.organization_id, "voucher.expiring", voucher)
    return len(vouchers)


# Redemption (通兑) -------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderRequest:
    """A voucher-paid order as the provider records it."""

    voucher_code: str
    service_product_id: int | None
    fee_fen: int | None
    contract_reference: str

    def fingerprint(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


IDEMPOTENCY_KEY_MAX_LENGTH = 200
REDEMPTION_SCOPE = "redemption"


def _check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        raise ValidationFailed(_l("The Idempotency-Key must be 1 to 200 printable characters."),
                               code="bad_idempotency_key")
    return key


def _replayed(session: Session, actor: Actor, key: str, fingerprint: str) -> Redemption | None:
    """The first answer to a request with this key, or 409 if the key came with another body."""
    previous = session.scalar(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.actor_id == actor.id, IdempotencyRecord.scope == REDEMPTION_SCOPE,
        IdempotencyRecord.key == key))
    if previous is None:
        return None
    if previous.request_hash != fingerprint:
        raise Conflict(_l("This Idempotency-Key was already used for a different request."),
                       code="idempotency_key_reused")
    return session.get(Redemption, previous.redemption_id)


def _usable_voucher(session: Session, code: str, field_name: str = "voucher_code") -> Voucher:
    """The voucher of a code, locked, or the reason it cannot pay."""
    try:
        voucher = load_voucher(session, code, lock=True)
    except NotFound:
        raise ValidationFailed(fields={field_name: _l("No voucher has this code.")}) from None
    if voucher.status is VoucherStatus.REVOKED:
        raise Conflict(_l("This voucher has been revoked."), code="voucher_revoked")
    if voucher.status is VoucherStatus.EXPIRED or not voucher.is_usable(utcnow()):
        raise Conflict(_l("This voucher has expired."), code="voucher_expired")
    return voucher


def _accepting(program: VoucherProgram, provider: ProviderProfile) -> None:
    if provider.region_code not in program.accepting_regions:
        raise Conflict(_l("This programme's vouchers are not accepted in the provider's region."),
                       code="region_not_accepted")


def _cover(session: Session, voucher: Voucher, redemption: Redemption) -> LedgerAccount:
    """Work out what the voucher pays of an order: `min(balance, ratio × fee)`, the rest is the SME's
    co-payment. Returns the voucher's account, locked, for `_pay`."""
    balance_account = ledger.account(session, AccountKind.VOUCHER, voucher.program_id, voucher_id=voucher.id,
                                     lock=True)
    balance = balance_account.balance_fen
    if balance == 0:
        raise Conflict(_l("Nothing is left on this voucher."), code="voucher_exhausted")
    covered = min(balance, voucher.program.covered_share(redemption.fee_fen))
    if covered == 0:
        raise ValidationFailed(fields={"fee_fen": _l("The fee is too small for the voucher to cover any of it.")})
    redemption.covered_fen, redemption.copay_fen = covered, redemption.fee_fen - covered
    redemption.balance_after_fen = balance - covered
    redemption.status = RedemptionStatus.RECORDED
    session.flush()
    return balance_account


def _pay(session: Session, actor: Actor, redemption: Redemption, balance_account: LedgerAccount) -> None:
    """Move the covered amount from the voucher to what its programme owes the payee; commit next."""
    payable = ledger.account(session, AccountKind.PAYABLE, redemption.program_id, organization_id=redemption.payee_id)
    ledger.post(session, TransactionKind.REDEEM,
                [Leg(balance_account, -redemption.covered_fen), Leg(payable, redemption.covered_fen)],
                program_id=redemption.program_id, actor_id=actor.id, voucher_id=redemption.voucher_id,
                redemption_id=redemption.id)


def _actor_provider(session: Session, actor: Actor) -> ProviderProfile | None:
    return session.get(ProviderProfile, actor.organization_id) if actor.organization_id else None


@service
def record_redemption(session: Session, actor: Actor, order: OrderRequest,
                      idempotency_key: str | None = None) -> Redemption:
    """A provider records a voucher-paid order. With an Idempotency-Key, a retry of the same request
    answers the first redemption and changes nothing; the key with another body is a conflict."""
    key = _check_idempotency_key(idempotency_key)
    provider = _actor_provider(session, actor)
    authorize(actor, Action.REDEMPTION_RECORD, provider)
    assert provider is not None
    fingerprint = order.fingerprint()
    if key is not None and (first := _replayed(session, actor, key, fingerprint)) is not None:
        return first
    if provider.status is not ProviderStatus.ADMITTED:
        raise Conflict(_l("Only an admitted provider that is not suspended can take vouchers."),
                       code="provider_not_admitted")
    errors: dict[str, object] = {}
    fee = whole_number(errors, "fee_fen", order.fee_fen)
    required_text(errors, "contract_reference", order.contract_reference, REFERENCE_MAX_LENGTH)
    product = session.get(ServiceProduct, order.service_product_id) if order.service_product_id else None
    if product is None or product.provider_id != provider.organization_id or not product.is_active:
        errors["service_product_id"] = _l("Choose one of your published services.")
    elif "fee_fen" not in errors and fee > product.fee_fen:
        errors["fee_fen"] = _l("The fee is above the published fee of this service (%(fee)s).",
                               fee=format_fen(product.fee_fen))
    if errors:
        raise ValidationFailed(fields=errors)
    assert product is not None
    ledger.begin_money_transaction(session)
    if key is None:
        return _redeem(session, actor, provider, product, order, key, fingerprint)
    try:
        with savepoint(session):  # only a key can collide: an order without one needs no savepoint
            return _redeem(session, actor, provider, product, order, key, fingerprint)
    except IntegrityError:
        # A concurrent request with the same key committed first (its record's unique key): answer as it did.
        first = _replayed(session, actor, key, fingerprint)
        if first is None:
            raise
        return first


def _redeem(session: Session, actor: Actor, provider: ProviderProfile, product: ServiceProduct,
            order: OrderRequest, key: str | None, fingerprint: str) -> Redemption:
    voucher = _usable_voucher(session, order.voucher_code)
    # Asked again under the voucher's lock: a retry that waited for the first request sees its answer.
    if key is not None and (first := _replayed(session, actor, key, fingerprint)) is not None:
        return first
    program = voucher.program
    if program.redemption_mode is not RedemptionMode.DIRECT:
        raise Conflict(_l("This programme's vouchers are not redeemed at the provider: the holder claims "
                          "reimbursement instead."), code="wrong_redemption_mode")
    _accepting(program, provider)
    if product.category.value not in program.eligible_categories:
        raise Conflict(_l("This programme does not pay for that kind of service."), code="category_not_eligible")
    redemption = Redemption(voucher_id=voucher.id, program_id=program.id, provider_id=provider.organization_id,
                            payee_id=provider.organization_id, service_product_id=product.id,
                            service_description=product.name, fee_fen=order.fee_fen, covered_fen=0,
                            copay_fen=order.fee_fen, contract_reference=order.contract_reference.strip(),
                            status=RedemptionStatus.RECORDED, recorded_by_id=actor.id)
    session.add(redemption)
    balance_account = _cover(session, voucher, redemption)
    if key is not None:
        session.add(IdempotencyRecord(actor_id=actor.id, scope=REDEMPTION_SCOPE, key=key, request_hash=fingerprint,
                                      redemption_id=redemption.id))
    record(session, "voucher.redeemed", actor.id, redemption, code=voucher.code, fee_fen=redemption.fee_fen,
           covered_fen=redemption.covered_fen)
    _pay(session, actor, redemption, balance_account)
    return redemption


# Reimbursement claims (通用) --------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimRequest:
    voucher_code: str
    provider_id: int | None
    service_description: str
    fee_fen: int | None
    contract_reference: str


@service
def submit_claim(session: Session, actor: Actor, claim: ClaimRequest, files: Sequence[Upload]) -> Redemption:
    """The holder paid a provider in full and claims the voucher's share, with contract and receipts."""
    voucher = load_voucher(session, claim.voucher_code)
    authorize(actor, Action.CLAIM_CREATE, voucher)
    if voucher.program.redemption_mode is not RedemptionMode.REIMBURSEMENT:
        raise Conflict(_l("This programme's vouchers are redeemed at the provider, not reimbursed."),
                       code="wrong_redemption_mode")
    if not voucher.is_usable(utcnow()):
        raise Conflict(_l("This voucher can no longer be used."), code="voucher_expired")
    errors: dict[str, object] = {}
    fee = whole_number(errors, "fee_fen", claim.fee_fen)
    description = required_text(errors, "service_description", claim.service_description, NAME_MAX_LENGTH)
    reference = required_text(errors, "contract_reference", claim.contract_reference, REFERENCE_MAX_LENGTH)
    provider = session.get(ProviderProfile, claim.provider_id) if claim.provider_id else None
    if provider is None or provider.status is not ProviderStatus.ADMITTED:
        errors["provider_id"] = _l("Choose the admitted provider that did the work.")
    if not files:
        errors["files"] = _l("Attach the contract and the receipt.")
    elif len(files) > MAX_CLAIM_FILES:
        errors["files"] = _l("At most %(max)s files.", max=MAX_CLAIM_FILES)
    if errors:
        raise ValidationFailed(fields=errors)
    assert provider is not None
    _accepting(voucher.program, provider)
    stored: list[StoredFile] = []
    for upload in files:
        stored.append(store_upload(upload, field_name="files"))
        after_rollback(session, stored[-1].discard)  # no orphan files when the claim is not saved
    redemption = Redemption(voucher_id=voucher.id, program_id=voucher.program_id,
                            provider_id=provider.organization_id, payee_id=voucher.organization_id,
                            service_description=description, fee_fen=fee, covered_fen=0, copay_fen=fee,
                            contract_reference=reference, status=RedemptionStatus.CLAIMED, recorded_by_id=actor.id)
    session.add(redemption)
    session.flush()
    session.add_all([ClaimAttachment(redemption_id=redemption.id, original_name=file.original_name,
                                     stored_name=file.stored_name, content_type=file.content_type,
                                     size_bytes=file.size_bytes) for file in stored])
    record(session, "voucher.claimed", actor.id, redemption, code=voucher.code, fee_fen=fee)
    return redemption


def _load_redemption(session: Session, redemption_id: int, *, lock: bool = False) -> Redemption:
    statement = sa.select(Redemption).where(Redemption.id == redemption_id)
    redemption = session.scalar(statement.with_for_update(of=Redemption) if lock else statement)
    if redemption is None:
        raise NotFound()
    return redemption


def _claim_to_decide(session: Session, actor: Actor, redemption_id: int) -> Redemption:
    redemption = _load_redemption(session, redemption_id, lock=True)
    authorize(actor, Action.CLAIM_REVIEW, redemption)
    if redemption.status is not RedemptionStatus.CLAIMED:
        raise Conflict(_l("This claim has already been decided."), code="claim_decided")
    return redemption


@service
def approve_claim(session: Session, actor: Actor, redemption_id: int) -> Redemption:
    ledger.begin_money_transaction(session)
    redemption = _claim_to_decide(session, actor, redemption_id)
    voucher = _usable_voucher(session, redemption.voucher.code)
    balance_account = _cover(session, voucher, redemption)
    redemption.decided_by_id, redemption.decided_at = actor.id, utcnow()
    record(session, "voucher.claim_approved", actor.id, redemption, covered_fen=redemption.covered_fen)
    _notify_members(session, redemption.payee_id, "voucher.claim_approved", redemption)
    _pay(session, actor, redemption, balance_account)
    return redemption


@service
def reject_claim(session: Session, actor: Actor, redemption_id: int, reason: str) -> Redemption:
    text = reason_text(reason)
    redemption = _claim_to_decide(session, actor, redemption_id)
    redemption.status, redemption.rejection_reason = RedemptionStatus.REJECTED, text
    redemption.decided_by_id, redemption.decided_at = actor.id, utcnow()
    record(session, "voucher.claim_rejected", actor.id, redemption, reason=text)
    _notify_members(session, redemption.payee_id, "voucher.claim_rejected", redemption)
    return redemption


@service
def get_redemption(session: Session, actor: Actor, redemption_id: int) -> Redemption:
    redemption = _load_redemption(session, redemption_id)
    authorize(actor, Action.REDEMPTION_VIEW, redemption)
    return redemption


@service
def claim_attachment(session: Session, actor: Actor, redemption_id: int, attachment_id: int) -> ClaimAttachment:
    redemption = _load_redemption(session, redemption_id)
    authorize(actor, Action.REDEMPTION_VIEW, redemption)
    attachment = session.get(ClaimAttachment, attachment_id)
    if attachment is None or attachment.redemption_id != redemption.id:
        raise NotFound()
    return attachment


@dataclass(frozen=True)
class RedemptionFilters(ListFilters):
    program: int | None = None
    status: str | None = None
    unsettled: bool = False


@service
def list_redemptions(session: Session, actor: Actor, filters: RedemptionFilters,
                     page: PageRequest) -> Page[Redemption]:
    """Orders the caller may see: their own (provider, payee, holder); for an admin, those paid by
    their region's programmes and those served by their region's providers."""
    mark_checked()
    statement = sa.select(Redemption).where(visible_redemptions(actor)).order_by(Redemption.id.desc())
    if filters.program is not None:
        statement = statement.where(Redemption.program_id == filters.program)
    if filters.status in RedemptionStatus.__members__.values():
        statement = statement.where(Redemption.status == filters.status)
    if filters.unsettled:
        statement = statement.where(Redemption.status == RedemptionStatus.RECORDED, Redemption.settlement_id.is_(None))
    return paginate(session, statement, page)


@service
def claim_queue(session: Session, actor: Actor, page: PageRequest) -> Page[Redemption]:
    """Reimbursement claims on the admin's region's programmes, waiting for a decision, oldest first."""
    authorize(actor, Action.PROVIDER_LIST_REVIEW_QUEUE)  # any regional admin; the rows are their region's
    statement = (sa.select(Redemption).join(VoucherProgram, VoucherProgram.id == Redemption.program_id)
                 .where(VoucherProgram.region_code == actor.region_code,
                        Redemption.status == RedemptionStatus.CLAIMED)
                 .options(selectinload(Redemption.attachments)).order_by(Redemption.id))
    return paginate(session, statement, page)


# Settlement (兑付) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unsettled:
    program: VoucherProgram
    orders: int
    amount_fen: int


@service
def unsettled_summary(session: Session, actor: Actor) -> list[Unsettled]:
    """Per programme, what it owes the caller's organisation that has not been asked for yet."""
    mark_checked()  # the caller's own organisation only
    if actor.organization_id is None:
        return []
    rows = session.execute(
        sa.select(Redemption.program_id, sa.func.count(), sa.func.sum(Redemption.covered_fen))
        .where(Redemption.payee_id == actor.organization_id, Redemption.status == RedemptionStatus.RECORDED,
               Redemption.settlement_id.is_(None))
        .group_by(Redemption.program_id).order_by(Redemption.program_id)).all()
    programs = {program.id: program for program in session.scalars(
        sa.select(VoucherProgram).where(VoucherProgram.id.in_([row[0] for row in rows])))}
    return [Unsettled(programs[program_id], int(count), int(total)) for program_id, count, total in rows]


@service
def request_settlement(session: Session, actor: Actor, program_id: int) -> Settlement:
    """Ask a programme to pay everything it owes the caller's organisation that is not yet asked for."""
    payee = session.get(Organization, actor.organization_id) if actor.organization_id else None
    authorize(actor, Action.SETTLEMENT_REQUEST, payee)
    assert payee is not None
    ledger.begin_money_transaction(session)
    program = load_program(session, program_id)
    authorize(actor, Action.PROGRAM_VIEW, program)
    redemptions = session.scalars(
        sa.select(Redemption).where(Redemption.program_id == program.id, Redemption.payee_id == payee.id,
                                    Redemption.status == RedemptionStatus.RECORDED, Redemption.settlement_id.is_(None))
        .order_by(Redemption.id).with_for_update(of=Redemption)).all()
    if not redemptions:
        raise Conflict(_l("Nothing is waiting to be settled from this programme."), code="nothing_to_settle")
    settlement = Settlement(program_id=program.id, payee_id=payee.id, requested_by_id=actor.id,
                            amount_fen=sum(redemption.covered_fen for redemption in redemptions))
    session.add(settlement)
    session.flush()
    for redemption in redemptions:
        redemption.settlement_id = settlement.id
    record(session, "settlement.requested", actor.id, settlement, amount_fen=settlement.amount_fen)
    return settlement


def _settlement_to_decide(session: Session, actor: Actor, settlement_id: int) -> Settlement:
    settlement = session.scalar(sa.select(Settlement).where(Settlement.id == settlement_id)
                                .with_for_update(of=Settlement))
    if settlement is None:
        raise NotFound()
    authorize(actor, Action.SETTLEMENT_REVIEW, settlement)
    if settlement.status is not SettlementStatus.REQUESTED:
        raise Conflict(_l("This settlement has already been decided."), code="settlement_decided")
    return settlement


@service
def approve_settlement(session: Session, actor: Actor, settlement_id: int, payment_reference: str = "") -> Settlement:
    """The issuing region's admin approves: the payable moves to paid out."""
    ledger.begin_money_transaction(session)
    settlement = _settlement_to_decide(session, actor, settlement_id)
    errors: dict[str, object] = {}
    reference = optional_text(errors, "payment_reference", payment_reference, REFERENCE_MAX_LENGTH)
    if errors:
        raise ValidationFailed(fields=errors)
    payable = ledger.account(session, AccountKind.PAYABLE, settlement.program_id, organization_id=settlement.payee_id)
    payout = ledger.account(session, AccountKind.PAYOUT, settlement.program_id, organization_id=settlement.payee_id)
    ledger.post(session, TransactionKind.SETTLE, [Leg(payable, -settlement.amount_fen), Leg(payout, settlement.amount_fen)],
                program_id=settlement.program_id, actor_id=actor.id, settlement_id=settlement.id)
    settlement.status, settlement.decided_by_id, settlement.decided_at = SettlementStatus.PAID, actor.id, utcnow()
    settlement.payment_reference = reference
    record(session, "settlement.paid", actor.id, settlement, amount_fen=settlement.amount_fen, reference=reference)
    _notify_members(session, settlement.payee_id, "settlement.paid", settlement)
    return settlement


@service
def reject_settlement(session: Session, actor: Actor, settlement_id: int, reason: str) -> Settlement:
    """Refuse a request; its orders can be asked for again (corrected) in a new one."""
    text = reason_text(reason)
    settlement = _settlement_to_decide(session, actor, settlement_id)
    for redemption in settlement.redemptions:
        redemption.settlement_id = None
    settlement.status, settlement.decided_by_id, settlement.decided_at = SettlementStatus.REJECTED, actor.id, utcnow()
    settlement.rejection_reason = text
    record(session, "settlement.rejected", actor.id, settlement, reason=text)
    _notify_members(session, settlement.payee_id, "settlement.rejected", settlement)
    return settlement


@service
def get_settlement(session: Session, actor: Actor, settlement_id: int) -> Settlement:
    settlement = session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound()
    authorize(actor, Action.SETTLEMENT_VIEW, settlement)
    return settlement


@service
def list_settlements(session: Session, actor: Actor, filters: QueueFilters, page: PageRequest) -> Page[Settlement]:
    mark_checked()
    statement = sa.select(Settlement).where(visible_settlements(actor)).order_by(Settlement.created_at, Settlement.id)
    if filters.program is not None:
        statement = statement.where(Settlement.program_id == filters.program)
    if filters.status in SettlementStatus.__members__.values():
        statement = statement.where(Settlement.status == filters.status)
    return paginate(session, statement, page)


# Notifications ---------------------------------------------------------------------------------

def _notify_members(session: Session, organization_id: int, event: str, subject_object: object) -> None:
    from exchange.vouchers.messages import notify_organization

    notify_organization(session, organization_id, event, subject_object)
