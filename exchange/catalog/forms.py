"""HTML forms of entries, built from the kind's field declarations (catalog/specs.py)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from exchange.catalog.models import REASON_MAX_LENGTH, Entry, EntryKind
from exchange.catalog.specs import Context, KindSpec, Money, YuanField
from exchange.forms import ServiceForm


def entry_form(spec: KindSpec, context: Context, entry: Entry | None = None) -> ServiceForm:
    fields = spec.all_fields()
    form_class = type(f"{spec.kind.value.title()}Form", (ServiceForm,),
                      {f.name: f.form_field(context) for f in fields})
    if entry is None:
        return form_class()
    return form_class(data={f.name: f.form_value(entry) for f in fields})


def submitted_values(form: ServiceForm, spec: KindSpec) -> dict[str, Any]:
    return {f.name: getattr(form, f.name).data for f in spec.all_fields()}


def yuan_errors(form: ServiceForm, spec: KindSpec) -> bool:
    """Mark amounts the form could not read as yuan; True if there were any."""
    found = False
    for field_spec in spec.all_fields():
        field = getattr(form, field_spec.name)
        if isinstance(field_spec, Money) and isinstance(field, YuanField) and isinstance(field.data, str):
            field.errors = [*field.errors, str(_l("Use an amount in yuan, such as 500000."))]
            found = True
    return found


# Reasons administrators give most often; picking one fills the reason box (static/js/app.js).
REASON_TEMPLATES = (
    _l("The information is incomplete: please add the missing technical indicators."),
    _l("Please attach supporting documents (test reports, patent certificates or contracts)."),
    _l("The technology field does not match the content: please choose the right field."),
    _l("The text contains personal contact details: please remove them from the description."),
    _l("This is advertising rather than a technology entry."),
)


class ReasonForm(ServiceForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX_LENGTH)],
                           render_kw={"rows": 3, "data-count": REASON_MAX_LENGTH})


class AttachmentForm(ServiceForm):
    file = FileField(_l("Attachment (PDF, PNG, JPEG or DOCX, at most 20 MB)"), validators=[DataRequired()])


class ImportForm(ServiceForm):
    kind = SelectField(_l("Library"), choices=[(kind.value, kind.label) for kind in EntryKind],
                       validators=[DataRequired()])
    file = FileField(_l("CSV (UTF-8) or XLSX file"), validators=[DataRequired()])
