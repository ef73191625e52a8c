"""The lifecycle of every entry, as one table: from which states, to which state, who may."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from exchange.catalog.models import EntryStatus
from exchange.policy import Action

DRAFT, SUBMITTED, APPROVED, REJECTED, WITHDRAWN, ARCHIVED = (
    EntryStatus.DRAFT, EntryStatus.SUBMITTED, EntryStatus.APPROVED, EntryStatus.REJECTED,
    EntryStatus.WITHDRAWN, EntryStatus.ARCHIVED)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[EntryStatus]
    target: EntryStatus
    permission: Action
    label: object
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("submit", frozenset({DRAFT, REJECTED, WITHDRAWN}), SUBMITTED, Action.ENTRY_MANAGE,
               _l("Submit for review")),
    Transition("approve", frozenset({SUBMITTED}), APPROVED, Action.ENTRY_REVIEW, _l("Approve")),
    Transition("reject", frozenset({SUBMITTED}), REJECTED, Action.ENTRY_REVIEW, _l("Reject"), needs_reason=True),
    Transition("withdraw", frozenset({SUBMITTED, APPROVED}), WITHDRAWN, Action.ENTRY_MANAGE, _l("Withdraw")),
    Transition("revise", frozenset({WITHDRAWN}), DRAFT, Action.ENTRY_MANAGE, _l("Revise")),
    Transition("archive", frozenset({APPROVED, WITHDRAWN}), ARCHIVED, Action.ENTRY_ARCHIVE, _l("Archive")),
)}

# Shown when a transition is asked for in a state it does not start from.
ILLEGAL_MESSAGES = {
    "submit": _l("Only a draft, rejected or withdrawn entry can be submitted."),
    "approve": _l("Only an entry waiting for review can be approved."),
    "reject": _l("Only an entry waiting for review can be rejected."),
    "withdraw": _l("Only a submitted or published entry can be withdrawn."),
    "revise": _l("Only a withdrawn entry can be turned back into a draft."),
    "archive": _l("Only a published or withdrawn entry can be archived."),
}
