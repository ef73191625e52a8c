"""Use cases of the shared libraries: write, review, publish and find entries of every kind."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectin_polymorphic, selectinload

from exchange.accounts.models import Role
from exchange.audit.services import record
from exchange.catalog.lifecycle import ILLEGAL_MESSAGES, TRANSITIONS, Transition
from exchange.catalog.models import (
    ENTRY_MODELS,
    REASON_MAX_LENGTH,
    Achievement,
    CooperationMode,
    Entry,
    EntryEvent,
    EntryKind,
    EntryMode,
    EntryStatus,
    Maturity,
    Need,
    Project,
)
from exchange.catalog.specs import KINDS, Context, FieldSpec, Invalid, KindSpec
from exchange.db import utcnow
from exchange.errors import Conflict, DomainError, NotFound, ValidationFailed
from exchange.links import site_path
from exchange.notifications import outbox
from exchange.notifications.services import notify
from exchange.orgs.models import Organization
from exchange.pagination import ListFilters, Page, PageRequest, paginate
from exchange.policy import Action, Actor, authorize, can, mark_checked, visible_entries
from exchange.storage import delete_stored_files
from exchange.taxonomy.models import TechnologyField
from exchange.unit_of_work import after_commit, savepoint, service


def kind_from_plural(plural: str) -> EntryKind:
    for kind in EntryKind:
        if kind.plural == plural:
            return kind
    raise NotFound()


# Validation --------------------------------------------------------------------------------

def validate(spec: KindSpec, context: Context, data: Mapping[str, Any], *, partial: bool) -> dict[FieldSpec, Any]:
    """Clean the given values (all of them unless partial); every problem is reported at once."""
    fields = spec.all_fields()
    known = {f.name for f in fields}
    errors: dict[str, Any] = {name: _l("Unknown field.") for name in data if name not in known}
    values: dict[FieldSpec, Any] = {}
    for field_spec in fields:
        if partial and field_spec.name not in data:
            continue
        try:
            values[field_spec] = field_spec.clean(data.get(field_spec.name), context)
        except Invalid as invalid:
            errors[field_spec.name] = invalid.message
    if not errors:
        merged = {f.target: f.read(context.entry) for f in fields if context.entry is not None} | {
            f.target: value for f, value in values.items()}
        merged |= {f.name: merged.get(f.target) for f in fields}
        for rule in spec.rules:
            errors.update(rule(merged))
    if errors:
        raise ValidationFailed(fields=errors)
    return values


def _load(session: Session, kind: EntryKind | None, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None or (kind is not None and entry.kind is not kind):
        raise NotFound()
    return entry


def stage_entry_changed(session: Session, entry: Entry) -> None:
    """Tell the worker, after the commit, that the entry changed (search re-reads it, or drops it when gone)."""
    outbox.stage(session, outbox.ENTRY_CHANGED, {"kind": entry.kind.value, "entry_id": entry.id})


def _authorize_writing(session: Session, actor: Actor, kind: EntryKind) -> Organization:
    organization = session.get(Organization, actor.organization_id) if actor.organization_id else None
    authorize(actor, Action.ENTRY_CREATE, (organization, kind) if organization else None)
    assert organization is not None
    return organization


@service
def writing_context(session: Session, actor: Actor, kind: EntryKind) -> Context:
    """What the form for a new entry needs; refused to those who may not write this kind."""
    return Context(session, _authorize_writing(session, actor, kind))


@service
def entry_for_edit(session: Session, actor: Actor, kind: EntryKind, entry_id: int) -> Entry:
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_EDIT, entry)
    return entry


def snapshot(entry: Entry) -> dict[str, Any]:
    return {f.name: f.snapshot(entry) for f in KINDS[entry.kind].all_fields()}


@service
def create_entry(session: Session, actor: Actor, kind: EntryKind, data: Mapping[str, Any]) -> Entry:
    organization = _authorize_writing(session, actor, kind)
    spec = KINDS[kind]
    values = validate(spec, Context(session, organization), data, partial=False)
    entry = ENTRY_MODELS[kind](organization_id=organization.id, region_code=organization.region_code,
                               created_by_id=actor.id, status=EntryStatus.DRAFT, title="")
    for field_spec, value in values.items():
        field_spec.write(entry, value)
    session.add(entry)
    session.flush()
    session.add(EntryEvent(entry_id=entry.id, actor_id=actor.id, action="create", to_status=EntryStatus.DRAFT))
    stage_entry_changed(session, entry)
    record(session, "entry.created", actor.id, entry, kind=kind.value)
    return entry


@service
def check_entry(session: Session, actor: Actor, kind: EntryKind, data: Mapping[str, Any],
                entry_id: int | None = None) -> None:
    """Validate without saving, so that a form can report every problem at once."""
    if entry_id is None:
        context = Context(session, _authorize_writing(session, actor, kind))
    else:
        entry = _load(session, kind, entry_id)
        authorize(actor, Action.ENTRY_EDIT, entry)
        context = Context(session, entry.organization, entry)
    validate(KINDS[kind], context, data, partial=False)


@service
def update_entry(session: Session, actor: Actor, kind: EntryKind, entry_id: int, data: Mapping[str, Any]) -> Entry:
    """Change some fields of a draft or rejected entry (the owner's organisation only)."""
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_EDIT, entry)
    values = validate(KINDS[kind], Context(session, entry.organization, entry), data, partial=True)
    for field_spec, value in values.items():
        field_spec.write(entry, value)
    stage_entry_changed(session, entry)
    record(session, "entry.updated", actor.id, entry, fields=sorted(f.name for f in values))
    return entry


@service
def delete_entry(session: Session, actor: Actor, kind: EntryKind, entry_id: int) -> None:
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_DELETE, entry)
    stored = [attachment.stored_name for attachment in entry.attachments]
    record(session, "entry.deleted", actor.id, entry, title=entry.title)
    stage_entry_changed(session, entry)  # the worker finds it gone and removes it from the index
    session.delete(entry)
    after_commit(session, lambda: delete_stored_files(stored))


@service
def change_status(session: Session, actor: Actor, kind: EntryKind | None, entry_id: int, action: str,
                  reason: str | None = None) -> Entry:
    """Move an entry along its lifecycle (see lifecycle.TRANSITIONS)."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise NotFound()
    entry = _load(session, kind, entry_id)
    authorize(actor, transition.permission, entry)
    if entry.status not in transition.sources:
        raise Conflict(ILLEGAL_MESSAGES[action], code="illegal_transition")
    clean_reason = _reason(reason) if transition.needs_reason else ""
    _apply_transition(session, actor, entry, transition, clean_reason)
    return entry


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(fields={"reason": _l("Please give a reason.")})
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationFailed(fields={"reason": _l("Use at most %(max)s characters.", max=REASON_MAX_LENGTH)})
    return text


def _apply_transition(session: Session, actor: Actor, entry: Entry, transition: Transition, reason: str) -> None:
    now = utcnow()
    changes: dict[str, Any] = {"status": transition.target, "updated_at": now}
    if transition.name == "submit":
        changes |= {"submitted_at": now, "submitted_by_id": actor.id, "rejection_reason": ""}
    elif transition.name in ("approve", "reject"):
        changes |= {"reviewed_at": now, "rejection_reason": reason}
        if transition.name == "approve":
            changes["published_at"] = now
    # A conditional update: two reviewers, or a double click, cannot both move the entry.
    moved = session.execute(
        sa.update(Entry).where(Entry.id == entry.id, Entry.status.in_(transition.sources))
        .values(**changes).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(ILLEGAL_MESSAGES[transition.name], code="illegal_transition")
    previous = entry.status
    session.refresh(entry)
    session.add(EntryEvent(entry_id=entry.id, actor_id=actor.id, action=transition.name, from_status=previous,
                           to_status=transition.target, reason=reason,
                           snapshot=snapshot(entry) if transition.name == "submit" else None))
    stage_entry_changed(session, entry)
    record(session, f"entry.{transition.name}", actor.id, entry, kind=entry.kind.value, reason=reason)
    if transition.name in ("approve", "reject"):
        _tell_submitter(session, entry)


def _tell_submitter(session: Session, entry: Entry) -> None:
    recipient = entry.submitted_by_id or entry.created_by_id
    link = site_path("catalog.detail", kind=entry.kind.plural, entry_id=entry.id)
    if entry.status is EntryStatus.APPROVED:
        notify(session, recipient, lambda: _("Published: %(title)s", title=entry.title),
               lambda: _("Your %(kind)s “%(title)s” has been approved and is now public.",
                         kind=entry.kind.label, title=entry.title), link)
    else:
        notify(session, recipient, lambda: _("Returned for revision: %(title)s", title=entry.title),
               lambda: _("Your %(kind)s “%(title)s” was not approved. Reason: %(reason)s",
                         kind=entry.kind.label, title=entry.title, reason=entry.rejection_reason), link)


@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


@service
def bulk_approve(session: Session, actor: Actor, entry_ids: list[int]) -> BulkOutcome:
    """Approve several entries; each is checked on its own and failures are reported per entry."""
    authorize(actor, Action.ENTRY_LIST_REVIEW_QUEUE)
    outcome = BulkOutcome()
    for entry_id in dict.fromkeys(entry_ids):
        try:
            with savepoint(session):
                change_status(session, actor, None, entry_id, "approve")
        except DomainError as error:
            outcome.failed[entry_id] = str(error.message)
        else:
            outcome.done.append(entry_id)
    return outcome


# Reading ------------------------------------------------------------------------------------

@dataclass
class EntryView:
    """An entry as one actor may see it, as the services that read entries return it: `fields` are
    the fields shown to this actor, private contact data only if the policy lets them see it, so that
    the page, the API and the export show what they got."""
    entry: Entry
    show_contact: bool

    @property
    def fields(self) -> list[FieldSpec]:
        return [f for f in KINDS[self.entry.kind].all_fields() if self.show_contact or not f.private]


def entry_view(actor: Actor, entry: Entry) -> EntryView:
    """What the actor may see of an entry they may read or have just written."""
    return EntryView(entry, can(actor, Action.ENTRY_VIEW_CONTACT, entry))


@dataclass
class EntryPage(EntryView):
    actions: list[Transition]
    can_edit: bool
    can_delete: bool


@service
def get_entry(session: Session, actor: Actor, kind: EntryKind, entry_id: int) -> EntryPage:
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_VIEW, entry)
    actions = [t for t in TRANSITIONS.values() if entry.status in t.sources and can(actor, t.permission, entry)]
    return EntryPage(entry, can(actor, Action.ENTRY_VIEW_CONTACT, entry), actions,
                     can(actor, Action.ENTRY_EDIT, entry), can(actor, Action.ENTRY_DELETE, entry))


@dataclass(frozen=True)
class HistoryEvent:
    action: str
    from_status: EntryStatus | None
    to_status: EntryStatus
    reason: str
    occurred_at: datetime
    actor_role: Role | None
    actor_name: str | None  # None unless the viewer may know who acted


@service
def entry_history(session: Session, actor: Actor, kind: EntryKind, entry_id: int) -> list[HistoryEvent]:
    """Who moved the entry from which state to which, when and why. The public learns the role of
    whoever acted; their names are for the circle that may see the entry's contact data (the owning
    organisation, the region's administrators and the platform's)."""
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_VIEW, entry)
    show_names = can(actor, Action.ENTRY_VIEW_CONTACT, entry)
    events = session.scalars(sa.select(EntryEvent).where(EntryEvent.entry_id == entry.id)
                             .options(selectinload(EntryEvent.actor)).order_by(EntryEvent.id))
    return [HistoryEvent(event.action, event.from_status, event.to_status, event.reason, event.occurred_at,
                         event.actor.role if event.actor else None,
                         event.actor.display_name if event.actor and show_names else None)
            for event in events]


@dataclass(frozen=True)
class Change:
    label: str
    before: Any
    after: Any


@service
def changes_since_last_submission(session: Session, actor: Actor, kind: EntryKind, entry_id: int) -> list[Change] | None:
    """What the latest submission changed against the one before (None for a first submission)."""
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_VIEW, entry)
    submissions = list(session.scalars(
        sa.select(EntryEvent.snapshot).where(EntryEvent.entry_id == entry.id, EntryEvent.action == "submit")
        .order_by(EntryEvent.id.desc()).limit(2)))
    if len(submissions) < 2:
        return None
    latest, earlier = submissions
    return [Change(str(f.label), earlier.get(f.name), latest.get(f.name))
            for f in KINDS[kind].all_fields() if earlier.get(f.name) != latest.get(f.name)]


SORTS = {
    "newest": lambda: (Entry.published_at.desc().nulls_last(), Entry.id.desc()),
    "oldest": lambda: (Entry.published_at.asc().nulls_last(), Entry.id.asc()),
    "updated": lambda: (Entry.updated_at.desc(), Entry.id.desc()),
    "title": lambda: (Entry.title.asc(), Entry.id.asc()),
}
PRICE_SORTS = {"price_asc": "asc", "price_desc": "desc"}


@dataclass(frozen=True)
class EntryFilters(ListFilters):
    region: str | None = None
    district: str | None = None
    field: str | None = None
    status: str | None = None
    maturity: str | None = None
    mode: str | None = None
    price_min: str | None = None
    price_max: str | None = None
    organization: str | None = None
    q: str | None = None
    sort: str | None = None


def _yuan_to_fen(raw: str, name: str, errors: dict[str, Any]) -> int | None:
    try:
        value = Decimal(raw.replace(",", ""))
        if not value.is_finite() or value < 0 or value > 10**13:
            raise ValueError
        return int(value * 100)
    except (ArithmeticError, ValueError):
        errors[name] = _l("Use an amount in yuan, such as 500000.")
        return None


def _price_column(kind: EntryKind) -> Any:
    return {EntryKind.ACHIEVEMENT: Achievement.price_fen, EntryKind.NEED: Need.budget_max_fen,
            EntryKind.PROJECT: Project.budget_fen}.get(kind)


def _filtered(kind: EntryKind, filters: EntryFilters) -> sa.Select[Any]:
    model = ENTRY_MODELS[kind]
    statement = sa.select(model)
    errors: dict[str, Any] = {}
    if filters.region:
        if filters.region not in ("BJ", "TJ", "HE"):
            errors["region"] = _l("Please choose one of the offered values.")
        statement = statement.where(Entry.region_code == filters.region)
    if filters.district:
        if not filters.district.isdigit() or len(filters.district) > 9:
            errors["district"] = _l("Please choose one of the offered values.")
        else:
            statement = statement.where(Entry.district_id == int(filters.district))
    if filters.field:
        code = filters.field[:40]
        statement = statement.where(sa.or_(Entry.field_code == code, Entry.field_code.in_(
            sa.select(TechnologyField.code).where(TechnologyField.parent_code == code))))
    if filters.status:
        try:
            statement = statement.where(Entry.status == EntryStatus(filters.status))
        except ValueError:
            errors["status"] = _l("Please choose one of the offered values.")
    if filters.maturity:
        maturity_column = {EntryKind.ACHIEVEMENT: Achievement.maturity, EntryKind.NEED: Need.required_maturity}
        try:
            if kind in maturity_column:
                statement = statement.where(maturity_column[kind] == Maturity(filters.maturity))
        except ValueError:
            errors["maturity"] = _l("Please choose one of the offered values.")
    if filters.mode:
        try:
            mode = CooperationMode(filters.mode)
            statement = statement.where(sa.exists().where(EntryMode.entry_id == Entry.id, EntryMode.mode == mode))
        except ValueError:
            errors["mode"] = _l("Please choose one of the offered values.")
    price = _price_column(kind)
    for name, compare in (("price_min", lambda c, v: c >= v), ("price_max", lambda c, v: c <= v)):
        raw = getattr(filters, name)
        if raw and price is not None:
            fen = _yuan_to_fen(raw, name, errors)
            if fen is not None:
                statement = statement.where(compare(price, fen))
    if filters.organization:
        if filters.organization.isdigit() and len(filters.organization) < 10:
            statement = statement.where(Entry.organization_id == int(filters.organization))
        else:
            errors["organization"] = _l("Please choose one of the offered values.")
    if filters.q:
        statement = statement.where(Entry.title.contains(filters.q.strip()[:100], autoescape=True))
    sort = filters.sort or "newest"
    if sort in PRICE_SORTS and price is not None:
        order = price.asc().nulls_last() if PRICE_SORTS[sort] == "asc" else price.desc().nulls_last()
        statement = statement.order_by(order, Entry.id)
    elif sort in SORTS:
        statement = statement.order_by(*SORTS[sort]())
    else:
        errors["sort"] = _l("Please choose one of the offered values.")
    if errors:
        raise ValidationFailed(fields=errors)
    return statement


def with_list_relations(statement: sa.Select[Any]) -> sa.Select[Any]:
    """Everything a list row shows, in a fixed number of queries whatever the page size."""
    return statement.options(
        selectinload(Entry.organization), selectinload(Entry.region), selectinload(Entry.district),
        selectinload(Entry.field), selectinload(Entry.modes), selectinload(Entry.attachments))


@service
def list_entries(session: Session, actor: Actor, kind: EntryKind, filters: EntryFilters,
                 page: PageRequest) -> Page[EntryView]:
    """The entries of one library this actor may see: published ones, plus their own and, for an admin,
    those of their region under review."""
    mark_checked()
    statement = with_list_relations(_filtered(kind, filters).where(visible_entries(actor)))
    if kind is EntryKind.PROJECT:
        statement = statement.options(selectinload(Project.partners), selectinload(Project.outcomes))
    found = paginate(session, statement, page)
    return replace(found, items=[entry_view(actor, entry) for entry in found.items])


@service
def my_entries(session: Session, actor: Actor, filters: EntryFilters, page: PageRequest) -> Page[Entry]:
    """Every entry of the actor's organisation, of every kind and state, latest change first."""
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    statement = (sa.select(Entry).where(Entry.organization_id == actor.organization_id)
                 .options(selectin_polymorphic(Entry, list(ENTRY_MODELS.values())))
                 .order_by(Entry.updated_at.desc(), Entry.id.desc()))
    if filters.status:
        try:
            statement = statement.where(Entry.status == EntryStatus(filters.status))
        except ValueError:
            raise ValidationFailed(fields={"status": _l("Please choose one of the offered values.")}) from None
    return paginate(session, with_list_relations(statement), page)


@service
def review_queue(session: Session, actor: Actor, kind: str | None, field_code: str | None,
                 page: PageRequest) -> Page[Entry]:
    """Entries of the admin's own region waiting for review, oldest submission first."""
    authorize(actor, Action.ENTRY_LIST_REVIEW_QUEUE)
    statement = (sa.select(Entry).where(Entry.status == EntryStatus.SUBMITTED,
                                        Entry.region_code == actor.region_code)
                 .order_by(Entry.submitted_at.asc(), Entry.id.asc()))
    if kind:
        try:
            statement = statement.where(Entry.kind == EntryKind(kind))
        except ValueError:
            raise ValidationFailed(fields={"kind": _l("Please choose one of the offered values.")}) from None
    if field_code:
        statement = statement.where(sa.or_(Entry.field_code == field_code[:40], Entry.field_code.in_(
            sa.select(TechnologyField.code).where(TechnologyField.parent_code == field_code[:40]))))
    return paginate(session, with_list_relations(statement), page)


@service
def review_queue_access(session: Session, actor: Actor) -> None:
    """Refuse the review pages to anyone but a regional administrator."""
    authorize(actor, Action.ENTRY_LIST_REVIEW_QUEUE)


@service
def organization_entries(session: Session, actor: Actor, organization_id: int) -> list[Entry]:
    """An organisation's entries this actor may see, for its profile page."""
    mark_checked()
    return list(session.scalars(with_list_relations(
        sa.select(Entry).where(Entry.organization_id == organization_id, visible_entries(actor))
        .order_by(Entry.kind, Entry.published_at.desc().nulls_last(), Entry.id.desc())).limit(200)))
