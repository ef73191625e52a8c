"""Password hashing (Werkzeug's scrypt by default) and the one password rule: length."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from exchange.accounts.models import PASSWORD_MAX_LENGTH


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def password_problem(password: str) -> str | None:
    """A message if the password is unacceptable; no composition rules, only length."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return str(_l("Use at least %(min)s characters.", min=minimum))
    if len(password) > PASSWORD_MAX_LENGTH:
        return str(_l("Use at most %(max)s characters.", max=PASSWORD_MAX_LENGTH))
    return None
