"""统一社会信用代码 (unified social credit code), GB 32100-2015."""
from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # I, O, S, V and Z are never used
WEIGHTS = [pow(3, position, 31) for position in range(17)]
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}$")


def normalize(code: str) -> str:
    return code.strip().upper()


def check_character(first_seventeen: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first_seventeen, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """Eighteen characters of the code's alphabet, a six-digit division code, and the check character."""
    return bool(_SHAPE.match(code)) and check_character(code[:17]) == code[17]
