"""The public history of an entry shows what happened and in which role, not who (issue 15 item 3):
names of the officials and members who acted only for the owning organisation and the admins."""
from __future__ import annotations

from typing import Any

import pytest

from exchange.accounts.models import User, Visitor
from tests import factories

VIEWERS = ["anonymous", "other_member", "admin_other", "owner", "colleague", "admin_same", "platform"]
SEES_NAMES = {"owner", "colleague", "admin_same", "platform"}


@pytest.fixture
def published(db: Any) -> dict[str, Any]:
    entry = factories.entry(db, "achievement", region="TJ", status="approved")
    owner = db.get(User, entry.created_by_id)
    viewers = {
        "other_member": factories.organization(db, region="TJ").owner,
        "admin_other": factories.admin(db, "BJ"),
        "owner": owner,
        "colleague": factories.member(db, owner.organization),
        "admin_same": factories.region_admin(db, "TJ"),
        "platform": factories.platform_admin(db),
    }
    tokens = {name: factories.api_token(db, user) for name, user in viewers.items()}
    db.commit()
    return {"id": entry.id, "tokens": tokens,
            "names": {owner.display_name, factories.region_admin(db, "TJ").display_name}}


def history_as(client: Any, published: dict[str, Any], viewer: str) -> Any:
    headers = {} if viewer == "anonymous" else {"Authorization": f"Bearer {published['tokens'][viewer]}"}
    return client.get(f"/api/v1/achievements/{published['id']}/history", headers=headers)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_api_history_names_the_people_only_for_the_parties_and_the_admins(app, published, viewer):
    answer = history_as(app.test_client(), published, viewer)

    assert answer.status_code == 200
    events = answer.get_json()
    assert [(event["action"], event["actor_role"]) for event in events] == [
        ("create", "institute_member"), ("submit", "institute_member"), ("approve", "regional_admin")]
    assert all(event["occurred_at"] for event in events)
    shown_names = {event["actor"] for event in events}
    if viewer in SEES_NAMES:
        assert shown_names == published["names"]
    else:
        assert shown_names == {None}
        assert not any(name in answer.get_data(as_text=True) for name in published["names"])


def test_the_service_decides_it_for_the_page_too(app, db, published):
    from exchange.catalog.models import EntryKind
    from exchange.catalog.services import entry_history

    public = entry_history(db, Visitor(), EntryKind.ACHIEVEMENT, published["id"])

    assert [event.actor_name for event in public] == [None, None, None]
    assert [event.actor_role.value for event in public] == ["institute_member", "institute_member", "regional_admin"]
