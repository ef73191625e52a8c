"""Attachments of entries: stored through exchange.storage, served only to those who may see the entry."""
from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from exchange.audit.services import record
from exchange.catalog.models import Attachment, EntryKind
from exchange.catalog.services import _load
from exchange.errors import NotFound, ValidationFailed
from exchange.policy import Action, Actor, authorize
from exchange.storage import Upload, delete_stored_files, store_upload, upload_dir
from exchange.unit_of_work import after_commit, after_rollback, service

MAX_ATTACHMENTS_PER_ENTRY = 10


@service
def add_attachment(session: Session, actor: Actor, kind: EntryKind, entry_id: int, upload: Upload) -> Attachment:
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_EDIT, entry)
    if len(entry.attachments) >= MAX_ATTACHMENTS_PER_ENTRY:
        raise ValidationFailed(fields={"file": _l("An entry can have at most %(max)s attachments.",
                                                  max=MAX_ATTACHMENTS_PER_ENTRY)})
    stored = store_upload(upload)
    after_rollback(session, stored.discard)  # no orphan file when the row is not saved
    attachment = Attachment(entry_id=entry.id, original_name=stored.original_name, stored_name=stored.stored_name,
                            content_type=stored.content_type, size_bytes=stored.size_bytes, uploaded_by_id=actor.id)
    session.add(attachment)
    session.flush()
    record(session, "attachment.added", actor.id, entry, name=stored.original_name, size=stored.size_bytes)
    return attachment


def _attachment_of(session: Session, entry_id: int, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.entry_id != entry_id:
        raise NotFound()
    return attachment


@service
def remove_attachment(session: Session, actor: Actor, kind: EntryKind, entry_id: int, attachment_id: int) -> None:
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_EDIT, entry)
    attachment = _attachment_of(session, entry.id, attachment_id)
    stored = attachment.stored_name
    session.delete(attachment)
    record(session, "attachment.removed", actor.id, entry, name=attachment.original_name)
    after_commit(session, lambda: delete_stored_files([stored]))


@service
def open_attachment(session: Session, actor: Actor, kind: EntryKind, entry_id: int,
                    attachment_id: int) -> tuple[Attachment, Path]:
    entry = _load(session, kind, entry_id)
    authorize(actor, Action.ENTRY_VIEW, entry)
    attachment = _attachment_of(session, entry.id, attachment_id)
    path = upload_dir() / attachment.stored_name
    if not path.is_file():
        raise NotFound()
    return attachment, path
