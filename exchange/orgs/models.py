"""Organisations: the enterprises, SMEs, institutes and providers that members act for."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import Base, TimestampMixin, enum_column
from exchange.taxonomy.models import District, Region

if TYPE_CHECKING:
    from exchange.accounts.models import User


class OrganizationKind(enum.StrEnum):
    ENTERPRISE = "enterprise"
    SME = "sme"
    INSTITUTE = "institute"
    PROVIDER = "provider"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    OrganizationKind.ENTERPRISE: _l("Enterprise"),
    OrganizationKind.SME: _l("Small or micro enterprise / start-up team"),
    OrganizationKind.INSTITUTE: _l("University or research institute"),
    OrganizationKind.PROVIDER: _l("Service provider"),
}


class OrganizationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    OrganizationStatus.PENDING: _l("Pending review"),
    OrganizationStatus.APPROVED: _l("Approved"),
    OrganizationStatus.REJECTED: _l("Rejected"),
}

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
WEBSITE_MAX_LENGTH = 300
REASON_MAX_LENGTH = 1000


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX_LENGTH))
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    kind: Mapped[OrganizationKind] = mapped_column(enum_column(OrganizationKind, "organization_kind"))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    website: Mapped[str] = mapped_column(sa.String(WEBSITE_MAX_LENGTH), default="")
    status: Mapped[OrganizationStatus] = mapped_column(
        enum_column(OrganizationStatus, "organization_status"), default=OrganizationStatus.PENDING, index=True
    )
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", use_alter=True))
    reviewed_at: Mapped[datetime | None]

    region: Mapped[Region] = relationship()
    district: Mapped[District] = relationship()
    members: Mapped[list[User]] = relationship(
        back_populates="organization", foreign_keys="User.organization_id", order_by="User.id"
    )

    @property
    def is_approved(self) -> bool:
        return self.status is OrganizationStatus.APPROVED
