"""Tables handed to the user as files (CSV, XLSX): safe to open in a spreadsheet, always attachments."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from pathlib import Path

from flask import Response, send_file
from openpyxl import Workbook

from exchange.errors import NotFound

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    """A text starting with = + - @ (or a tab or CR) would run as a formula in a spreadsheet: quote it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def attachment_response(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """UTF-8 with a BOM, which lets Excel read Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return attachment_response(("\ufeff" + buffer.getvalue()).encode("utf-8"), CSV_TYPE, filename)


def xlsx_download(filename: str, sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return attachment_response(output.getvalue(), XLSX_TYPE, filename)


def stored_file_download(path: Path, content_type: str, name: str) -> Response:
    """An uploaded file (stored under a random name) sent back as an attachment under its own name, never cached."""
    if not path.is_file():
        raise NotFound()
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
