"""The search page, and the API's search and suggestions."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Blueprint, jsonify, render_template, request
from flask_smorest import Blueprint as ApiBlueprint

from exchange.api.schemas import QuerySchema
from exchange.catalog.models import CooperationMode, EntryKind, Maturity
from exchange.extensions import db
from exchange.search import services
from exchange.search.documents import SearchResult
from exchange.search.highlight import highlight
from exchange.taxonomy.services import list_fields, list_regions
from exchange.web import request_actor

bp = Blueprint("search", __name__)
api_bp = ApiBlueprint("search_api", __name__, url_prefix="/api/v1/search",
                      description="One search across the five libraries and the three regions")


@bp.get("/search")
def page() -> Any:
    params = services.SearchParams.from_args(request.args)
    result = services.search(db.session, request_actor(), params)
    regions = list_regions(db.session)
    labels = {
        "kind": {kind.value: kind.label for kind in EntryKind},
        "region": {region.code: region.name for region in regions},
        "district": {str(d.id): d.name for region in regions for d in region.districts},
        "field_parent": {field.code: field.name for field in list_fields(db.session)},
        "maturity": {maturity.value: maturity.label for maturity in Maturity},
        "modes": {mode.value: mode.label for mode in CooperationMode},
    }
    return render_template("search/results.html", params=params, result=result, labels=labels,
                           highlight=highlight, without=_without)


def _without(args: Any, name: str) -> dict[str, list[str]]:
    """The current query string less one filter (and the page), for the ✕ beside a chosen facet."""
    return {key: values for key, values in args.to_dict(flat=False).items() if key not in (name, "page")}


class SearchArgsSchema(QuerySchema):
    q = ma.fields.String(metadata={"description": "Words, in Chinese (simplified or traditional), English or pinyin"})
    kind = ma.fields.List(ma.fields.String(metadata={"enum": [k.value for k in EntryKind]}))
    region = ma.fields.String(metadata={"enum": ["BJ", "TJ", "HE"]})
    district = ma.fields.String()
    field = ma.fields.String()
    maturity = ma.fields.String()
    mode = ma.fields.String()
    sort = ma.fields.String(metadata={"enum": ["relevance", "newest", "price_asc", "price_desc"]})
    page = ma.fields.String()
    per_page = ma.fields.String()


class HitSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    id = ma.fields.Integer(attribute="entry_id", required=True)
    title = ma.fields.String(required=True)
    snippet = ma.fields.String(required=True, metadata={"description": "HTML: escaped text, matches in <mark>"})
    title_html = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    district = ma.fields.Integer(required=True)
    field = ma.fields.String(required=True)
    organization = ma.fields.String(required=True)
    keywords = ma.fields.List(ma.fields.String())
    price_fen = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(required=True)


class SearchAnswerSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    hits = ma.fields.List(ma.fields.Nested(HitSchema), required=True)
    facets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(keys=ma.fields.String(),
                                                                             values=ma.fields.Integer()))
    backend = ma.fields.String(required=True, metadata={"enum": ["meilisearch", "embedded", "database"]})
    degraded = ma.fields.Boolean(required=True)
    matched_by = ma.fields.String(required=True)
    did_you_mean = ma.fields.String(allow_none=True)


def search_answer(params: services.SearchParams, result: SearchResult) -> dict[str, Any]:
    """The API's answer, in the shape SearchAnswerSchema documents (built as plain data: the schema's dump cost more
    than the rest of the request's Python)."""
    hits = [{"kind": hit.kind, "id": hit.entry_id, "title": hit.title,
             "snippet": str(highlight(hit.summary, result.words, limit=120)),
             "title_html": str(highlight(hit.title, result.words)), "region": hit.region, "district": hit.district,
             "field": hit.field, "organization": hit.organization, "keywords": hit.keywords,
             "price_fen": hit.price_fen, "status": hit.status} for hit in result.hits]
    return {"total": result.total, "page": int(params.page or 1), "per_page": int(params.per_page or 20),
            "hits": hits, "facets": result.facets, "backend": result.backend, "degraded": result.degraded,
            "matched_by": result.matched_by, "did_you_mean": result.did_you_mean}


# The arguments are documented, not parsed by the schema: SearchParams reads them, and every one is a string.
@api_bp.get("")
@api_bp.doc(parameters=[{"in": "query", "schema": SearchArgsSchema}])
@api_bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@api_bp.response(200, SearchAnswerSchema)
def search_api() -> Any:
    """Search every library of every region at once; says which backend answered."""
    params = services.SearchParams.from_args(request.args)
    return jsonify(search_answer(params, services.search(db.session, request_actor(), params)))


class SuggestArgsSchema(QuerySchema):
    q = ma.fields.String(required=True)


class SuggestionsSchema(ma.Schema):
    suggestions = ma.fields.List(ma.fields.String(), required=True)


@api_bp.get("/suggest")
@api_bp.arguments(SuggestArgsSchema, location="query")
@api_bp.response(200, SuggestionsSchema)
def suggest(args: dict[str, Any]) -> Any:
    """Words to complete what the user is typing, in characters or pinyin."""
    return {"suggestions": services.suggestions(db.session, request_actor(), args["q"])}
