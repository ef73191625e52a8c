"""What the voucher pages need besides the use cases of services.py and providers.py: the checks
behind a form shown before it is sent, the review queues, the provider's console and the ledger export.

Each function asks the policy itself (the checks of a service it calls count for that service only).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from exchange.errors import Conflict, NotFound
from exchange.orgs.models import Organization
from exchange.pagination import Page, PageRequest
from exchange.policy import Action, Actor, authorize
from exchange.unit_of_work import service
from exchange.vouchers import providers, services
from exchange.vouchers.models import (
    ApplicationStatus,
    ProgramStatus,
    ProviderProfile,
    ProviderStatus,
    Redemption,
    RedemptionMode,
    ServiceProduct,
    Settlement,
    SettlementStatus,
    Voucher,
    VoucherApplication,
    VoucherProgram,
)


def admitted_providers(session: Session, regions: Sequence[str]) -> list[ProviderProfile]:
    """Admitted providers of these regions, by region and name: the choices of a provider field."""
    return list(session.scalars(
        sa.select(ProviderProfile).join(ProviderProfile.organization)
        .where(ProviderProfile.status == ProviderStatus.ADMITTED, Organization.region_code.in_(list(regions)))
        .order_by(Organization.region_code, Organization.name)))


# Programmes ---------------------------------------------------------------------------------------

@service
def program_creation(session: Session, actor: Actor) -> None:
    """Only a regional admin sees the form of a new programme."""
    authorize(actor, Action.PROGRAM_CREATE)


@dataclass(frozen=True)
class ApplicationContext:
    program: VoucherProgram
    providers: list[ProviderProfile]


@service
def application_form(session: Session, actor: Actor, program_id: int) -> ApplicationContext:
    """The programme an SME applies to, with the admitted providers that accept its vouchers."""
    program = services.load_program(session, program_id)
    authorize(actor, Action.PROGRAM_VIEW, program)
    organization = session.get(Organization, actor.organization_id) if actor.organization_id else None
    authorize(actor, Action.APPLICATION_CREATE, (organization, program))
    if program.status is not ProgramStatus.OPEN:
        raise Conflict(_l("This programme is not open for applications."), code="program_not_open")
    return ApplicationContext(program, admitted_providers(session, program.accepting_regions))


# Review queues ------------------------------------------------------------------------------------

@service
def application_queue(session: Session, actor: Actor, page: PageRequest) -> Page[VoucherApplication]:
    """Applications to the admin's region's programmes waiting for a decision, oldest first."""
    authorize(actor, Action.PROVIDER_LIST_REVIEW_QUEUE)  # any regional admin; the rows are their region's
    return services.list_applications(session, actor, services.QueueFilters(status=ApplicationStatus.SUBMITTED.value),
                                      page)


@service
def settlement_queue(session: Session, actor: Actor, page: PageRequest) -> Page[Settlement]:
    """Settlement requests on the admin's region's programmes, oldest first."""
    authorize(actor, Action.PROVIDER_LIST_REVIEW_QUEUE)
    return services.list_settlements(session, actor, services.QueueFilters(status=SettlementStatus.REQUESTED.value),
                                     page)


# Claims -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimContext:
    voucher: Voucher
    providers: list[ProviderProfile]


@service
def claim_form(session: Session, actor: Actor, code: str) -> ClaimContext:
    """The holder's voucher of a reimbursement programme, with the providers whose work it pays."""
    voucher = services.load_voucher(session, code)
    authorize(actor, Action.CLAIM_CREATE, voucher)
    if voucher.program.redemption_mode is not RedemptionMode.REIMBURSEMENT:
        raise Conflict(_l("This programme's vouchers are redeemed at the provider, not reimbursed."),
                       code="wrong_redemption_mode")
    return ClaimContext(voucher, admitted_providers(session, voucher.program.accepting_regions))


# The provider's console ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ProviderConsole:
    organization: Organization
    provider: ProviderProfile | None
    redemptions: Page[Redemption]
    unsettled: list[services.Unsettled]
    settlements: Page[Settlement]


@service
def provider_console(session: Session, actor: Actor, page: PageRequest) -> ProviderConsole:
    """A provider organisation's admission, services, voucher-paid orders and settlements."""
    organization = session.get(Organization, actor.organization_id) if actor.organization_id else None
    provider = session.scalar(sa.select(ProviderProfile).where(ProviderProfile.organization_id == actor.organization_id)
                              .options(selectinload(ProviderProfile.products))) if organization else None
    if provider is None:
        authorize(actor, Action.PROVIDER_APPLY, organization)
    else:
        authorize(actor, Action.PROVIDER_MANAGE, provider)
    assert organization is not None
    return ProviderConsole(
        organization=organization, provider=provider,
        redemptions=services.list_redemptions(session, actor, services.RedemptionFilters(), page),
        unsettled=services.unsettled_summary(session, actor),
        settlements=services.list_settlements(session, actor, services.QueueFilters(), PageRequest(per_page=10)))


@service
def provider_application(session: Session, actor: Actor) -> ProviderProfile | None:
    """Whether the actor's organisation may apply; its profile if it already has."""
    organization = session.get(Organization, actor.organization_id) if actor.organization_id else None
    authorize(actor, Action.PROVIDER_APPLY, organization)
    return providers.own_provider(session, actor)


@service
def product_for_edit(session: Session, actor: Actor, product_id: int) -> ServiceProduct:
    product = session.get(ServiceProduct, product_id)
    if product is None:
        raise NotFound()
    authorize(actor, Action.PROVIDER_MANAGE, product.provider)
    return product


# The ledger export --------------------------------------------------------------------------------

LEDGER_HEADER = (_l("Transaction"), _l("Time (UTC)"), _l("Movement"), _l("Account"), _l("Kind of account"),
                 _l("Amount (yuan)"), _l("Voucher"), _l("Order"), _l("Settlement"))


def ledger_table(session: Session, actor: Actor, program_id: int) -> tuple[list[str], Iterator[list[Any]]]:
    """Every entry of a programme's books as rows of the export, amounts in yuan (asks the policy
    through `services.ledger_rows` before anything is read)."""
    entries = services.ledger_rows(session, actor, program_id)
    codes = dict(session.execute(sa.select(Voucher.id, Voucher.code).where(Voucher.program_id == program_id)).all())

    def rows() -> Iterator[list[Any]]:
        for transaction, entry in entries:
            yield [transaction.id, transaction.created_at.strftime("%Y-%m-%d %H:%M:%S"), transaction.kind.label,
                   entry.account.key, entry.account.kind.label, Decimal(entry.amount_fen).scaleb(-2),
                   codes.get(transaction.voucher_id, ""), transaction.redemption_id or "",
                   transaction.settlement_id or ""]

    return [str(name) for name in LEDGER_HEADER], rows()
