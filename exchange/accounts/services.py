"""Use cases of accounts: log in and out, passwords, API tokens, user administration."""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

import idna
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from exchange.accounts.models import (
    DISPLAY_NAME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    MEMBER_ROLE_BY_KIND,
    ApiToken,
    PasswordReset,
    Role,
    SingleUseTokenMixin,
    User,
)
from exchange.accounts.passwords import hash_password, password_problem, verify_password
from exchange.audit.services import record
from exchange.db import utcnow
from exchange.errors import Conflict, Forbidden, NotFound, ValidationFailed
from exchange.inputs import has_control_characters, replace_control_characters
from exchange.links import public_url
from exchange.notifications.services import enqueue_mail
from exchange.orgs.models import Organization
from exchange.policy import Action, Actor, authorize
from exchange.unit_of_work import after_rollback, service, unit_of_work

INVALID_LOGIN = _l("The e-mail address or password is not correct.")
TOKEN_NAME_MAX_LENGTH = 100


INVALID_TEXT = _l("Invalid value.")


def new_secret() -> tuple[str, str]:
    """A 256-bit random secret for the user, and the hash we keep of it."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def canonical_email(raw: str | None) -> str:
    """The one spelling of an address under which it is stored, looked up and rate-limited.

    NFKC folds full-width and other compatibility forms, IDNA (UTS 46) maps the domain (ideographic
    full stops included) to its standard form, and the whole is lower case: `enterprise.he@ｄｅｍｏ。cn`
    and `Enterprise.He@demo.cn` are one account and one login limit. Never fails: text that is not an
    address is only folded, so that it still has one key.
    """
    # Only the start of an absurdly long input is looked at: it cannot be a valid address anyway, and the
    # limiter computes this key for every attempt before anything else bounds the input.
    text = unicodedata.normalize("NFKC", (raw or "")[:4 * EMAIL_MAX_LENGTH]).strip()
    local, at, domain = text.rpartition("@")
    if at and domain:
        try:
            domain = idna.decode(idna.encode(domain, uts46=True))
        except (idna.IDNAError, UnicodeError):
            pass  # not a domain name: validation refuses it where an address must be valid
        text = f"{local}@{domain}"
    return text.lower()


def normalize_email(raw: str | None, field: str = "email") -> str:
    """A valid address in its canonical spelling (see canonical_email), or a message for the field."""
    value = canonical_email(raw)
    if not value:
        raise ValidationFailed(fields={field: _l("Please enter an e-mail address.")})
    if len(value) > EMAIL_MAX_LENGTH:
        raise ValidationFailed(fields={field: _l("This e-mail address is too long.")})
    try:
        return canonical_email(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError:
        raise ValidationFailed(fields={field: _l("This is not a valid e-mail address.")}) from None


def check_display_name(raw: str | None, field: str = "display_name") -> str:
    value = " ".join((raw or "").split())
    if not value:
        raise ValidationFailed(fields={field: _l("Please enter your name.")})
    if has_control_characters(value):
        raise ValidationFailed(fields={field: INVALID_TEXT})
    if len(value) > DISPLAY_NAME_MAX_LENGTH:
        raise ValidationFailed(fields={field: _l("Use at most %(max)s characters.", max=DISPLAY_NAME_MAX_LENGTH)})
    return value


def check_new_password(password: str | None, field: str = "password") -> str:
    problem = password_problem(password or "")
    if problem:
        raise ValidationFailed(fields={field: problem})
    return password or ""


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == canonical_email(email)))


def ensure_email_free(session: Session, email: str, field: str = "email") -> None:
    if find_user_by_email(session, email) is not None:
        raise ValidationFailed(fields={field: _l("An account with this e-mail address already exists.")})


# A hash to check against when the e-mail is unknown, so both answers take as long.
_dummy_hash_cache: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hash_cache:
        _dummy_hash_cache[method] = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash_cache[method]


@service
def authenticate(session: Session, actor: Actor, email: str, password: str) -> User:
    """The user with these credentials; the same error whether the e-mail is known or not."""
    authorize(actor, Action.ACCOUNT_LOG_IN)
    normalized = canonical_email(email)[:EMAIL_MAX_LENGTH]
    if has_control_characters(normalized):  # no account has such an address; the database may not take it
        normalized = replace_control_characters(normalized)
        user = None
    else:
        user = find_user_by_email(session, normalized)
    password_ok = verify_password(user.password_hash if user else _dummy_hash(), password or "")
    if user is None or not password_ok or user.is_disabled:
        # The attempt is audited although the call fails: after the rollback, in a unit of work of its own.
        after_rollback(session, lambda: _record_failed_login(session, user, normalized))
        raise ValidationFailed(INVALID_LOGIN, code="invalid_credentials")
    user.last_login_at = utcnow()
    record(session, "login.succeeded", user.id, user)
    return user


def _record_failed_login(session: Session, user: User | None, email: str) -> None:
    with unit_of_work(session):
        record(session, "login.failed", user.id if user else None, user, email=email)


@service
def log_out(session: Session, actor: Actor) -> None:
    """End every session and remember-me cookie of the user, not only this one."""
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    user = _own_user(session, actor)
    user.end_all_sessions()
    record(session, "logout", user.id, user)


@service
def change_password(session: Session, actor: Actor, current_password: str, new_password: str) -> User:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    user = _own_user(session, actor)
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed(fields={"current_password": _l("The current password is not correct.")})
    user.password_hash = hash_password(check_new_password(new_password, "new_password"))
    user.end_all_sessions()
    _revoke_all_api_tokens(session, user)
    record(session, "password.changed", user.id, user)
    return user


@service
def request_password_reset(session: Session, actor: Actor, email: str) -> None:
    """Mail a reset link if the account exists; the caller learns nothing either way."""
    authorize(actor, Action.ACCOUNT_LOG_IN)
    user = find_user_by_email(session, normalize_email(email))
    if user is None or user.is_disabled:
        record(session, "password_reset.requested_unknown", None, email=canonical_email(email)[:EMAIL_MAX_LENGTH])
        return
    secret, digest = new_secret()
    session.add(PasswordReset(user_id=user.id, token_hash=digest,
                              expires_at=utcnow() + current_app.config["PASSWORD_RESET_LIFETIME"]))
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        link = public_url("accounts.reset_password", token=secret)
        enqueue_mail(session, user.email, _("Reset your password"), _(
            "Someone asked to reset the password of your account on the Jing-Jin-Ji Innovation Exchange.\n"
            "Open this link within two hours to choose a new password:\n%(link)s\n"
            "If it was not you, ignore this message; your password stays as it is.", link=link))
    record(session, "password_reset.requested", user.id, user)


def _usable_single_use(session: Session, model: type[SingleUseTokenMixin], secret: str):  # type: ignore[no-untyped-def]
    token = session.scalar(sa.select(model).where(model.token_hash == hash_secret(secret or "")))
    if token is None or not token.is_usable(utcnow()):
        raise NotFound(_l("This link is invalid or has expired. Please ask for a new one."), code="invalid_token")
    return token


@service
def check_password_reset(session: Session, actor: Actor, secret: str) -> None:
    authorize(actor, Action.ACCOUNT_LOG_IN)
    _usable_single_use(session, PasswordReset, secret)


@service
def reset_password(session: Session, actor: Actor, secret: str, new_password: str) -> User:
    authorize(actor, Action.ACCOUNT_LOG_IN)
    reset = _usable_single_use(session, PasswordReset, secret)
    password = check_new_password(new_password)
    reset.used_at = utcnow()
    user = reset.user
    user.password_hash = hash_password(password)
    user.end_all_sessions()
    _revoke_all_api_tokens(session, user)
    record(session, "password.reset", user.id, user)
    return user


@service
def own_profile(session: Session, actor: Actor) -> User:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    return _own_user(session, actor)


@service
def set_locale(session: Session, actor: Actor, locale: str) -> None:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    user = _own_user(session, actor)
    user.locale = locale


# API tokens ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@service
def create_api_token(session: Session, actor: Actor, name: str | None) -> IssuedToken:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    user = _own_user(session, actor)
    clean_name = " ".join((name or "").split()) or _("API token")
    if len(clean_name) > TOKEN_NAME_MAX_LENGTH:
        raise ValidationFailed(fields={"name": _l("Use at most %(max)s characters.", max=TOKEN_NAME_MAX_LENGTH)})
    if has_control_characters(clean_name):
        raise ValidationFailed(fields={"name": INVALID_TEXT})
    secret, digest = new_secret()
    token = ApiToken(user_id=user.id, name=clean_name, token_hash=digest, prefix=secret[:8],
                     expires_at=utcnow() + current_app.config["API_TOKEN_LIFETIME"])
    session.add(token)
    session.flush()
    record(session, "api_token.created", user.id, token)
    return IssuedToken(token=token, secret=secret)


@service
def list_api_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    return list(session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


@service
def revoke_api_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, "api_token.revoked", actor.id, token)
    return token


def _revoke_all_api_tokens(session: Session, user: User) -> None:
    """A new password or a disabled account ends the user's tokens as it ends their sessions:
    whoever held the old password may have bought one."""
    session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def user_for_api_token(session: Session, secret: str) -> User | None:
    """The active user a bearer token belongs to, or None for a bad, expired or revoked one."""
    if not secret or len(secret) > 200:
        return None
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    now = utcnow()
    if token is None or not token.is_usable(now) or token.user.is_disabled:
        return None
    with unit_of_work(session):
        token.last_used_at = now
    return token.user


def user_for_session(session: Session, session_user_id: str) -> User | None:
    """The user a session or remember-me cookie names, if its session version is still current
    and its login is younger than the longest lifetime of either (see User.get_id)."""
    parts = (session_user_id or "").split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    user_id, version, logged_in_at = parts
    config = current_app.config
    lifetime = max(config["REMEMBER_COOKIE_DURATION"], config["SESSION_ABSOLUTE_LIFETIME"])
    if utcnow().timestamp() - int(logged_in_at) > lifetime.total_seconds():
        return None
    user = session.get(User, int(user_id))
    if user is None or user.is_disabled or user.session_version != int(version):
        return None
    return user


# Administration -------------------------------------------------------------------------

ADMIN_ROLES = (Role.REGIONAL_ADMIN, Role.PLATFORM_ADMIN)


@service
def create_user(session: Session, actor: Actor, *, email: str, display_name: str, password: str,
                role: Role, region_code: str | None = None, organization: Organization | None = None,
                is_org_owner: bool = False) -> User:
    """Create an account: platform operators (and the CLI, acting as one) only."""
    authorize(actor, Action.USER_ADMINISTER)
    errors = {}
    if role is Role.VISITOR:
        errors["role"] = _l("A visitor has no account.")
    elif role is Role.REGIONAL_ADMIN and not region_code:
        errors["region"] = _l("A regional administrator needs a region.")
    elif role.is_member:
        if organization is None:
            errors["org"] = _l("A member needs an organisation.")
        elif MEMBER_ROLE_BY_KIND[organization.kind] is not role:
            errors["role"] = _l("This role does not fit the organisation's kind.")
        else:
            region_code = organization.region_code
    if errors:
        raise ValidationFailed(fields=errors)
    normalized = normalize_email(email)
    ensure_email_free(session, normalized)
    user = User(email=normalized, display_name=check_display_name(display_name),
                password_hash=hash_password(check_new_password(password)), role=role,
                region_code=region_code if role is not Role.PLATFORM_ADMIN else None,
                organization_id=organization.id if organization else None, is_org_owner=is_org_owner)
    session.add(user)
    session.flush()
    record(session, "user.created", actor.id, user, role=role.value, region=region_code)
    return user


@service
def set_user_disabled(session: Session, actor: Actor, user_id: int, disabled: bool) -> User:
    authorize(actor, Action.USER_ADMINISTER)
    user = _user_or_404(session, user_id)
    if user.id == actor.id:
        raise Conflict(_l("You cannot disable your own account."))
    user.is_disabled = disabled
    user.end_all_sessions()
    if disabled:
        _revoke_all_api_tokens(session, user)
    record(session, "user.disabled" if disabled else "user.enabled", actor.id, user)
    return user


@service
def set_user_role(session: Session, actor: Actor, user_id: int, role: Role, region_code: str | None) -> User:
    authorize(actor, Action.USER_ADMINISTER)
    user = _user_or_404(session, user_id)
    if role not in ADMIN_ROLES or user.role not in ADMIN_ROLES:
        raise Forbidden(_l("Only administrator roles can be changed here."))
    if role is Role.REGIONAL_ADMIN and not region_code:
        raise ValidationFailed(fields={"region": _l("A regional administrator needs a region.")})
    user.role = role
    user.region_code = region_code if role is Role.REGIONAL_ADMIN else None
    user.end_all_sessions()
    record(session, "user.role_changed", actor.id, user, role=role.value, region=region_code)
    return user


def _user_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def _own_user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.id) if actor.id is not None else None
    if user is None:
        raise NotFound()
    return user


def system_actor() -> Actor:
    """The actor the command line acts as: a platform operator without an account."""
    return SystemActor()


class SystemActor:
    id = None
    role = Role.PLATFORM_ADMIN
    region_code = None
    organization_id = None
    is_authenticated = True
    is_regional_admin = False
    is_platform_admin = True
    is_org_owner = False

    def administers(self, region_code: str) -> bool:
        return False

    def belongs_to(self, organization_id: int | None) -> bool:
        return False
