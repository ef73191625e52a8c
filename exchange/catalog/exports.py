"""Export of a filtered list to CSV or XLSX, and import of a regional library from one."""
from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from exchange.archives import check_zip_bounds
from exchange.audit.services import record
from exchange.catalog.models import ENTRY_MODELS, EntryEvent, EntryKind, EntryStatus
from exchange.catalog.services import (
    EntryFilters,
    _filtered,
    entry_view,
    stage_entry_changed,
    validate,
    with_list_relations,
)
from exchange.catalog.specs import KINDS, Context
from exchange.db import utcnow
from exchange.errors import ValidationFailed
from exchange.orgs.models import Organization, OrganizationStatus
from exchange.policy import Action, Actor, authorize, mark_checked, visible_entries
from exchange.taxonomy.models import District
from exchange.unit_of_work import service

log = logging.getLogger(__name__)

EXPORT_LIMIT = 10_000
IMPORT_LIMIT = 5_000


@service
def export_table(session: Session, actor: Actor, kind: EntryKind, filters: EntryFilters) -> tuple[list[str], list[list[Any]]]:
    """The visible entries of one library as a header and rows; private contact data only for those who may see it."""
    mark_checked()
    entries = session.scalars(with_list_relations(_filtered(kind, filters).where(visible_entries(actor)))
                              .limit(EXPORT_LIMIT)).all()
    fields = KINDS[kind].all_fields()
    header = ["ID", str(_l("Status")), str(_l("Region")), str(_l("Organisation"))] + [str(f.label) for f in fields]
    rows = []
    for entry in entries:
        shown = {f.name for f in entry_view(actor, entry).fields}
        rows.append([entry.id, entry.status.label, entry.region.name, entry.organization.name] + [
            f.display(entry) if f.name in shown else "" for f in fields])
    return header, rows


# Import -----------------------------------------------------------------------------------------

OWNER_COLUMN = "owner_credit_code"
# Columns holding several values, separated by commas (text lists like keywords parse themselves).
LIST_COLUMNS = ("modes", "other_fields", "partners", "outcomes")
MONEY_COLUMNS = ("price_fen", "budget_min_fen", "budget_max_fen", "budget_fen")


def template_columns(kind: EntryKind) -> list[str]:
    return [OWNER_COLUMN] + [f.name for f in KINDS[kind].all_fields() if f.name not in ("partners", "outcomes")]


def read_rows(filename: str, stream: IO[bytes]) -> list[dict[str, Any]]:
    """Rows of a CSV (UTF-8) or XLSX file as dicts keyed by the header row."""
    data = stream.read(20 * 1024 * 1024 + 1)
    if len(data) > 20 * 1024 * 1024:
        raise ValidationFailed(fields={"file": _l("A file may be at most 20 MB.")})
    lower = (filename or "").lower()
    try:
        if lower.endswith(".xlsx") and data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                check_zip_bounds(archive)
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            table = [[("" if cell is None else cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        elif lower.endswith(".csv"):
            table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        else:
            raise ValidationFailed(fields={"file": _l("Upload a .csv (UTF-8) or .xlsx file.")})
    except ValidationFailed:
        raise
    except Exception as error:  # a parser of untrusted files fails in open-ended ways
        log.info("import file refused: %s: %s", type(error).__name__, error)
        raise ValidationFailed(fields={"file": _l("The file could not be read as CSV (UTF-8) or XLSX.")}) from None
    if not table:
        raise ValidationFailed(fields={"file": _l("The file is empty.")})
    header = [str(name).strip() for name in table[0]]
    rows = [dict(zip(header, row)) for row in table[1:] if any(str(cell).strip() for cell in row)]
    if len(rows) > IMPORT_LIMIT:
        raise ValidationFailed(fields={"file": _l("At most %(max)s rows per file.", max=IMPORT_LIMIT)})
    return rows


@dataclass
class ImportReport:
    created: int = 0
    errors: dict[int, dict[str, str]] = field(default_factory=dict)  # row number → field → message


def _row_values(session: Session, row: dict[str, Any], organization: Organization) -> dict[str, Any]:
    values = {name: (str(value).strip() if value is not None else "") for name, value in row.items()
              if name != OWNER_COLUMN}
    district = values.get("district", "")
    if district and not district.isdigit():
        match = session.scalar(sa.select(District.id).where(District.region_code == organization.region_code,
                                                             District.name_zh == district))
        values["district"] = str(match) if match else district
    for name in LIST_COLUMNS:
        if name in values:
            values[name] = [item.strip() for item in values[name].replace("，", ",").split(",") if item.strip()]
    for name in MONEY_COLUMNS:
        if name in values:
            raw = values[name]
            whole = re.fullmatch(r"(\d{1,16})(?:\.0+)?", raw)
            values[name] = None if raw == "" else int(whole.group(1)) if whole else raw
    return values


@service
def import_entries(session: Session, actor: Actor, kind: EntryKind, rows: Iterable[dict[str, Any]]) -> ImportReport:
    """All rows valid: every entry is created, published, in one transaction. Else nothing is, and
    the report says what is wrong in each row (row 2 is the first under the header)."""
    authorize(actor, Action.ENTRY_IMPORT)
    report = ImportReport()
    spec = KINDS[kind]
    staged = []
    organizations: dict[str, Organization | None] = {}
    for number, row in enumerate(rows, start=2):
        code = str(row.get(OWNER_COLUMN) or "").strip().upper()
        if code not in organizations:
            organizations[code] = session.scalar(sa.select(Organization).where(Organization.credit_code == code))
        organization = organizations[code]
        if (organization is None or organization.region_code != actor.region_code
                or organization.status is not OrganizationStatus.APPROVED
                or organization.kind not in spec.publishers):
            report.errors[number] = {OWNER_COLUMN: str(_l(
                "No approved organisation of your region that may publish this kind has this credit code."))}
            continue
        try:
            values = validate(spec, Context(session, organization), _row_values(session, row, organization),
                              partial=False)
        except ValidationFailed as error:
            report.errors[number] = {name: " ".join(texts) for name, texts in error.field_messages().items()}
            continue
        staged.append((organization, values))
    if report.errors:
        return report
    now = utcnow()
    for organization, values in staged:
        entry = ENTRY_MODELS[kind](organization_id=organization.id, region_code=organization.region_code,
                                   created_by_id=actor.id, status=EntryStatus.APPROVED, title="",
                                   submitted_at=now, reviewed_at=now, published_at=now)
        for field_spec, value in values.items():
            field_spec.write(entry, value)
        session.add(entry)
        session.flush()
        session.add(EntryEvent(entry_id=entry.id, actor_id=actor.id, action="import", to_status=EntryStatus.APPROVED,
                               reason=_("Imported from the regional library")))
        stage_entry_changed(session, entry)
        report.created += 1
    record(session, "entry.imported", actor.id, None, kind=kind.value, count=report.created)
    return report
