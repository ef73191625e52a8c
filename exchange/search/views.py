"""The search page (the API's search and suggestions: exchange/search/api.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from exchange.catalog.models import CooperationMode, EntryKind, Maturity
from exchange.extensions import db
from exchange.search import services
from exchange.search.highlight import highlight
from exchange.taxonomy.services import list_fields, list_regions
from exchange.web import request_actor

bp = Blueprint("search", __name__)


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
