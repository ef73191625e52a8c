"""Innovation vouchers (创新券)."""
from __future__ import annotations

from flask import Flask


def init_vouchers(app: Flask) -> None:
    from exchange.notifications.services import PERIODIC_JOBS
    from exchange.vouchers.money import format_fen
    from exchange.vouchers.services import expire_vouchers, warn_of_expiry

    app.add_template_filter(format_fen, "fen")

    every = app.config["VOUCHER_EXPIRY_CHECK_SECONDS"]
    PERIODIC_JOBS["vouchers.expire"] = (every, expire_vouchers)
    PERIODIC_JOBS["vouchers.warn_of_expiry"] = (every, warn_of_expiry)
