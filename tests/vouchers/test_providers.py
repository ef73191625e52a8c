"""What the provider services return to whom."""
from __future__ import annotations

from exchange.accounts.models import Visitor
from exchange.vouchers import providers
from tests import factories


def test_only_the_providers_reviewers_get_its_objections(db):
    provider = factories.provider(db, "TJ", status="in_notice")
    org_id = provider.organization.id
    objector = factories.organization(db, kind="sme", region="BJ").owner
    providers.object_to_provider(db, objector, org_id, "资质证书已过期。")
    reviewer = factories.region_admin(db, "TJ")
    assert [o.text for o in providers.get_provider(db, reviewer, org_id).objections] == ["资质证书已过期。"]
    for viewer in (Visitor(), objector, provider.owner, factories.admin(db, "BJ"), factories.platform_admin(db)):
        assert providers.get_provider(db, viewer, org_id).objections == [], viewer
