"""Pages of the five libraries: lists, details, writing, lifecycle, review, attachments, export."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from exchange.catalog import services
from exchange.catalog.attachments import add_attachment, open_attachment, remove_attachment
from exchange.catalog.exports import export_table, import_entries, read_rows, template_columns
from exchange.catalog.forms import (
    REASON_TEMPLATES,
    AttachmentForm,
    ImportForm,
    ReasonForm,
    entry_form,
    submitted_values,
    yuan_errors,
)
from exchange.catalog.lifecycle import TRANSITIONS
from exchange.catalog.models import CooperationMode, EntryKind, EntryStatus, Maturity
from exchange.catalog.specs import KINDS, Context
from exchange.db import utcnow
from exchange.downloads import csv_download, stored_file_download, xlsx_download
from exchange.errors import ValidationFailed
from exchange.extensions import db
from exchange.forms import flash_error
from exchange.pagination import PageRequest
from exchange.storage import Upload
from exchange.taxonomy.services import list_fields, list_regions
from exchange.web import request_actor

bp = Blueprint("catalog", __name__)

KIND = "<any(achievements, needs, experts, talents, projects):kind>"


def _kind(plural: str) -> EntryKind:
    return services.kind_from_plural(plural)


@bp.get(f"/{KIND}")
def index(kind: str) -> Any:
    entry_kind = _kind(kind)
    filters = services.EntryFilters.from_args(request.args)
    page = services.list_entries(db.session, request_actor(), entry_kind, filters, PageRequest.from_args(request.args))
    return render_template("catalog/list.html", kind=entry_kind, page=page, filters=filters,
                           regions=list_regions(db.session), fields=list_fields(db.session),
                           maturities=list(Maturity), modes=list(CooperationMode), statuses=list(EntryStatus))


@bp.get(f"/{KIND}/export.<any(csv, xlsx):fmt>")
def export(kind: str, fmt: str) -> Any:
    entry_kind = _kind(kind)
    filters = services.EntryFilters.from_args(request.args)
    header, rows = export_table(db.session, request_actor(), entry_kind, filters)
    filename = f"{entry_kind.plural}-{utcnow():%Y%m%d}.{fmt}"
    if fmt == "csv":
        return csv_download(filename, header, rows)
    return xlsx_download(filename, entry_kind.plural, header, rows)


@bp.route(f"/{KIND}/new", methods=["GET", "POST"])
@login_required
def create(kind: str) -> Any:
    entry_kind = _kind(kind)
    actor = request_actor()
    context = services.writing_context(db.session, actor, entry_kind)
    spec = KINDS[entry_kind]
    form = entry_form(spec, context)
    data = _valid_submission(form, entry_kind, None)
    if data is not None:
        try:
            entry = services.create_entry(db.session, actor, entry_kind, data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            flash(_("The draft has been saved. Add attachments or submit it for review."), "success")
            return redirect(url_for("catalog.detail", kind=kind, entry_id=entry.id))
    return render_template("catalog/form.html", kind=entry_kind, form=form, spec=spec, entry=None), \
        422 if form.errors or form.form_errors else 200


def _valid_submission(form: Any, kind: EntryKind, entry_id: int | None) -> dict[str, Any] | None:
    """The submitted values if the form and the amounts read well; else None, with every problem
    shown at once: the form's own and, beside the other fields, the service's."""
    if not form.is_submitted():
        return None
    spec = KINDS[kind]
    form_valid = form.validate()
    amounts_valid = not yuan_errors(form, spec)
    data = submitted_values(form, spec)
    if form_valid and amounts_valid:
        return data
    try:
        services.check_entry(db.session, request_actor(), kind, data, entry_id)
    except ValidationFailed as error:
        form.show_errors(error, beside_others=False)
    return None


@bp.get(f"/{KIND}/<int:entry_id>")
def detail(kind: str, entry_id: int) -> Any:
    entry_kind = _kind(kind)
    actor = request_actor()
    view = services.get_entry(db.session, actor, entry_kind, entry_id)
    history = services.entry_history(db.session, actor, entry_kind, entry_id)
    changes = (services.changes_since_last_submission(db.session, actor, entry_kind, entry_id)
               if any(t.name == "approve" for t in view.actions) else None)
    return render_template("catalog/detail.html", kind=entry_kind, view=view, entry=view.entry,
                           spec=KINDS[entry_kind], history=history, changes=changes,
                           reason_form=ReasonForm(), attachment_form=AttachmentForm(),
                           reason_templates=REASON_TEMPLATES)


@bp.route(f"/{KIND}/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit(kind: str, entry_id: int) -> Any:
    entry_kind = _kind(kind)
    actor = request_actor()
    entry = services.entry_for_edit(db.session, actor, entry_kind, entry_id)
    spec = KINDS[entry_kind]
    context = Context(db.session, entry.organization, entry)
    form = entry_form(spec, context, entry if request.method == "GET" else None)
    data = _valid_submission(form, entry_kind, entry_id)
    if data is not None:
        try:
            services.update_entry(db.session, actor, entry_kind, entry_id, data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("catalog.detail", kind=kind, entry_id=entry_id))
    return render_template("catalog/form.html", kind=entry_kind, form=form, spec=spec, entry=entry), \
        422 if form.errors or form.form_errors else 200


@bp.post(f"/{KIND}/<int:entry_id>/delete")
@login_required
def delete(kind: str, entry_id: int) -> Any:
    services.delete_entry(db.session, request_actor(), _kind(kind), entry_id)
    flash(_("The draft has been deleted."), "success")
    return redirect(url_for("catalog.mine"))


@bp.post(f"/{KIND}/<int:entry_id>/<any(submit, approve, reject, withdraw, revise, archive):action>")
@login_required
def transition(kind: str, entry_id: int, action: str) -> Any:
    form = ReasonForm()
    try:
        entry = services.change_status(db.session, request_actor(), _kind(kind), entry_id, action, form.reason.data)
    except ValidationFailed as error:
        flash_error(error)
        return redirect(url_for("catalog.detail", kind=kind, entry_id=entry_id))
    flash(_("Done: %(action)s — %(title)s", action=TRANSITIONS[action].label, title=entry.title), "success")
    if action in ("approve", "reject"):
        return redirect(url_for("catalog.review_queue"))
    return redirect(url_for("catalog.detail", kind=kind, entry_id=entry_id))


@bp.post(f"/{KIND}/<int:entry_id>/attachments")
@login_required
def upload(kind: str, entry_id: int) -> Any:
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            add_attachment(db.session, request_actor(), _kind(kind), entry_id,
                           Upload(form.file.data.filename or "", form.file.data.stream))
        except ValidationFailed as error:
            flash_error(error)
        else:
            flash(_("The attachment has been added."), "success")
    else:
        flash(" ".join(m for messages in form.errors.values() for m in messages), "error")
    return redirect(url_for("catalog.detail", kind=kind, entry_id=entry_id))


@bp.post(f"/{KIND}/<int:entry_id>/attachments/<int:attachment_id>/delete")
@login_required
def remove_upload(kind: str, entry_id: int, attachment_id: int) -> Any:
    remove_attachment(db.session, request_actor(), _kind(kind), entry_id, attachment_id)
    flash(_("The attachment has been removed."), "success")
    return redirect(url_for("catalog.detail", kind=kind, entry_id=entry_id))


@bp.get(f"/{KIND}/<int:entry_id>/attachments/<int:attachment_id>")
def download(kind: str, entry_id: int, attachment_id: int) -> Any:
    attachment, path = open_attachment(db.session, request_actor(), _kind(kind), entry_id, attachment_id)
    return stored_file_download(path, attachment.content_type, attachment.original_name)


@bp.get("/my/entries")
@login_required
def mine() -> Any:
    filters = services.EntryFilters.from_args(request.args)
    page = services.my_entries(db.session, request_actor(), filters, PageRequest.from_args(request.args))
    return render_template("catalog/mine.html", page=page, filters=filters, kinds=list(EntryKind),
                           statuses=list(EntryStatus))


@bp.get("/review/entries")
@login_required
def review_queue() -> Any:
    page = services.review_queue(db.session, request_actor(), request.args.get("kind") or None,
                                 request.args.get("field") or None, PageRequest.from_args(request.args))
    return render_template("catalog/review_queue.html", page=page, kinds=list(EntryKind),
                           fields=list_fields(db.session))


@bp.post("/review/entries/approve")
@login_required
def bulk_approve() -> Any:
    ids = [int(value) for value in request.form.getlist("entry") if value.isdigit() and len(value) < 10]
    if not ids:
        flash(_("Choose at least one entry."), "error")
        return redirect(url_for("catalog.review_queue"))
    outcome = services.bulk_approve(db.session, request_actor(), ids)
    if outcome.done:
        flash(_("%(count)s entries approved.", count=len(outcome.done)), "success")
    for entry_id, message in outcome.failed.items():
        flash(f"#{entry_id}: {message}", "error")
    return redirect(url_for("catalog.review_queue"))


@bp.route("/review/import", methods=["GET", "POST"])
@login_required
def import_library() -> Any:
    """A regional admin loads entries from an existing regional library, all or nothing."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        kind = EntryKind(form.kind.data)
        try:
            rows = read_rows(form.file.data.filename or "", form.file.data.stream)
            report = import_entries(db.session, request_actor(), kind, rows)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            if not report.errors:
                flash(_("%(count)s entries imported and published.", count=report.created), "success")
                return redirect(url_for("catalog.index", kind=kind.plural))
    else:
        services.review_queue_access(db.session, request_actor())
    columns = {kind: template_columns(kind) for kind in EntryKind}
    return render_template("catalog/import.html", form=form, report=report, columns=columns), \
        422 if report and report.errors or form.errors or form.form_errors else 200
