"""Bounds on zip-based uploads (DOCX attachments, XLSX imports) before anyone unpacks them.

A few megabytes of zip can declare gigabytes of content: the server would spend its memory and
time unpacking them, and people downloading the attachment would get the bomb. The sizes checked
are those the archive declares; Python's zipfile never inflates an entry past its declared size.
"""
from __future__ import annotations

import zipfile

from flask_babel import lazy_gettext as _l

from exchange.errors import ValidationFailed

MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a DOCX full of photographs stays well below this
MAX_ENTRIES = 2000


def check_zip_bounds(archive: zipfile.ZipFile, field: str = "file") -> None:
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise ValidationFailed(fields={field: _l(
            "This file is made of more than %(max)s parts and is refused.", max=MAX_ENTRIES)})
    if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
        raise ValidationFailed(fields={field: _l(
            "This file unpacks to more than %(max)s MB and is refused.", max=MAX_UNPACKED_BYTES // (1024 * 1024))})
