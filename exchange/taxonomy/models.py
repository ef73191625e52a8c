"""Regions, their districts, and technology fields: reference data kept in seed/, not code."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import Base


class LocalizedNameMixin:
    name_zh: Mapped[str] = mapped_column(sa.String(60))
    name_en: Mapped[str] = mapped_column(sa.String(120))

    @property
    def name(self) -> str:
        locale = get_locale()
        if locale is not None and locale.language == "en":
            return self.name_en
        return self.name_zh


class Region(LocalizedNameMixin, Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    gb_code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    position: Mapped[int] = mapped_column(default=0)

    districts: Mapped[list[District]] = relationship(
        back_populates="region", order_by="District.position"
    )


class District(LocalizedNameMixin, Base):
    __tablename__ = "districts"
    __table_args__ = (sa.UniqueConstraint("region_code", "name_zh", name="region_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    region: Mapped[Region] = relationship(back_populates="districts")


class TechnologyField(LocalizedNameMixin, Base):
    """A technology field (level 1) or sub-field (level 2, with a parent)."""

    __tablename__ = "technology_fields"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("technology_fields.code"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    children: Mapped[list[TechnologyField]] = relationship(order_by="TechnologyField.position")
