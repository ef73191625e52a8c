"""Money as people type and read it (yuan) and as the system keeps it (integer fen)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

FEN_PER_YUAN = 100
MAX_YUAN = Decimal("100000000000")  # 1e11 yuan: far above any budget, far below BIGINT fen
MAX_PRODUCT_FEE_FEN = int(MAX_YUAN) * 100  # published fees are typed in yuan on the pages


class BadAmount(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def parse_yuan(text: str | None) -> int:
    """'12,500.5' → 1250050 fen; more than two decimals, signs, words or huge numbers are refused."""
    cleaned = (text or "").strip().replace(",", "").replace("，", "").removeprefix("¥").strip()
    if not cleaned:
        raise BadAmount(_l("Please enter an amount."))
    try:
        yuan = Decimal(cleaned)
    except InvalidOperation:
        raise BadAmount(_l("Enter an amount in yuan, such as 5000 or 12500.50.")) from None
    if not yuan.is_finite() or yuan <= 0:
        raise BadAmount(_l("The amount must be more than zero."))
    if yuan > MAX_YUAN:
        raise BadAmount(_l("The amount is too large."))
    fen = yuan * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise BadAmount(_l("Amounts have at most two decimals (fen)."))
    return int(fen)


def format_fen(fen: int | None) -> str:
    """1250050 → '¥12,500.50' in the reader's locale."""
    if fen is None:
        return ""
    return format_currency(Decimal(fen) / FEN_PER_YUAN, "CNY", locale=str(get_locale() or "zh_CN"))


def yuan_text(fen: int | None) -> str:
    """The value a form shows back in an amount field: '12500.50', '5000'."""
    if fen is None:
        return ""
    yuan = Decimal(fen) / FEN_PER_YUAN
    return f"{yuan:f}" if fen % FEN_PER_YUAN else str(fen // FEN_PER_YUAN)
