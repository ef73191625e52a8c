"""Schemas shared by every API feature: the error shape, paginated lists and references to shared things."""
from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow as ma

from exchange.pagination import Page, PageRequest


class RequestSchema(ma.Schema):
    """Request bodies: unknown fields are refused, so nothing is mass-assigned."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class PageQuerySchema(QuerySchema):
    # Raw strings: PageRequest.from_args gives the one clear message for every bad value.
    page = ma.fields.String(metadata={"description": "Page number, from 1", "example": "1"})
    per_page = ma.fields.String(metadata={"description": "Items per page, 1 to 100", "example": "20"})


def page_request(args: dict[str, Any]) -> PageRequest:
    return PageRequest.from_args(args)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "validation_failed"})
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


class OrganizationRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    region = ma.fields.String(attribute="region_code", required=True)


class AttachmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(attribute="original_name", required=True)
    content_type = ma.fields.String(required=True)
    size_bytes = ma.fields.Integer(required=True)


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


@cache
def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A list answer: the items of one page and the total over all pages."""
    return type(f"{item_schema.__name__.removesuffix('Schema')}PageSchema", (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "total": ma.fields.Integer(required=True),
        "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True),
    })


def page_body(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}
