"""Loading and reading the reference data."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from exchange.taxonomy.models import District, Region, TechnologyField
from exchange.unit_of_work import unit_of_work

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def load_reference_data(session: Session, seed_dir: Path = SEED_DIR) -> None:
    """Insert or update regions, districts and technology fields from seed/ (idempotent)."""
    regions = json.loads((seed_dir / "regions.json").read_text(encoding="utf-8"))
    fields = json.loads((seed_dir / "fields.json").read_text(encoding="utf-8"))
    with unit_of_work(session):
        existing_districts = {(d.region_code, d.name_zh): d for d in session.scalars(sa.select(District))}
        for region_position, item in enumerate(regions):
            region = session.get(Region, item["code"]) or Region(code=item["code"])
            region.gb_code, region.name_zh, region.name_en = item["gb_code"], item["name_zh"], item["name_en"]
            region.position = region_position
            session.add(region)
            for position, district_item in enumerate(item["districts"]):
                key = (item["code"], district_item["name_zh"])
                district = existing_districts.get(key) or District(region_code=item["code"], name_zh=key[1])
                district.name_en = district_item["name_en"]
                district.position = position
                session.add(district)
        session.flush()
        for position, item in enumerate(fields):
            _upsert_field(session, item, None, position)


def _upsert_field(session: Session, item: dict[str, Any], parent_code: str | None, position: int) -> None:
    field = session.get(TechnologyField, item["code"]) or TechnologyField(code=item["code"])
    field.name_zh, field.name_en = item["name_zh"], item["name_en"]
    field.parent_code, field.position = parent_code, position
    session.add(field)
    session.flush()
    for child_position, child in enumerate(item.get("children", [])):
        _upsert_field(session, child, item["code"], child_position)


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(
        sa.select(Region).options(selectinload(Region.districts)).order_by(Region.position)
    ))


def get_district(session: Session, district_id: int | None) -> District | None:
    if district_id is None:
        return None
    return session.get(District, district_id)


def list_fields(session: Session) -> list[TechnologyField]:
    """Top-level fields with their sub-fields loaded."""
    return list(session.scalars(
        sa.select(TechnologyField).where(TechnologyField.parent_code.is_(None))
        .options(selectinload(TechnologyField.children)).order_by(TechnologyField.position)
    ))
