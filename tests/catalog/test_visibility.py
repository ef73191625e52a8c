"""No entry ever appears to someone who may not see it: lists, details, exports and the API agree."""
from __future__ import annotations

import pytest

from exchange.accounts.models import Visitor
from exchange.catalog import services
from exchange.catalog.models import EntryKind, EntryStatus
from exchange.errors import NotFound
from exchange.pagination import PageRequest
from tests import factories

VIEWERS = ["anonymous", "owner", "admin_same", "admin_other", "other_member"]


def may_see(viewer: str, status: str) -> bool:
    """The rule, written out: the public sees published entries, the owner all of theirs,
    the region's admin everything submitted, another region's admin what is published."""
    if viewer == "owner":
        return True
    if viewer == "admin_same":
        return status != "draft"
    return status == "approved"


@pytest.mark.parametrize("kind", [kind.value for kind in EntryKind])
def test_every_kind_state_and_viewer(db, kind):
    owner = factories.organization(db, kind=factories.ENTRY_OWNER_KIND[kind], region="HE").owner
    entries = {status.value: factories.entry(db, kind, status=status.value, owner=owner) for status in EntryStatus}
    viewers = {"anonymous": Visitor(), "owner": owner, "admin_same": factories.region_admin(db, "HE"),
               "admin_other": factories.admin(db, "BJ"),
               "other_member": factories.organization(db, kind="enterprise", region="HE").owner}
    entry_kind = EntryKind(kind)
    for name, viewer in viewers.items():
        listed = {view.entry.id for view in services.list_entries(
            db, viewer, entry_kind, services.EntryFilters(), PageRequest(per_page=100)).items}
        expected = {entry.id for status, entry in entries.items() if may_see(name, status)}
        assert listed == expected, name
        for status, entry in entries.items():
            if may_see(name, status):
                assert services.get_entry(db, viewer, entry_kind, entry.id).entry.id == entry.id
            else:
                with pytest.raises(NotFound):
                    services.get_entry(db, viewer, entry_kind, entry.id)


def test_the_public_never_sees_personal_contact_data(app, db):
    expert = factories.entry(db, "expert", region="BJ")
    client = app.test_client()
    page = client.get(f"/experts/{expert.id}").get_data(as_text=True)
    api = client.get(f"/api/v1/experts/{expert.id}").get_json()
    csv = client.get("/experts/export.csv").get_data(as_text=True)
    for secret in ("13912345678", "wang.lixin@example.edu.cn", "11010519491231002X"):
        assert secret not in page and secret not in csv and secret not in str(api)
    assert "phone" not in api and "id_number" not in api


def test_the_owner_and_the_regions_admin_see_the_contact_data(browser, db):
    expert = factories.entry(db, "expert", region="BJ")
    admin = factories.region_admin(db, "BJ")
    browser.login(admin.email, factories.PASSWORD)
    assert "13912345678" in browser.get(f"/experts/{expert.id}").get_data(as_text=True)


def test_the_services_return_contact_data_only_to_those_who_may_see_it(db):
    owner = factories.organization(db, kind="institute", region="BJ").owner
    expert = factories.entry(db, "expert", region="BJ", owner=owner)
    private = {"phone", "email", "id_number"}
    viewers = [(Visitor(), False), (factories.admin(db, "TJ"), False), (owner, True),
               (factories.region_admin(db, "BJ"), True), (factories.platform_admin(db), True)]
    for viewer, sees in viewers:
        detail = services.get_entry(db, viewer, EntryKind.EXPERT, expert.id)
        [listed] = services.list_entries(db, viewer, EntryKind.EXPERT, services.EntryFilters(), PageRequest()).items
        for view in (detail, listed):
            assert bool(private & {f.name for f in view.fields}) is sees, viewer


def test_a_list_page_costs_the_same_number_of_queries_at_10_and_at_100_items(app, db):
    from tests.query_counter import count_queries

    owner = factories.organization(db, kind="institute", region="TJ").owner
    for _ in range(12):
        factories.entry(db, "achievement", owner=owner)
    client = app.test_client()
    for url in ("/achievements?per_page={n}", "/api/v1/achievements?per_page={n}"):
        with count_queries(app) as ten:
            assert client.get(url.format(n=10)).status_code == 200
        with count_queries(app) as hundred:
            assert client.get(url.format(n=100)).status_code == 200
        assert ten.count == hundred.count, url
