"""The lifecycle of entries: every (state, action, role) combination answers as the table says."""
from __future__ import annotations

import pytest

from exchange.accounts.models import Visitor
from exchange.catalog.lifecycle import TRANSITIONS
from exchange.catalog.models import EntryEvent, EntryStatus
from exchange.catalog.services import change_status, entry_history
from exchange.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from tests import factories

STATES = [status.value for status in EntryStatus]
ROLES = ["owner", "colleague", "other_member", "admin_same", "admin_other", "platform", "anonymous"]

# Who may do what, from which states: the specification of the lifecycle.
ALLOWED = {
    ("owner", "submit"): {"draft", "rejected", "withdrawn"},
    ("owner", "withdraw"): {"submitted", "approved"},
    ("owner", "revise"): {"withdrawn"},
    ("owner", "archive"): {"approved", "withdrawn"},
    ("admin_same", "approve"): {"submitted"},
    ("admin_same", "reject"): {"submitted"},
    ("admin_same", "archive"): {"approved", "withdrawn"},
}
# A colleague of the owner's organisation may do whatever the owner may.
ALLOWED |= {("colleague", action): states for (role, action), states in list(ALLOWED.items()) if role == "owner"}
TARGET = {name: transition.target.value for name, transition in TRANSITIONS.items()}


def visible(role: str, state: str) -> bool:
    return (state == "approved" or role in ("owner", "colleague", "platform")
            or (role == "admin_same" and state != "draft"))


def expected(role: str, action: str, state: str) -> object:
    states = ALLOWED.get((role, action))
    if states is not None:
        return TARGET[action] if state in states else Conflict
    if not visible(role, state):
        return Forbidden if role.startswith("admin") else NotFound  # officials may know it exists
    return NotAuthenticated if role == "anonymous" else Forbidden


@pytest.mark.parametrize("state", STATES)
def test_every_action_by_every_role_in_this_state(db, state):
    owner = factories.organization(db, kind="institute", region="TJ").owner
    actors = {
        "owner": owner,
        "colleague": factories.member(db, owner.organization),
        "other_member": factories.organization(db, kind="institute", region="TJ").owner,
        "admin_same": factories.region_admin(db, "TJ"),
        "admin_other": factories.admin(db, "HE"),
        "platform": factories.platform_admin(db),
        "anonymous": Visitor(),
    }
    surprises = []
    for action in TRANSITIONS:
        for role in ROLES:
            entry = factories.entry(db, "achievement", status=state, owner=owner)
            want = expected(role, action, state)
            try:
                changed = change_status(db, actors[role], None, entry.id, action, "不符合发布要求")
                got: object = changed.status.value
            except (Conflict, Forbidden, NotFound, NotAuthenticated) as error:
                db.rollback()
                got = type(error)
            if got != want:
                surprises.append(f"{role} {action} from {state}: expected {want}, got {got}")
    assert surprises == []


def test_every_transition_is_recorded_with_who_when_and_why(db):
    entry = factories.entry(db, "need", region="HE", status="rejected")
    history = entry_history(db, factories.region_admin(db, "HE"), None or entry.kind, entry.id)
    assert [(e.action, e.from_status, e.to_status) for e in history] == [
        ("create", None, EntryStatus.DRAFT),
        ("submit", EntryStatus.DRAFT, EntryStatus.SUBMITTED),
        ("reject", EntryStatus.SUBMITTED, EntryStatus.REJECTED),
    ]
    assert history[-1].reason == "资料不完整，请补充检测报告。" and history[-1].actor_role.value == "regional_admin"
    assert all(e.occurred_at.tzinfo is not None for e in history)


def test_a_rejection_needs_a_reason(db):
    from exchange.errors import ValidationFailed

    entry = factories.entry(db, "achievement", region="BJ", status="submitted")
    with pytest.raises(ValidationFailed):
        change_status(db, factories.region_admin(db, "BJ"), None, entry.id, "reject", "  ")
    assert db.get(type(entry), entry.id).status is EntryStatus.SUBMITTED


def test_the_submitter_is_told_of_the_decision_in_the_inbox_and_by_mail(db):
    import sqlalchemy as sa

    from exchange.notifications.models import Notification, OutboxMessage

    entry = factories.entry(db, "achievement", region="BJ", status="approved")
    submitter = db.get(type(entry), entry.id).submitted_by_id
    [note] = db.scalars(sa.select(Notification).where(Notification.user_id == submitter)).all()
    assert entry.title in note.subject and note.link.endswith(f"/achievements/{entry.id}")
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.payload["subject"].as_string() == note.subject)) == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(EntryEvent)) == 3
