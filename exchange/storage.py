"""Stored files (entry attachments, redemption evidence): checked by content, kept outside the web root
under random names. Who may read a file is the business of the feature that stores it."""
from __future__ import annotations

import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l

from exchange.archives import check_zip_bounds
from exchange.errors import ValidationFailed

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024

# (content type, extensions that may carry it)
TYPES = {
    "pdf": ("application/pdf", {".pdf"}),
    "png": ("image/png", {".png"}),
    "jpeg": ("image/jpeg", {".jpg", ".jpeg"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {".docx"}),
}


def detect_type(head: bytes, stream: IO[bytes], field_name: str = "file") -> str | None:
    """The file's real type from its first bytes (and, for DOCX, its zip directory, whose declared
    sizes must stay within bounds: a ValidationFailed otherwise)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                check_zip_bounds(archive, field_name)
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names and any(name.startswith("word/") for name in names):
            return "docx"
    return None


def upload_dir() -> Path:
    directory = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: IO[bytes]


def _clean_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = "".join(char for char in name if char.isprintable() and char not in '"<>|:*?')
    return name[-200:] or "attachment"


@dataclass(frozen=True)
class StoredFile:
    original_name: str
    stored_name: str
    content_type: str
    size_bytes: int

    def discard(self) -> None:
        delete_stored_files([self.stored_name])


def store_upload(upload: Upload, field_name: str = "file") -> StoredFile:
    """Check a file by its content and name, and store it under a random name outside the web root."""
    data = upload.stream.read(MAX_ATTACHMENT_BYTES + 1)
    if not data:
        raise ValidationFailed(fields={field_name: _l("Please choose a file.")})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(fields={field_name: _l("A file may be at most 20 MB.")})
    name = _clean_name(upload.filename)
    detected = detect_type(data[:16], io.BytesIO(data), field_name)
    extension = os.path.splitext(name)[1].lower()
    if detected is None or extension not in TYPES[detected][1]:
        raise ValidationFailed(fields={field_name: _l("Only PDF, PNG, JPEG and DOCX files are accepted, "
                                                      "and the name must end as the content is.")})
    stored = StoredFile(original_name=name, stored_name=secrets.token_hex(16), content_type=TYPES[detected][0],
                        size_bytes=len(data))
    (upload_dir() / stored.stored_name).write_bytes(data)
    return stored


def delete_stored_files(stored_names: list[str]) -> None:
    for name in stored_names:
        (upload_dir() / name).unlink(missing_ok=True)
