"""What the home page tells: what the portal holds in each region."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.orgs.models import Organization, OrganizationKind, OrganizationStatus
from exchange.policy import Actor, mark_checked, service
from exchange.taxonomy.models import Region
from exchange.taxonomy.services import list_regions


@dataclass
class RegionOverview:
    region: Region
    organizations_by_kind: dict[OrganizationKind, int] = field(default_factory=dict)

    @property
    def organizations(self) -> int:
        return sum(self.organizations_by_kind.values())


@service
def portal_overview(session: Session, actor: Actor) -> list[RegionOverview]:
    """Approved organisations per region and kind: public figures, the same for everyone."""
    mark_checked()
    counts: dict[str, dict[OrganizationKind, int]] = defaultdict(dict)
    rows = session.execute(
        sa.select(Organization.region_code, Organization.kind, sa.func.count())
        .where(Organization.status == OrganizationStatus.APPROVED)
        .group_by(Organization.region_code, Organization.kind)
    )
    for region_code, kind, count in rows:
        counts[region_code][kind] = count
    return [RegionOverview(region, {kind: counts[region.code].get(kind, 0) for kind in OrganizationKind})
            for region in list_regions(session)]
