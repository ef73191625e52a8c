"""The API's search across the five libraries and the three regions, and its suggestions."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify, request

from exchange.api import Blueprint
from exchange.api.fields import REGIONS, Text
from exchange.api.schemas import QuerySchema
from exchange.catalog.models import EntryKind
from exchange.extensions import db
from exchange.search import services
from exchange.search.documents import SearchResult
from exchange.search.highlight import highlight
from exchange.web import request_actor

bp = Blueprint("search_api", __name__, url_prefix="/api/v1/search",
               description="One search across the five libraries and the three regions")


class SearchArgsSchema(QuerySchema):
    q = Text(metadata={"description": "Words, in Chinese (simplified or traditional), English or pinyin"})
    kind = ma.fields.List(Text(metadata={"enum": [k.value for k in EntryKind]}))
    region = Text(metadata={"enum": REGIONS})
    district = Text()
    field = Text()
    maturity = Text()
    mode = Text()
    sort = Text(metadata={"enum": ["relevance", "newest", "price_asc", "price_desc"]})
    page = Text()
    per_page = Text()


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
@bp.get("")
@bp.doc(parameters=[{"in": "query", "schema": SearchArgsSchema}])
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.response(200, SearchAnswerSchema)
def search_api() -> Any:
    """Search every library of every region at once; says which backend answered."""
    params = services.SearchParams.from_args(request.args)
    return jsonify(search_answer(params, services.search(db.session, request_actor(), params)))


class SuggestArgsSchema(QuerySchema):
    q = Text(required=True)


class SuggestionsSchema(ma.Schema):
    suggestions = ma.fields.List(ma.fields.String(), required=True)


@bp.get("/suggest")
@bp.arguments(SuggestArgsSchema, location="query")
@bp.response(200, SuggestionsSchema)
def suggest(args: dict[str, Any]) -> Any:
    """Words to complete what the user is typing, in characters or pinyin."""
    return {"suggestions": services.suggestions(db.session, request_actor(), args["q"])}
