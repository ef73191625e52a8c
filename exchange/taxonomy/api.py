"""Reference data for API clients: regions with their districts, technology fields."""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from exchange.api import Blueprint
from exchange.extensions import db
from exchange.taxonomy.services import list_fields, list_regions

bp = Blueprint("taxonomy_api", __name__, url_prefix="/api/v1", description="Regions and technology fields")


class DistrictSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)


class RegionSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "BJ"})
    gb_code = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    districts = ma.fields.List(ma.fields.Nested(DistrictSchema), required=True)


class FieldSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name_zh = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    children = ma.fields.List(ma.fields.Nested(lambda: FieldSchema()))


@bp.get("/regions")
@bp.response(200, RegionSchema(many=True))
def regions() -> Any:
    """The three regions and their districts (use a district's id when registering)."""
    return list_regions(db.session)


@bp.get("/fields")
@bp.response(200, FieldSchema(many=True))
def fields() -> Any:
    """Technology fields and their sub-fields."""
    return list_fields(db.session)
