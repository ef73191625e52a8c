"""Pure checks of identifiers that entries carry: patent numbers and ID card numbers."""
from __future__ import annotations

import re

PATENT_TYPES = {"1": "invention", "2": "utility_model", "3": "design", "8": "invention", "9": "utility_model"}
_PATENT = re.compile(r"^(?:ZL|CN)?\s*(\d{12}|\d{8})\s*\.?\s*([\dX])$")
_PATENT_WEIGHTS = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]


def patent_check_character(digits: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(digits, _PATENT_WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_patent(raw: str) -> str | None:
    """ZL + application number + '.' + check character, or None if it is not a valid number."""
    match = _PATENT.match(raw.strip().upper())
    if not match or patent_check_character(match.group(1)) != match.group(2):
        return None
    return f"ZL{match.group(1)}.{match.group(2)}"


def patent_type(number: str) -> str:
    """The kind of patent an application number is for (the digit after the year)."""
    digits = number[2:-2]
    return PATENT_TYPES.get(digits[4] if len(digits) == 12 else digits[2], "")


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def is_valid_id_number(number: str) -> bool:
    """A mainland resident ID number: 17 digits and an ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS))
    return "10X98765432"[total % 11] == number[17]


_PHONE = re.compile(r"^(?:\+?86[- ]?)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def normalize_phone(raw: str) -> str | None:
    match = _PHONE.match(re.sub(r"\s+", "", raw))
    return match.group(1).replace("-", "") if match else None
