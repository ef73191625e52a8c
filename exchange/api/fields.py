"""The API's one input kit: every request schema of every feature builds its fields from here.

Each field is bounded to what its column holds (ids: INTEGER, amounts in fen: BIGINT and the
services' own bound), refuses control characters in text, and says what is wrong in the caller's
language. Amounts stay integer fen from the request to the ledger.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload
from werkzeug.datastructures import FileStorage

from exchange.inputs import MAX_ID, has_control_characters

MAX_AMOUNT_FEN = 10**15  # ten trillion yuan: above any real figure, far below BIGINT
REGIONS = ["BJ", "TJ", "HE"]


class Text(ma.fields.String):
    """Text without control characters (PostgreSQL cannot even store NUL: a 500, not a message)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text):
            raise ma.ValidationError("Invalid value.")
        return text


class StrictBoolean(ma.fields.Boolean):
    """true or false, not 1, "yes" or "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class File(Upload):
    """One uploaded file of a multipart body (a plain form field of the same name is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Invalid value.")
        return value


# Field factories, named like the fields they make.

def Whole(*, low: int, high: int, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """A whole number from `low` to `high` (a JSON integer; with strict=False also "12" in a query string)."""
    return ma.fields.Integer(strict=strict, validate=ma.validate.Range(
        min=low, max=high, error=_l("Enter a number from %(low)s to %(high)s.", low=low, high=high)), **kwargs)


def Id(*, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """An id: a whole number an id column holds (1 to 2,147,483,647)."""
    return Whole(low=1, high=MAX_ID, strict=strict, **kwargs)


def Fen(*, high: int = MAX_AMOUNT_FEN, low: int = 1, strict: bool = True, **kwargs: Any) -> ma.fields.Integer:
    """An amount in fen: a whole number (never a float, a string or a boolean), `low` to `high`."""
    return Whole(low=low, high=high, strict=strict, **kwargs)


def Choice(values: list[str], **kwargs: Any) -> ma.fields.String:
    return Text(validate=ma.validate.OneOf(values, error=_l("Please choose one of the options.")), **kwargs)


def values_of(enum_class: Any) -> list[str]:
    return [member.value for member in enum_class]
