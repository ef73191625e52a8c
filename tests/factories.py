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
