"""Login attempt limits, per account and per address, shared by the page and the API."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request

from exchange.accounts.models import EMAIL_MAX_LENGTH
from exchange.accounts.services import canonical_email
from exchange.extensions import limiter


def _submitted_email() -> str:
    data: Any = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email") if isinstance(data, dict) or hasattr(data, "get") else None
    return canonical_email(str(email or ""))[:EMAIL_MAX_LENGTH]


def _account_key() -> str:
    return f"account:{_submitted_email()}"


def _failed(response: Any) -> bool:
    # Successful logins (a redirect or a new token) do not use up the allowance.
    return response.status_code not in (201, 302, 303)


def login_limits(view: Callable[..., Any]) -> Callable[..., Any]:
    """Apply both limits to a view that takes credentials; the same counters serve every face."""
    per_account = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
                                       scope="login-account", key_func=_account_key, methods=["POST"],
                                       deduct_when=_failed)
    per_address = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
                                       scope="login-address", methods=["POST"],
                                       deduct_when=_failed)
    return per_address(per_account(view))
