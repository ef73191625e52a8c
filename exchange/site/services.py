"""What the home page tells: what the portal holds in each region."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.catalog.models import Entry, EntryKind, EntryStatus
from exchange.orgs.models import Organization, OrganizationKind, OrganizationStatus
from exchange.policy import Actor, mark_checked
from exchange.taxonomy.models import Region
from exchange.taxonomy.services import list_regions
from exchange.unit_of_work import service


@dataclass
class RegionOverview:
    region: Region
    organizations_by_kind: dict[OrganizationKind, int] = field(default_factory=dict)
    entries_by_kind: dict[EntryKind, int] = field(default_factory=dict)

    @property
    def organizations(self) -> int:
        return sum(self.organizations_by_kind.values())


@service
def portal_overview(session: Session, actor: Actor) -> list[RegionOverview]:
    """Approved organisations and published entries per region and kind: public figures."""
    mark_checked()
    organizations: dict[str, dict[OrganizationKind, int]] = defaultdict(dict)
    for region_code, kind, count in session.execute(
        sa.select(Organization.region_code, Organization.kind, sa.func.count())
        .where(Organization.status == OrganizationStatus.APPROVED)
        .group_by(Organization.region_code, Organization.kind)
    ):
        organizations[region_code][kind] = count
    entries: dict[str, dict[EntryKind, int]] = defaultdict(dict)
    for region_code, kind, count in session.execute(
        sa.select(Entry.region_code, Entry.kind, sa.func.count()).where(Entry.status == EntryStatus.APPROVED)
        .group_by(Entry.region_code, Entry.kind)
    ):
        entries[region_code][kind] = count
    return [RegionOverview(region, {kind: organizations[region.code].get(kind, 0) for kind in OrganizationKind},
                           {kind: entries[region.code].get(kind, 0) for kind in EntryKind})
            for region in list_regions(session)]
