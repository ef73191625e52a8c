"""Checks of what users type into voucher forms and API bodies: each problem goes into `errors` under
its field's name, so that a form or an API answer reports every problem at once."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from exchange.errors import ValidationFailed
from exchange.vouchers.models import TEXT_MAX_LENGTH

ALLOWED_CONTROLS = frozenset("\n\r\t")


def has_forbidden_characters(text: str) -> bool:
    # PostgreSQL cannot store (or even compare) NUL; other control characters are never meant.
    return any(ord(char) < 32 and char not in ALLOWED_CONTROLS for char in text)


def optional_text(errors: dict[str, object], name: str, value: str | None, max_length: int) -> str:
    text = (value or "").strip()
    if has_forbidden_characters(text):
        errors[name] = _l("Contains characters that are not allowed.")
    elif len(text) > max_length:
        errors[name] = _l("At most %(max)s characters.", max=max_length)
    return text


def required_text(errors: dict[str, object], name: str, value: str | None, max_length: int) -> str:
    text = optional_text(errors, name, value, max_length)
    if not text and name not in errors:
        errors[name] = _l("This field is required.")
    return text


def choice(errors: dict[str, object], name: str, value: str | None, enum_class: type) -> Any:
    try:
        return enum_class(value)
    except ValueError:
        errors[name] = _l("Please choose one of the options.")
        return None


def whole_number(errors: dict[str, object], name: str, value: int | None, *, low: int = 1,
                 high: int = 10 ** 15) -> int:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        errors[name] = _l("Please enter a whole number.")
        return 0
    if not low <= value <= high:
        errors[name] = _l("Enter a number from %(low)s to %(high)s.", low=low, high=high)
    return value


def reason_text(reason: str | None) -> str:
    """The reason an administrator gives for a refusal: required."""
    errors: dict[str, object] = {}
    text = required_text(errors, "reason", reason, TEXT_MAX_LENGTH)
    if errors:
        raise ValidationFailed(fields=errors)
    return text
