"""Demo vouchers from seed/demo/vouchers.json: providers with services, one programme per region (two in
Hebei), vouchers with cross-region orders, waiting applications and settlements — all through the services."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.accounts.models import Role, User
from exchange.orgs.models import Organization
from exchange.vouchers import providers as provider_services
from exchange.vouchers import services
from exchange.vouchers.models import ProviderStatus, ServiceProduct, VoucherProgram
from exchange.vouchers.money import parse_yuan


def load_demo_vouchers(session: Session, seed_dir: Path) -> int:
    """Load once: nothing is loaded where a demo programme already exists. Returns vouchers issued."""
    data = json.loads((seed_dir / "demo" / "vouchers.json").read_text(encoding="utf-8"))
    names = [program["name"] for program in data["programs"]]
    if session.scalar(sa.select(VoucherProgram.id).where(VoucherProgram.name.in_(names))):
        return 0
    for item in data["providers"]:
        _load_provider(session, item)
    programs = {item["key"]: _load_program(session, item) for item in data["programs"]}
    issued = 0
    for item in data["vouchers"]:
        voucher = services.approve_application(session, _admin(session, programs[item["program"]].region_code),
                                               _apply(session, programs[item["program"]], item).id)
        issued += 1
        for order in item["orders"]:
            provider = _owner(session, order["provider"])
            product = session.scalar(sa.select(ServiceProduct).where(
                ServiceProduct.provider_id == provider.organization_id, ServiceProduct.name == order["product"]))
            services.record_redemption(session, provider, services.OrderRequest(
                voucher.code, product.id, parse_yuan(order["fee_yuan"]), order["contract"]))
    for item in data["applications"]:
        _apply(session, programs[item["program"]], item)
    for item in data["settlements"]:
        program = programs[item["program"]]
        settlement = services.request_settlement(session, _owner(session, item["provider"]), program.id)
        if item["approve"]:
            services.approve_settlement(session, _admin(session, program.region_code), settlement.id,
                                        item["reference"])
    return issued


def _owner(session: Session, credit_code: str) -> User:
    return session.scalars(sa.select(User).join(Organization, Organization.id == User.organization_id)
                           .where(Organization.credit_code == credit_code).order_by(User.id)).first()


def _admin(session: Session, region: str) -> User:
    return session.scalar(sa.select(User).where(User.role == Role.REGIONAL_ADMIN, User.region_code == region)
                          .order_by(User.id))


def _load_provider(session: Session, item: dict[str, Any]) -> None:
    owner = _owner(session, item["credit_code"])
    provider_services.apply_as_provider(session, owner, provider_services.ProviderApplication(
        item["category"], item["qualifications"]))
    for product in item["products"]:
        provider_services.add_product(session, owner, owner.organization_id, provider_services.ProductChanges(
            product["name"], product["category"], parse_yuan(product["fee_yuan"]), product["description"]))
    status = ProviderStatus(item["status"])
    if status is ProviderStatus.APPLIED:
        return
    admin = _admin(session, owner.organization.region_code)
    profile = provider_services.start_notice(session, admin, owner.organization_id)
    if status is ProviderStatus.ADMITTED:  # as if its notice had run its seven days without objection
        provider_services.admit_provider(session, admin, owner.organization_id, now=profile.notice_ends_at)


def _load_program(session: Session, item: dict[str, Any]) -> VoucherProgram:
    admin = _admin(session, item["region"])
    program = services.create_program(session, admin, services.ProgramRules(
        name=item["name"], year=item["year"], budget_fen=parse_yuan(item["budget_yuan"]),
        unit_fen=parse_yuan(item["unit_yuan"]), max_face_fen=parse_yuan(item["max_face_yuan"]),
        coverage_percent=item["coverage_percent"], cap_per_org_fen=parse_yuan(item["cap_yuan"]),
        validity_days=item["validity_days"], redemption_mode=item["redemption_mode"],
        eligible_categories=item["categories"], accepting_regions=item["accepting_regions"],
        description=item["description"]))
    return services.open_program(session, admin, program.id)


def _apply(session: Session, program: VoucherProgram, item: dict[str, Any]) -> Any:
    return services.apply_for_voucher(session, _owner(session, item["sme"]), services.ApplicationRequest(
        program_id=program.id, service_category=item["category"], planned_service=item["planned_service"],
        amount_fen=parse_yuan(item["amount_yuan"]), justification=item["justification"]))
