"""Demo entries of the five libraries from seed/demo/*.json, written and reviewed through the services."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.accounts.models import Role, User
from exchange.catalog.models import Achievement, Entry, EntryKind
from exchange.catalog.services import change_status, create_entry
from exchange.notifications.models import OutboxMessage
from exchange.db import utcnow
from exchange.orgs.models import Organization
from exchange.unit_of_work import unit_of_work

# The transitions that bring a new draft to each demo state, and who makes them.
PATHS: dict[str, list[tuple[str, str]]] = {
    "draft": [],
    "submitted": [("submit", "owner")],
    "approved": [("submit", "owner"), ("approve", "admin")],
    "rejected": [("submit", "owner"), ("reject", "admin")],
    "withdrawn": [("submit", "owner"), ("approve", "admin"), ("withdraw", "owner")],
    "archived": [("submit", "owner"), ("approve", "admin"), ("archive", "owner")],
}

FILES = [("achievements.json", EntryKind.ACHIEVEMENT), ("needs.json", EntryKind.NEED),
         ("experts.json", EntryKind.EXPERT), ("talents.json", EntryKind.TALENT), ("projects.json", EntryKind.PROJECT)]


def _fen(yuan: Any) -> int | None:
    return None if yuan is None else int(yuan) * 100


def _achievement(item: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"maturity": item["maturity"], "trl": item.get("trl"), "ip_type": item["ip_type"],
            "patents": item.get("patents", []), "ip_status": item.get("ip_status", "none"),
            "modes": item["transfer_modes"], "price_fen": _fen(item.get("price_yuan")),
            "application_scenarios": item.get("application_scenarios", "")}


def _need(item: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"summary": item["description"], "budget_min_fen": _fen(item.get("budget_min_yuan")),
            "budget_max_fen": _fen(item.get("budget_max_yuan")), "deadline": item["deadline"],
            "modes": item["cooperation_modes"], "required_maturity": item["required_maturity"]}


def _expert(item: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"title": item["name"], "summary": item["expertise"], "title_rank": item["title_rank"],
            "position": item.get("position", ""), "other_fields": item.get("other_fields", []),
            "available_for_consulting": item.get("available_for_consulting", False),
            "available_for_review": item.get("available_for_review", False), "phone": item.get("phone", ""),
            "email": item.get("email", ""), "id_number": item.get("id_number", "")}


def _talent(item: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"person_name": item["name"], "is_team": item.get("is_team", False), "skills": item["skills"],
            "keywords": item.get("keywords") or item["skills"], "education": item["education"],
            "experience_years": item["experience_years"], "wanted_region": item["wanted_region"],
            "wanted_role": item.get("wanted_role", ""), "phone": item.get("phone", ""),
            "email": item.get("email", "")}


def _project(item: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"programme": item["programme"], "budget_fen": _fen(item.get("budget_yuan")),
            "start_date": item["start_date"], "end_date": item["end_date"],
            "project_status": item["project_status"],
            "partners": [lookup.organization(code).id for code in item.get("partners", [])],
            "outcomes": [lookup.achievement(title) for title in item.get("outcomes", [])]}


KIND_FIELDS = {EntryKind.ACHIEVEMENT: _achievement, EntryKind.NEED: _need, EntryKind.EXPERT: _expert,
               EntryKind.TALENT: _talent, EntryKind.PROJECT: _project}
COMMON = ("title", "summary", "field", "keywords")


class Lookup:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._organizations = {o.credit_code: o for o in session.scalars(sa.select(Organization))}
        self._admins = {u.region_code: u for u in session.scalars(
            sa.select(User).where(User.role == Role.REGIONAL_ADMIN).order_by(User.id.desc()))}
        self._owners = {u.organization_id: u for u in session.scalars(
            sa.select(User).where(User.is_org_owner.is_(True)))}

    def organization(self, credit_code: str) -> Organization:
        return self._organizations[credit_code]

    def owner(self, organization: Organization) -> User:
        return self._owners[organization.id]

    def admin(self, region_code: str) -> User:
        return self._admins[region_code]

    def achievement(self, title: str) -> int:
        return self.session.scalars(sa.select(Achievement.id).where(Achievement.title == title)).one()


def load_demo_entries(session: Session, seed_dir: Path) -> int:
    lookup = Lookup(session)
    started = utcnow()
    created = 0
    for filename, kind in FILES:
        path = seed_dir / "demo" / filename
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            created += _load_entry(session, lookup, kind, item)
    # Demo people have no mailboxes, so their mail is marked as handled; the search index is
    # rebuilt in one go by the caller instead of message by message.
    with unit_of_work(session):
        session.execute(sa.update(OutboxMessage).where(OutboxMessage.created_at >= started,
                                                       OutboxMessage.processed_at.is_(None))
                        .values(processed_at=utcnow(), last_error="demo data: not sent"))
    return created


def _load_entry(session: Session, lookup: Lookup, kind: EntryKind, item: dict[str, Any]) -> int:
    organization = lookup.organization(item["owner"])
    title = item.get("title") or item["name"]
    if session.scalar(sa.select(Entry.id).where(Entry.organization_id == organization.id, Entry.kind == kind,
                                                Entry.title == (item["name"] if kind is EntryKind.EXPERT else title))):
        return 0
    owner = lookup.owner(organization)
    data = {name: item[name] for name in COMMON if name in item}
    data["district"] = organization.district_id
    data |= KIND_FIELDS[kind](item, lookup)
    entry = create_entry(session, owner, kind, data)
    for action, who in PATHS[item.get("status", "approved")]:
        actor = owner if who == "owner" else lookup.admin(organization.region_code)
        change_status(session, actor, kind, entry.id, action, item.get("rejection_reason"))
    return 1
