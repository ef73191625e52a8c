"""API face of the libraries: /api/v1/{achievements,needs,experts,talents,projects}, generated per kind
from the same field declarations as the forms."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma

from exchange.api import BEARER_SECURITY, Blueprint, login_required
from exchange.api.fields import REGIONS, Text
from exchange.api.schemas import (
    AttachmentSchema,
    OrganizationRefSchema,
    PageQuerySchema,
    RequestSchema,
    page_body,
    page_request,
)
from exchange.catalog import services
from exchange.catalog.lifecycle import TRANSITIONS
from exchange.catalog.models import EntryKind
from exchange.catalog.specs import KINDS
from exchange.extensions import db
from exchange.web import request_actor

bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1", description="The five shared libraries")


class ListQuerySchema(PageQuerySchema):
    # Text: EntryFilters reads each value and says what is wrong with it.
    region = Text(metadata={"enum": REGIONS})
    district = Text(metadata={"description": "District id"})
    field = Text(metadata={"description": "Field or sub-field code"})
    status = Text()
    maturity = Text()
    mode = Text(metadata={"description": "Transfer or cooperation mode"})
    price_min = Text(metadata={"description": "Yuan"})
    price_max = Text(metadata={"description": "Yuan"})
    organization = Text(metadata={"description": "Organisation id"})
    q = Text(metadata={"description": "Words in the title"})
    sort = Text(metadata={"enum": ["newest", "oldest", "updated", "title", "price_asc", "price_desc"]})


class ReasonSchema(RequestSchema):
    reason = Text(metadata={"description": "Required to reject"})


class EventSchema(ma.Schema):
    action = ma.fields.String(required=True)
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(required=True)
    reason = ma.fields.String()
    actor = ma.fields.String(attribute="actor_name", allow_none=True,
                             metadata={"description": "The name of who acted: only for the owning organisation "
                                                      "and the administrators; null for everyone else"})
    actor_role = ma.fields.String(allow_none=True, metadata={"description": "The role in which they acted"})
    occurred_at = ma.fields.AwareDateTime(required=True)


def entry_body(view: services.EntryView) -> dict[str, Any]:
    """An entry as the API shows it: the fields the service lets the caller see."""
    entry = view.entry
    body = {f.name: f.snapshot(entry) for f in view.fields}
    if entry.kind is EntryKind.PROJECT:
        body["partners"] = [{"id": o.id, "name": o.name, "region": o.region_code} for o in entry.partners]
        body["outcomes"] = [achievement.id for achievement in entry.outcomes]
    return {**body,
            "id": entry.id, "kind": entry.kind.value, "status": entry.status.value, "region": entry.region_code,
            "organization": entry.organization, "rejection_reason": entry.rejection_reason,
            "created_at": entry.created_at, "submitted_at": entry.submitted_at,
            "published_at": entry.published_at, "attachments": entry.attachments}


def _schemas(kind: EntryKind) -> tuple[type[ma.Schema], type[ma.Schema], type[ma.Schema]]:
    fields = KINDS[kind].all_fields()
    name = kind.value.title()
    body_fields = {f.name: f.schema_field() for f in fields}
    create = type(f"{name}CreateSchema", (RequestSchema,), dict(body_fields))
    change = type(f"{name}ChangeSchema", (RequestSchema,), dict(body_fields))
    # An optional field may be answered null (面议: no price), whatever its type.
    out_fields: dict[str, Any] = {f.name: ma.fields.Raw(allow_none=not f.required, metadata=f.schema_field().metadata)
                                  for f in fields}
    out_fields.update({
        "id": ma.fields.Integer(required=True), "kind": ma.fields.String(required=True),
        "status": ma.fields.String(required=True), "region": ma.fields.String(required=True),
        "organization": ma.fields.Nested(OrganizationRefSchema, required=True),
        "rejection_reason": ma.fields.String(), "created_at": ma.fields.AwareDateTime(),
        "submitted_at": ma.fields.AwareDateTime(allow_none=True),
        "published_at": ma.fields.AwareDateTime(allow_none=True),
        "attachments": ma.fields.List(ma.fields.Nested(AttachmentSchema)),
    })
    out = type(f"{name}Schema", (ma.Schema,), out_fields)
    return create, change, out


def _page_schema(kind: EntryKind, item: type[ma.Schema]) -> type[ma.Schema]:
    return type(f"{kind.value.title()}PageSchema", (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "total": ma.fields.Integer(required=True), "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True)})


def _register(kind: EntryKind) -> None:
    create_schema, change_schema, out_schema = _schemas(kind)
    base = f"/{kind.plural}"
    label = kind.plural

    def route(rule: str, method: str, endpoint: str) -> Callable[[Callable[..., Any]], Any]:
        return bp.route(rule, methods=[method], endpoint=f"{kind.value}_{endpoint}")

    @route(base, "GET", "list")
    @bp.arguments(ListQuerySchema, location="query")
    @bp.response(200, _page_schema(kind, out_schema))
    @bp.doc(tags=[label], summary=f"List {label}: approved ones, the caller's own and, for an admin, "
                                  "their region's pending ones")
    def list_entries(args: dict[str, Any]) -> Any:
        actor = request_actor()
        page = services.list_entries(db.session, actor, kind, services.EntryFilters.from_args(args),
                                     page_request(args))
        return {**page_body(page), "items": [entry_body(view) for view in page.items]}

    @route(base, "POST", "create")
    @login_required
    @bp.arguments(create_schema)
    @bp.response(201, out_schema)
    @bp.doc(tags=[label], summary="Create a draft", security=BEARER_SECURITY)
    def create(body: dict[str, Any]) -> Any:
        actor = request_actor()
        return entry_body(services.entry_view(actor, services.create_entry(db.session, actor, kind, body)))

    @route(f"{base}/<int:entry_id>", "GET", "get")
    @bp.response(200, out_schema)
    @bp.doc(tags=[label], summary="Read one entry")
    def get(entry_id: int) -> Any:
        actor = request_actor()
        return entry_body(services.get_entry(db.session, actor, kind, entry_id))

    @route(f"{base}/<int:entry_id>", "PATCH", "update")
    @login_required
    @bp.arguments(change_schema)
    @bp.response(200, out_schema)
    @bp.doc(tags=[label], summary="Change a draft or rejected entry (its organisation only)", security=BEARER_SECURITY)
    def update(body: dict[str, Any], entry_id: int) -> Any:
        actor = request_actor()
        return entry_body(services.entry_view(actor, services.update_entry(db.session, actor, kind, entry_id, body)))

    @route(f"{base}/<int:entry_id>", "DELETE", "delete")
    @login_required
    @bp.response(204)
    @bp.doc(tags=[label], summary="Delete a draft", security=BEARER_SECURITY)
    def delete(entry_id: int) -> Any:
        services.delete_entry(db.session, request_actor(), kind, entry_id)
        return ""

    @route(f"{base}/<int:entry_id>/history", "GET", "history")
    @bp.response(200, EventSchema(many=True))
    @bp.doc(tags=[label], summary="The audit trail: who moved the entry from which state to which, and why")
    def history(entry_id: int) -> Any:
        return services.entry_history(db.session, request_actor(), kind, entry_id)

    for action in TRANSITIONS:
        _register_transition(kind, action, out_schema, route)


def _register_transition(kind: EntryKind, action: str, out_schema: type[ma.Schema],
                         route: Callable[[str, str, str], Any]) -> None:
    @route(f"/{kind.plural}/<int:entry_id>/{action}", "POST", action)
    @login_required
    @bp.arguments(ReasonSchema, required=False)
    @bp.response(200, out_schema)
    @bp.doc(tags=[kind.plural], summary=f"Lifecycle: {action}", security=BEARER_SECURITY)
    def transition(body: dict[str, Any], entry_id: int) -> Any:
        actor = request_actor()
        entry = services.change_status(db.session, actor, kind, entry_id, action, (body or {}).get("reason"))
        return entry_body(services.entry_view(actor, entry))


for _kind in EntryKind:
    _register(_kind)
