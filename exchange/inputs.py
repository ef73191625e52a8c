"""The bounds of every input, for pages, forms, the API and the services alike.

Ids are INTEGER columns (PostgreSQL refuses to even compare a larger number with one: `integer out
of range`, a 500), amounts BIGINT. PostgreSQL cannot store NUL, and neither database can store half
of a UTF-16 surrogate pair (JSON's "\\ud800" decodes to one). A JSON number of thousands of digits
costs the parser quadratic time and Python refuses past 4,300 digits with a ValueError.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from flask_babel import lazy_gettext as _l

from exchange.errors import ValidationFailed

MAX_ID = 2**31 - 1  # every id is an INTEGER column
MAX_FEN = 2**63 - 1  # every amount is a BIGINT column
MAX_NUMBER_DIGITS = 20  # any larger JSON number is no id, amount or count of ours

# C0 controls but tab, newline and carriage return, and DEL: no text of ours holds them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# NUL, and a surrogate code point standing alone (a pair decodes to one character above U+FFFF).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")

UNSTORABLE_TEXT = _l("Contains a character that cannot be stored (NUL or half of a surrogate pair).")
NUMBER_TOO_LONG = _l("Numbers may have at most %(digits)s digits.", digits=MAX_NUMBER_DIGITS)
UNSTORABLE_QUERY = _l("The address contains a character that cannot be stored (NUL).")


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL_CHARACTERS.search(value))


def replace_control_characters(value: str) -> str:
    return _CONTROL_CHARACTERS.sub("\ufffd", value)


def is_storable(value: str) -> bool:
    return not _UNSTORABLE.search(value)


def is_id(value: Any) -> bool:
    """A whole number (not a boolean) that an id column can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def id_from_text(raw: str | None) -> int | None:
    """An id typed in a query string or a form, or None when it cannot be one."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    number = int(raw)
    return number if is_id(number) else None


class _TooLong:
    """A JSON number out of bounds, kept in place so that the field that holds it can be named."""


TOO_LONG = _TooLong()


def _number(text: str) -> Any:
    return TOO_LONG if len(text.lstrip("-")) > MAX_NUMBER_DIGITS else int(text)


def _real(text: str) -> Any:
    if len(text) > MAX_NUMBER_DIGITS + 10:
        return TOO_LONG
    value = float(text)
    return value if math.isfinite(value) else TOO_LONG


def load_json(text: str) -> Any:
    """Parse a JSON body and refuse, field by field, what no column can hold.

    Raises json.JSONDecodeError for what is not JSON at all, ValidationFailed (422) naming each
    field that holds NUL, a lone surrogate, a number of absurd length, NaN or Infinity.
    """
    data = json.loads(text, parse_int=_number, parse_float=_real, parse_constant=lambda _name: TOO_LONG)
    problems: dict[str, Any] = {}
    _walk(data, "", problems)
    if problems:
        raise ValidationFailed(fields=problems)
    return data


def _walk(node: Any, path: str, problems: dict[str, Any]) -> None:
    here = path or "_schema"
    if node is TOO_LONG:
        problems[here] = NUMBER_TOO_LONG
    elif isinstance(node, str):
        if not is_storable(node):
            problems[here] = UNSTORABLE_TEXT
    elif isinstance(node, dict):
        for key, value in node.items():
            if not is_storable(key):
                problems[path or "_schema"] = UNSTORABLE_TEXT
                continue
            _walk(value, f"{path}.{key}" if path else key, problems)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(value, f"{path}.{index}" if path else str(index), problems)


def check_query(args: Any) -> None:
    """Refuse a query string holding NUL (percent-decoding never yields a lone surrogate)."""
    problems = {name if is_storable(name) else "_query": UNSTORABLE_TEXT for name, value in args.items(multi=True)
                if not (is_storable(name) and is_storable(value))}
    if problems:
        raise ValidationFailed(UNSTORABLE_QUERY, fields=problems)
