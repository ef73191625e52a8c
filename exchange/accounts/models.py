"""Users, their API tokens and single-use tokens (password reset, invitation)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import Base, TimestampMixin, enum_column, utcnow
from exchange.orgs.models import OrganizationKind

if TYPE_CHECKING:
    from exchange.orgs.models import Organization


class Role(enum.StrEnum):
    VISITOR = "visitor"
    ENTERPRISE_MEMBER = "enterprise_member"
    INSTITUTE_MEMBER = "institute_member"
    SME_MEMBER = "sme_member"
    PROVIDER_MEMBER = "provider_member"
    REGIONAL_ADMIN = "regional_admin"
    PLATFORM_ADMIN = "platform_admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_member(self) -> bool:
        return self in MEMBER_ROLE_BY_KIND.values()


ROLE_LABELS = {
    Role.VISITOR: _l("Visitor"),
    Role.ENTERPRISE_MEMBER: _l("Enterprise member"),
    Role.INSTITUTE_MEMBER: _l("Institute member"),
    Role.SME_MEMBER: _l("SME member"),
    Role.PROVIDER_MEMBER: _l("Service provider member"),
    Role.REGIONAL_ADMIN: _l("Regional administrator"),
    Role.PLATFORM_ADMIN: _l("Platform administrator"),
}

MEMBER_ROLE_BY_KIND = {
    OrganizationKind.ENTERPRISE: Role.ENTERPRISE_MEMBER,
    OrganizationKind.SME: Role.SME_MEMBER,
    OrganizationKind.INSTITUTE: Role.INSTITUTE_MEMBER,
    OrganizationKind.PROVIDER: Role.PROVIDER_MEMBER,
}

EMAIL_MAX_LENGTH = 254
DISPLAY_NAME_MAX_LENGTH = 100
PASSWORD_MAX_LENGTH = 1024


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(DISPLAY_NAME_MAX_LENGTH))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    is_org_owner: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # Bumped by logout, password change, disabling and role change: every session and
    # remember-me cookie carries the version it was issued with and dies when it moves on.
    session_version: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    last_login_at: Mapped[datetime | None]

    organization: Mapped[Organization | None] = relationship(
        back_populates="members", foreign_keys=[organization_id]
    )

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return not self.is_disabled

    def get_id(self) -> str:
        # Called by login_user: the session and the remember-me cookie name the user, the session
        # version and the login time, so that the loader can refuse a cookie past its lifetime.
        return f"{self.id}:{self.session_version}:{int(utcnow().timestamp())}"

    def end_all_sessions(self) -> None:
        self.session_version += 1

    @property
    def is_regional_admin(self) -> bool:
        return self.role is Role.REGIONAL_ADMIN

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN

    def administers(self, region_code: str) -> bool:
        return self.is_regional_admin and self.region_code == region_code

    def belongs_to(self, organization_id: int | None) -> bool:
        return organization_id is not None and self.organization_id == organization_id


class Visitor(AnonymousUserMixin):
    """The anonymous actor: same attributes as a user, with no rights of its own."""

    id = None
    role = Role.VISITOR
    region_code = None
    organization_id = None
    organization = None
    is_org_owner = False
    is_regional_admin = False
    is_platform_admin = False
    display_name = ""

    def administers(self, region_code: str) -> bool:
        return False

    def belongs_to(self, organization_id: int | None) -> bool:
        return False


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class SingleUseTokenMixin:
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


class PasswordReset(SingleUseTokenMixin, Base):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    user: Mapped[User] = relationship()


class Invitation(SingleUseTokenMixin, Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX_LENGTH))
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
