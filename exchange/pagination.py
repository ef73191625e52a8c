"""Lists: the filters and the page asked for in a query string, and pages of query results (two queries per
page, count and rows, whatever its size)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from exchange.errors import ValidationFailed
from exchange.inputs import id_from_text

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        fields = {}
        if not 1 <= self.page <= MAX_PAGE:
            fields["page"] = _l("Page must be a whole number from 1 to %(max)s.", max=MAX_PAGE)
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            fields["per_page"] = _l("Items per page must be a whole number from 1 to %(max)s.", max=MAX_PER_PAGE)
        if fields:
            raise ValidationFailed(fields=fields)

    @classmethod
    def from_args(cls, args: dict[str, str] | object) -> PageRequest:
        """Parse ?page=&per_page= from a query string, with clear errors for bad values."""
        get = getattr(args, "get")
        values = {}
        fields = {}
        for name, default in (("page", 1), ("per_page", DEFAULT_PER_PAGE)):
            raw = get(name)
            if raw in (None, ""):
                values[name] = default
                continue
            try:
                values[name] = int(raw)
            except (TypeError, ValueError):
                fields[name] = _l("Must be a whole number.")
        if fields:
            raise ValidationFailed(fields=fields)
        return cls(**values)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def per_page(self) -> int:
        return self.request.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paginate(session: Session, statement: sa.Select[tuple[T]], request: PageRequest) -> Page[T]:
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())) or 0
    items = list(session.scalars(statement.limit(request.per_page).offset(request.offset)))
    return Page(items=items, total=total, request=request)


class ListFilters:
    """The filters of a list, as a dataclass whose fields are named as the query parameters."""

    @classmethod
    def from_args(cls, args: Any, *names: str) -> Self:
        """Read the filters named (every field by default) from a query string; a blank value is no filter.
        Text stays as given, for the service to check and refuse with a clear message; an id that is not
        a whole number filters nothing."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if names and field.name not in names:
                continue
            raw = args.get(field.name) or None
            if field.type == "int | None":
                values[field.name] = id_from_text(raw)
            elif field.type == "str | None":
                values[field.name] = raw
        return cls(**values)
