"""Demo data from seed/demo/, loaded through the same services as real data (idempotent)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.accounts.models import MEMBER_ROLE_BY_KIND, Role, User, Visitor
from exchange.accounts.services import create_user, find_user_by_email, system_actor
from exchange.demo.entries import load_demo_entries
from exchange.demo.vouchers import load_demo_vouchers
from exchange.orgs.models import Organization, OrganizationStatus
from exchange.orgs.services import (
    OrganizationApplication,
    approve_organization,
    register_organization,
    reject_organization,
)
from exchange.taxonomy.models import District
from exchange.taxonomy.services import SEED_DIR, load_reference_data

# Documented in the README; these accounts exist only where demo data was loaded.
DEMO_PASSWORD = "jjj-demo-2026"  # demo data only  # nosec B105


def load_demo_data(session: Session, seed_dir: Path = SEED_DIR) -> dict[str, int]:
    load_reference_data(session, seed_dir)
    admins = json.loads((seed_dir / "demo" / "users.json").read_text(encoding="utf-8"))
    organizations = json.loads((seed_dir / "demo" / "organizations.json").read_text(encoding="utf-8"))
    created = {"users": 0, "organizations": 0}
    for item in admins:
        if find_user_by_email(session, item["email"]) is None:
            create_user(session, system_actor(), email=item["email"], display_name=item["display_name"],
                        password=DEMO_PASSWORD, role=Role(item["role"]), region_code=item.get("region"))
            created["users"] += 1
    districts = {(d.region_code, d.name_zh): d.id for d in session.scalars(sa.select(District))}
    for item in organizations:
        if session.scalar(sa.select(Organization.id).where(Organization.credit_code == item["credit_code"])):
            continue
        created["organizations"] += 1
        created["users"] += _load_organization(session, item, districts)
    created["entries"] = load_demo_entries(session, seed_dir)
    created["vouchers"] = load_demo_vouchers(session, seed_dir)
    if created["entries"]:
        from exchange.search.services import reindex

        reindex(session)
    return created


def _load_organization(session: Session, item: dict[str, Any], districts: dict[tuple[str, str], int]) -> int:
    owner, *colleagues = item["members"]
    organization = register_organization(session, Visitor(), OrganizationApplication(
        name=item["name"], credit_code=item["credit_code"], kind=item["kind"], region=item["region"],
        district_id=districts[(item["region"], item["district"])], description=item.get("description", ""),
        website=item.get("website", ""), member_email=owner["email"], member_name=owner["display_name"],
        password=DEMO_PASSWORD))
    if organization is None:  # the owner's e-mail already had an account
        return 0
    admin = session.scalar(sa.select(User).where(User.role == Role.REGIONAL_ADMIN,
                                                 User.region_code == item["region"]).order_by(User.id))
    status = OrganizationStatus(item["status"])
    if status is OrganizationStatus.APPROVED:
        approve_organization(session, admin, organization.id)
    elif status is OrganizationStatus.REJECTED:
        reject_organization(session, admin, organization.id, item["rejection_reason"])
    for colleague in colleagues:
        if find_user_by_email(session, colleague["email"]) is None:
            create_user(session, system_actor(), email=colleague["email"], display_name=colleague["display_name"],
                        password=DEMO_PASSWORD, role=MEMBER_ROLE_BY_KIND[organization.kind],
                        organization=organization)
    return 1 + len(colleagues)
