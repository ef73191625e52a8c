"""Test data, built through the services so that it passes the same rules as real data."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.accounts.models import MEMBER_ROLE_BY_KIND, ApiToken, Role, User, Visitor
from exchange.accounts.services import create_api_token, create_user, system_actor
from exchange.orgs import credit_code
from exchange.orgs.models import Organization
from exchange.orgs.services import OrganizationApplication, approve_organization, register_organization, reject_organization
from exchange.taxonomy.models import District

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def unique_number() -> int:
    return next(_sequence)


def valid_credit_code(number: int | None = None, division: str = "110108") -> str:
    body = f"91{division}{(number if number is not None else unique_number()):09d}"
    return body + credit_code.check_character(body)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{unique_number()}@example.cn"


def district_of(session: Session, region: str) -> District:
    return session.scalars(sa.select(District).where(District.region_code == region).order_by(District.position)).first()


def application(session: Session, *, kind: str = "institute", region: str = "BJ", email: str | None = None,
                name: str | None = None, password: str = PASSWORD) -> OrganizationApplication:
    number = unique_number()
    return OrganizationApplication(
        name=name or f"测试机构{number}", credit_code=valid_credit_code(number), kind=kind, region=region,
        district_id=district_of(session, region).id, member_email=email or f"owner{number}@example.cn",
        member_name=f"成员{number}", password=password, description="用于测试的机构。")


def admin(session: Session, region: str = "BJ", email: str | None = None) -> User:
    return create_user(session, system_actor(), email=email or unique_email(f"admin-{region.lower()}-"),
                       display_name=f"{region} 审核员", password=PASSWORD, role=Role.REGIONAL_ADMIN,
                       region_code=region)


def platform_admin(session: Session) -> User:
    return create_user(session, system_actor(), email=unique_email("platform-"), display_name="平台运营",
                       password=PASSWORD, role=Role.PLATFORM_ADMIN)


def region_admin(session: Session, region: str) -> User:
    existing = session.scalar(sa.select(User).where(User.role == Role.REGIONAL_ADMIN, User.region_code == region)
                              .order_by(User.id))
    return existing or admin(session, region)


@dataclass
class Registered:
    organization: Organization
    owner: User


def organization(session: Session, *, kind: str = "institute", region: str = "BJ", status: str = "approved",
                 email: str | None = None) -> Registered:
    registered = register_organization(session, Visitor(), application(session, kind=kind, region=region, email=email))
    assert registered is not None
    if status == "approved":
        approve_organization(session, region_admin(session, region), registered.id)
    elif status == "rejected":
        reject_organization(session, region_admin(session, region), registered.id, "材料不全，请补充营业执照信息。")
    owner = session.scalar(sa.select(User).where(User.organization_id == registered.id))
    return Registered(registered, owner)


def member(session: Session, org: Organization, email: str | None = None) -> User:
    return create_user(session, system_actor(), email=email or unique_email("member-"), display_name="同事",
                       password=PASSWORD, role=MEMBER_ROLE_BY_KIND[org.kind], organization=org)


def api_token(session: Session, user: User) -> str:
    return create_api_token(session, user, "test").secret


def token_row(session: Session, secret_prefix: str) -> ApiToken | None:
    return session.scalar(sa.select(ApiToken).where(ApiToken.prefix == secret_prefix[:8]))


# Entries of the libraries ----------------------------------------------------------------

def achievement_data(session: Session, org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": f"固态锂电池硫化物电解质制备技术{unique_number()}", "district": org.district_id,
        "summary": "一种高离子电导率硫化物固态电解质的低成本制备工艺，室温电导率达到 12 mS/cm。",
        "field": "nev.power-battery", "keywords": ["固态电池", "电解质"], "maturity": "intermediate", "trl": 6,
        "ip_type": "invention", "patents": ["ZL202110123456.7"], "ip_status": "granted",
        "modes": ["license", "joint_development"], "price_fen": 50_000_000, "application_scenarios": "动力电池"}
    return {**data, **changes}


def need_data(session: Session, org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": f"电池包热失控预警算法需求{unique_number()}", "district": org.district_id,
        "summary": "需要一套基于多传感器融合的热失控预警算法，提前 5 分钟预警。", "field": "nev.power-battery",
        "keywords": ["热失控", "BMS"], "budget_min_fen": 10_000_000, "budget_max_fen": 60_000_000,
        "deadline": "2030-06-30", "modes": ["joint_development"], "required_maturity": "pilot"}
    return {**data, **changes}


def expert_data(session: Session, org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": f"王立新{unique_number()}", "district": org.district_id, "field": "materials.wide-bandgap",
        "summary": "长期从事碳化硅功率器件与外延材料研究，主持国家重点研发计划项目 3 项。",
        "keywords": ["SiC", "功率器件"], "title_rank": "senior", "position": "研究员",
        "other_fields": ["ngit.ic-design"], "available_for_consulting": True, "available_for_review": True,
        "phone": "13912345678", "email": "wang.lixin@example.edu.cn", "id_number": "11010519491231002X"}
    return {**data, **changes}


def talent_data(session: Session, org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": f"动力电池 BMS 算法工程师{unique_number()}", "district": org.district_id, "field": "nev.power-battery",
        "summary": "8 年车规级 BMS 开发经验，熟悉 SOC/SOH 估算与功能安全。", "keywords": ["BMS"],
        "person_name": "李静", "is_team": False, "skills": ["BMS", "SOC 估算"], "education": "master",
        "experience_years": 8, "wanted_region": "TJ", "wanted_role": "算法负责人",
        "phone": "13812345678", "email": "li.jing@example.cn"}
    return {**data, **changes}


def project_data(session: Session, org: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": f"京津冀氢能重卡示范应用{unique_number()}", "district": org.district_id, "field": "nev.fuel-cell",
        "summary": "联合三地企业与院所开展燃料电池重卡示范运营。", "keywords": ["氢能", "重卡"],
        "programme": "京津冀基础研究合作专项", "budget_fen": 3_000_000_000, "start_date": "2024-01-01",
        "end_date": "2026-12-31", "project_status": "ongoing", "partners": [], "outcomes": []}
    return {**data, **changes}


ENTRY_OWNER_KIND = {"achievement": "institute", "need": "enterprise", "expert": "institute",
                    "talent": "sme", "project": "institute"}


def entry(session: Session, kind: str = "achievement", *, region: str = "BJ", status: str = "approved",
          owner: User | None = None, **changes: object):  # type: ignore[no-untyped-def]
    """An entry brought to `status` through the lifecycle by its owner and its region's admin."""
    from exchange.catalog.models import EntryKind
    from exchange.catalog.services import change_status, create_entry
    from exchange.demo.entries import PATHS

    entry_kind = EntryKind(kind)
    if owner is None:
        owner = organization(session, kind=ENTRY_OWNER_KIND[kind], region=region).owner
    org = session.get(Organization, owner.organization_id)
    builders = {EntryKind.ACHIEVEMENT: achievement_data, EntryKind.NEED: need_data, EntryKind.EXPERT: expert_data,
                EntryKind.TALENT: talent_data, EntryKind.PROJECT: project_data}
    created = create_entry(session, owner, entry_kind, builders[entry_kind](session, org, **changes))
    for action, who in PATHS[status]:
        actor = owner if who == "owner" else region_admin(session, org.region_code)
        change_status(session, actor, entry_kind, created.id, action, "资料不完整，请补充检测报告。")
    return created


# Innovation vouchers ----------------------------------------------------------------------

def program_rules(**changes: object):  # type: ignore[no-untyped-def]
    """Beijing-2015-like rules: units of 5,000 yuan, 50 % of a fee, 200,000 yuan per organisation."""
    from exchange.vouchers.services import ProgramRules

    values: dict[str, object] = dict(
        name=f"创新券计划{unique_number()}", year=2026, budget_fen=100_000_000, unit_fen=500_000,
        max_face_fen=20_000_000, coverage_percent=50, cap_per_org_fen=20_000_000, validity_days=365,
        redemption_mode="direct", eligible_categories=["testing", "joint_rnd", "design"],
        accepting_regions=["BJ", "TJ", "HE"], description="面向小微企业的科技创新券。")
    return ProgramRules(**{**values, **changes})  # type: ignore[arg-type]


def program(session: Session, region: str = "BJ", *, status: str = "open", **changes: object):  # type: ignore[no-untyped-def]
    from exchange.vouchers.services import close_program, create_program, open_program

    admin_user = region_admin(session, region)
    created = create_program(session, admin_user, program_rules(**changes))
    if status in ("open", "closed"):
        open_program(session, admin_user, created.id)
    if status == "closed":
        close_program(session, admin_user, created.id)
    return created


def provider(session: Session, region: str = "BJ", *, status: str = "admitted", category: str = "testing_centre",
             products: tuple[tuple[str, str, str], ...] = (("材料成分检测", "testing", "20000"),),
             owner: User | None = None) -> Registered:
    """A provider organisation brought to `status` (applied, in_notice, admitted, suspended) with
    services (name, category, fee in yuan): a new one, or the approved provider organisation of `owner`."""
    from exchange.vouchers.money import parse_yuan
    from exchange.vouchers.providers import (
        ProductChanges,
        ProviderApplication,
        add_product,
        admit_provider,
        apply_as_provider,
        start_notice,
        suspend_provider,
    )

    registered = (organization(session, kind="provider", region=region) if owner is None
                  else Registered(session.get(Organization, owner.organization_id), owner))
    owner = registered.owner
    apply_as_provider(session, owner, ProviderApplication(category,
                                                          "CMA 资质认定证书，CNAS 实验室认可。"))
    for name, service_category, fee in products:
        add_product(session, owner, owner.organization_id, ProductChanges(name, service_category, parse_yuan(fee)))
    admin_user = region_admin(session, registered.organization.region_code)
    if status != "applied":
        profile = start_notice(session, admin_user, owner.organization_id)
        if status != "in_notice":
            admit_provider(session, admin_user, owner.organization_id, now=profile.notice_ends_at)
            if status == "suspended":
                suspend_provider(session, admin_user, owner.organization_id, "收费高于公示价格。")
    return registered


def voucher(session: Session, sme: User, program_id: int, amount_fen: int = 5_000_000, *,
            category: str = "testing"):  # type: ignore[no-untyped-def]
    """A voucher issued to the SME `sme` belongs to: applied for and approved by the programme's admin."""
    from exchange.vouchers.models import VoucherProgram
    from exchange.vouchers.services import ApplicationRequest, apply_for_voucher, approve_application

    application = apply_for_voucher(session, sme, ApplicationRequest(
        program_id=program_id, service_category=category, planned_service="材料成分检测与失效分析",
        amount_fen=amount_fen, justification="新产品研发需要第三方检测。"))
    program_region = session.get(VoucherProgram, program_id).region_code
    return approve_application(session, region_admin(session, program_region), application.id)


def product_of(session: Session, provider_org_id: int):  # type: ignore[no-untyped-def]
    from exchange.vouchers.models import ServiceProduct

    return session.scalars(sa.select(ServiceProduct).where(ServiceProduct.provider_id == provider_org_id)
                           .order_by(ServiceProduct.id)).first()


# Files ------------------------------------------------------------------------------------

def zip_declaring(content: bytes, member: str, unpacked_size: int) -> bytes:
    """The archive with the uncompressed size its directory declares for `member` set to `unpacked_size`,
    as a zip bomb declares it (deflating a real gigabyte would only slow the test down)."""
    data = bytearray(content)
    record = data.index(b"PK\x01\x02")  # the first central directory record
    while True:
        name_length = int.from_bytes(data[record + 28:record + 30], "little")
        if data[record + 46:record + 46 + name_length] == member.encode():
            data[record + 24:record + 28] = unpacked_size.to_bytes(4, "little")
            return bytes(data)
        record = data.index(b"PK\x01\x02", record + 4)
