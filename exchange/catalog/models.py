"""The five shared libraries: one `entries` table for what all kinds share, one table per kind."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import ENUM_LABELS, Base, LabelledEnum, TimestampMixin, enum_column, utcnow
from exchange.orgs.models import Organization, OrganizationKind
from exchange.taxonomy.models import District, Region, TechnologyField

if TYPE_CHECKING:
    from exchange.accounts.models import User


class EntryKind(LabelledEnum):
    ACHIEVEMENT = "achievement"
    NEED = "need"
    EXPERT = "expert"
    TALENT = "talent"
    PROJECT = "project"

    @property
    def plural(self) -> str:
        return f"{self.value}s"


_INSTITUTES = frozenset({OrganizationKind.INSTITUTE})
_FIRMS = frozenset({OrganizationKind.ENTERPRISE, OrganizationKind.SME})
_PROVIDERS = frozenset({OrganizationKind.PROVIDER})  # key labs and testing centres have experts too

# Which kinds of organisation may publish which kind of entry: a rule of the policy, kept beside the
# models so that the policy reads it without importing the forms and schemas of `specs`.
PUBLISHERS: dict[EntryKind, frozenset[OrganizationKind]] = {
    EntryKind.ACHIEVEMENT: _INSTITUTES,
    EntryKind.NEED: _FIRMS,
    EntryKind.EXPERT: _INSTITUTES | _PROVIDERS,
    EntryKind.TALENT: _FIRMS | _INSTITUTES,
    EntryKind.PROJECT: _FIRMS | _INSTITUTES,
}


class EntryStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ARCHIVED = "archived"


class Maturity(LabelledEnum):
    RESEARCH = "research"
    PILOT = "pilot"
    INTERMEDIATE = "intermediate"
    INDUSTRIAL = "industrial"


class CooperationMode(LabelledEnum):
    TRANSFER = "transfer"
    LICENSE = "license"
    EQUITY = "equity"
    JOINT_DEVELOPMENT = "joint_development"
    TECHNICAL_SERVICE = "technical_service"


class IpType(LabelledEnum):
    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"
    NONE = "none"


class IpStatus(LabelledEnum):
    GRANTED = "granted"
    PENDING = "pending"
    NONE = "none"


class TitleRank(LabelledEnum):
    SENIOR = "senior"
    ASSOCIATE_SENIOR = "associate_senior"
    INTERMEDIATE = "intermediate"
    OTHER = "other"


class Education(LabelledEnum):
    DOCTORATE = "doctorate"
    MASTER = "master"
    BACHELOR = "bachelor"
    COLLEGE = "college"
    OTHER = "other"


class WantedRegion(LabelledEnum):
    BJ = "BJ"
    TJ = "TJ"
    HE = "HE"
    ANY = "any"


class ProjectStatus(LabelledEnum):
    ONGOING = "ongoing"
    COMPLETED = "completed"


LABELS: dict[tuple[type, str], Any] = {
    (EntryKind, EntryKind.ACHIEVEMENT.value): _l("Achievement"),
    (EntryKind, EntryKind.NEED.value): _l("Technology need"),
    (EntryKind, EntryKind.EXPERT.value): _l("Expert"),
    (EntryKind, EntryKind.TALENT.value): _l("Talent"),
    (EntryKind, EntryKind.PROJECT.value): _l("Project"),
    (EntryStatus, EntryStatus.DRAFT.value): _l("Draft"),
    (EntryStatus, EntryStatus.SUBMITTED.value): _l("Submitted for review"),
    (EntryStatus, EntryStatus.APPROVED.value): _l("Published"),
    (EntryStatus, EntryStatus.REJECTED.value): _l("Rejected"),
    (EntryStatus, EntryStatus.WITHDRAWN.value): _l("Withdrawn"),
    (EntryStatus, EntryStatus.ARCHIVED.value): _l("Archived"),
    (Maturity, Maturity.RESEARCH.value): _l("Research (研发)"),
    (Maturity, Maturity.PILOT.value): _l("Small-scale trial (小试)"),
    (Maturity, Maturity.INTERMEDIATE.value): _l("Pilot production (中试)"),
    (Maturity, Maturity.INDUSTRIAL.value): _l("Industrialised (产业化)"),
    (CooperationMode, CooperationMode.TRANSFER.value): _l("Transfer"),
    (CooperationMode, CooperationMode.LICENSE.value): _l("Licence"),
    (CooperationMode, CooperationMode.EQUITY.value): _l("Equity investment"),
    (CooperationMode, CooperationMode.JOINT_DEVELOPMENT.value): _l("Joint development"),
    (CooperationMode, CooperationMode.TECHNICAL_SERVICE.value): _l("Technical service"),
    (IpType, IpType.INVENTION.value): _l("Invention patent"),
    (IpType, IpType.UTILITY_MODEL.value): _l("Utility model"),
    (IpType, IpType.DESIGN.value): _l("Design patent"),
    (IpType, IpType.NONE.value): _l("No patent"),
    (IpStatus, IpStatus.GRANTED.value): _l("Granted"),
    (IpStatus, IpStatus.PENDING.value): _l("Application pending"),
    (IpStatus, IpStatus.NONE.value): _l("Not applicable"),
    (TitleRank, TitleRank.SENIOR.value): _l("Senior (正高)"),
    (TitleRank, TitleRank.ASSOCIATE_SENIOR.value): _l("Associate senior (副高)"),
    (TitleRank, TitleRank.INTERMEDIATE.value): _l("Intermediate (中级)"),
    (TitleRank, TitleRank.OTHER.value): _l("Other"),
    (Education, Education.DOCTORATE.value): _l("Doctorate"),
    (Education, Education.MASTER.value): _l("Master's degree"),
    (Education, Education.BACHELOR.value): _l("Bachelor's degree"),
    (Education, Education.COLLEGE.value): _l("College diploma"),
    (Education, Education.OTHER.value): _l("Other"),
    (WantedRegion, WantedRegion.BJ.value): _l("Beijing"),
    (WantedRegion, WantedRegion.TJ.value): _l("Tianjin"),
    (WantedRegion, WantedRegion.HE.value): _l("Hebei"),
    (WantedRegion, WantedRegion.ANY.value): _l("Any of the three regions"),
    (ProjectStatus, ProjectStatus.ONGOING.value): _l("Ongoing"),
    (ProjectStatus, ProjectStatus.COMPLETED.value): _l("Completed"),
}
ENUM_LABELS.update(LABELS)

TITLE_MAX_LENGTH = 200
SUMMARY_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 1000


class Entry(TimestampMixin, Base):
    """What every library entry has: owner, place, field, lifecycle."""

    __tablename__ = "entries"
    __table_args__ = (
        sa.Index("ix_entries_kind_status_region", "kind", "status", "region_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, "entry_kind"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    field_code: Mapped[str] = mapped_column(sa.ForeignKey("technology_fields.code"), index=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX_LENGTH))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    keywords: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, "entry_status"),
                                                default=EntryStatus.DRAFT)
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    reviewed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    region: Mapped[Region] = relationship()
    district: Mapped[District] = relationship()
    field: Mapped[TechnologyField] = relationship()
    modes: Mapped[list[EntryMode]] = relationship(cascade="all, delete-orphan", order_by="EntryMode.mode")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Attachment.id")

    __mapper_args__ = {"polymorphic_on": "kind"}

    @property
    def mode_values(self) -> list[CooperationMode]:
        return [m.mode for m in self.modes]

    @mode_values.setter
    def mode_values(self, values: list[CooperationMode]) -> None:
        wanted = list(dict.fromkeys(values))
        self.modes = [m for m in self.modes if m.mode in wanted] + [
            EntryMode(mode=mode) for mode in wanted if mode not in {m.mode for m in self.modes}]


class EntryMode(Base):
    """Transfer modes an achievement offers, or cooperation modes a need wants: filterable rows."""

    __tablename__ = "entry_modes"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[CooperationMode] = mapped_column(enum_column(CooperationMode, "cooperation_mode"),
                                                  primary_key=True)


class Achievement(Entry):
    __tablename__ = "achievements"
    __mapper_args__ = {"polymorphic_identity": EntryKind.ACHIEVEMENT}

    id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    maturity: Mapped[Maturity] = mapped_column(enum_column(Maturity, "maturity"), index=True)
    trl: Mapped[int | None]
    ip_type: Mapped[IpType] = mapped_column(enum_column(IpType, "ip_type"), default=IpType.NONE)
    ip_status: Mapped[IpStatus] = mapped_column(enum_column(IpStatus, "ip_status"), default=IpStatus.NONE)
    patents: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    price_fen: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)  # None: 面议
    application_scenarios: Mapped[str] = mapped_column(sa.Text, default="")


class Need(Entry):
    __tablename__ = "needs"
    __mapper_args__ = {"polymorphic_identity": EntryKind.NEED}

    id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    budget_min_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)  # both None: 面议
    deadline: Mapped[date]
    required_maturity: Mapped[Maturity] = mapped_column(enum_column(Maturity, "maturity"))


class PrivateContactMixin:
    """Personal contact data: never shown to the public (see catalog.services.contact_visible)."""

    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")


class Expert(PrivateContactMixin, Entry):
    __tablename__ = "experts"
    __mapper_args__ = {"polymorphic_identity": EntryKind.EXPERT}

    id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    title_rank: Mapped[TitleRank] = mapped_column(enum_column(TitleRank, "title_rank"))
    position: Mapped[str] = mapped_column(sa.String(100), default="")
    other_fields: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    available_for_consulting: Mapped[bool] = mapped_column(default=False)
    available_for_review: Mapped[bool] = mapped_column(default=False)
    id_number: Mapped[str] = mapped_column(sa.String(18), default="")


class Talent(PrivateContactMixin, Entry):
    __tablename__ = "talents"
    __mapper_args__ = {"polymorphic_identity": EntryKind.TALENT}

    id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    person_name: Mapped[str] = mapped_column(sa.String(100))
    is_team: Mapped[bool] = mapped_column(default=False)
    skills: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    education: Mapped[Education] = mapped_column(enum_column(Education, "education"))
    experience_years: Mapped[int] = mapped_column(default=0)
    wanted_region: Mapped[WantedRegion] = mapped_column(enum_column(WantedRegion, "wanted_region"),
                                                        default=WantedRegion.ANY)
    wanted_role: Mapped[str] = mapped_column(sa.String(100), default="")


project_partners = sa.Table(
    "project_partners", Base.metadata,
    sa.Column("project_id", sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organizations.id"), primary_key=True),
)

project_outcomes = sa.Table(
    "project_outcomes", Base.metadata,
    sa.Column("project_id", sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("achievement_id", sa.ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True),
)


class Project(Entry):
    __tablename__ = "projects"
    __mapper_args__ = {"polymorphic_identity": EntryKind.PROJECT}

    id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    programme: Mapped[str] = mapped_column(sa.String(200))
    budget_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    start_date: Mapped[date]
    end_date: Mapped[date]
    project_status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus, "project_status"))

    partners: Mapped[list[Organization]] = relationship(secondary=project_partners, order_by=Organization.name)
    outcomes: Mapped[list[Achievement]] = relationship(secondary=project_outcomes,
                                                       primaryjoin=lambda: Project.id == project_outcomes.c.project_id,
                                                       secondaryjoin=lambda: Achievement.id == project_outcomes.c.achievement_id)


ENTRY_MODELS: dict[EntryKind, type[Entry]] = {
    EntryKind.ACHIEVEMENT: Achievement,
    EntryKind.NEED: Need,
    EntryKind.EXPERT: Expert,
    EntryKind.TALENT: Talent,
    EntryKind.PROJECT: Project,
}


class EntryEvent(Base):
    """The audit trail of one entry: who moved it from which state to which, when and why."""

    __tablename__ = "entry_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(20))
    from_status: Mapped[EntryStatus | None] = mapped_column(enum_column(EntryStatus, "entry_status"))
    to_status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, "entry_status"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    # What the entry said when it was submitted, so that a reviewer sees what changed.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="attachments")
