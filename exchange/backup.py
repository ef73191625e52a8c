"""Backups: the database and the stored files in one archive, and the restore of such an archive.

SQLite is copied with its online backup API (a raw copy of a live database file can be torn);
PostgreSQL with `pg_dump --format=custom` and restored with `pg_restore`. The archive is a
gzipped tar holding `manifest.json`, the database and `uploads/…`. The search index is not
backed up: it is rebuilt from the restored database.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 - pg_dump/pg_restore are run with argument lists, never a shell
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

ARCHIVE_FORMAT = 1
UPLOADS = "uploads"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    database: str  # "sqlite" or "postgresql"
    schema_revision: str | None
    created_at: str
    files: int

    def to_json(self) -> bytes:
        return json.dumps({"format": ARCHIVE_FORMAT, "database": self.database,
                           "schema_revision": self.schema_revision, "created_at": self.created_at,
                           "files": self.files}, indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != ARCHIVE_FORMAT:
            raise BackupError(f"unknown archive format {data.get('format')!r} (this version reads {ARCHIVE_FORMAT})")
        return cls(database=data["database"], schema_revision=data.get("schema_revision"),
                   created_at=data["created_at"], files=int(data["files"]))


def _schema_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection string for pg_dump/pg_restore, and the environment carrying the password
    (never on the command line, where other users of the machine could read it)."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(arguments: list[str], environment: dict[str, str]) -> None:
    tool = shutil.which(arguments[0])
    if tool is None:
        raise BackupError(f"{arguments[0]} is not installed (Debian: apt-get install postgresql-client)")
    finished = subprocess.run([tool, *arguments[1:]], env=environment, capture_output=True,  # nosec B603
                              text=True, check=False)
    if finished.returncode != 0:
        raise BackupError(f"{arguments[0]} failed: {finished.stderr.strip()[-2000:]}")


def _sqlite_copy(source_path: str | Path, destination_path: str | Path) -> None:
    """Page by page through SQLite's online backup API: consistent even while others write."""
    source = sqlite3.connect(source_path)
    try:
        destination = sqlite3.connect(destination_path)
        with destination:
            source.backup(destination)
        destination.close()
    finally:
        source.close()


def _dump_database(engine: sa.Engine, target: Path) -> None:
    if engine.dialect.name == "sqlite":
        _sqlite_copy(engine.url.database or "", target)
        return
    connection_string, environment = _libpq(engine.url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", connection_string],
         environment)


def create_backup(engine: sa.Engine, upload_dir: Path, archive: Path) -> Manifest:
    """Write the database and every stored file into `archive` (a .tar.gz)."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of {engine.dialect.name} databases are not supported")
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up")
    files = sorted(path for path in upload_dir.rglob("*") if path.is_file()) if upload_dir.is_dir() else []
    manifest = Manifest(database=engine.dialect.name, schema_revision=_schema_revision(engine),
                        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), files=len(files))
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / _database_member(manifest.database)
        _dump_database(engine, dump)
        with tarfile.open(partial, "w:gz") as tar:
            _add_bytes(tar, "manifest.json", manifest.to_json())
            tar.add(dump, arcname=dump.name)
            for path in files:
                tar.add(path, arcname=f"{UPLOADS}/{path.relative_to(upload_dir).as_posix()}")
    partial.replace(archive)  # a crash mid-way never leaves a truncated archive under the final name
    return manifest


def _database_member(database: str) -> str:
    return "database.sqlite" if database == "sqlite" else "database.pgdump"


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(timezone.utc).timestamp())
    tar.addfile(info, io.BytesIO(data))


def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            return Manifest.from_json(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise BackupError(f"{archive} is not a backup archive of this portal ({error})") from error


def database_has_data(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        if not inspector.has_table("organizations"):
            return False
        return connection.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM organizations)")) in (1, True)


def restore_backup(engine: sa.Engine, upload_dir: Path, archive: Path) -> Manifest:
    """Replace the database and the stored files with those in `archive`.

    The caller rebuilds the search index and migrates the schema afterwards.
    """
    manifest = read_manifest(archive)
    if manifest.database != engine.dialect.name:
        raise BackupError(f"the archive holds a {manifest.database} database; this portal runs on "
                          f"{engine.dialect.name}: restore it into a {manifest.database} database")
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive, "r:gz") as tar:
        members = [member for member in tar.getmembers()
                   if member.name == _database_member(manifest.database) or member.name.startswith(f"{UPLOADS}/")]
        try:
            # The "data" filter refuses absolute paths, links out of the folder and device files.
            tar.extractall(work, members=members, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise BackupError(f"{archive} cannot be unpacked safely ({error}); nothing was changed") from error
        engine.dispose()
        _load_database(engine, Path(work) / _database_member(manifest.database))
        _replace_uploads(Path(work) / UPLOADS, upload_dir)
    return manifest


def _load_database(engine: sa.Engine, dump: Path) -> None:
    if not dump.is_file():
        raise BackupError("the archive has no database")
    if engine.dialect.name == "sqlite":
        _sqlite_copy(dump, engine.url.database or "")
        return
    connection_string, environment = _libpq(engine.url)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          f"--dbname={connection_string}", str(dump)], environment)


def _replace_uploads(restored: Path, upload_dir: Path) -> None:
    upload_dir.mkdir(parents=True, exist_ok=True)
    for path in upload_dir.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if restored.is_dir():
        for path in restored.iterdir():
            shutil.move(str(path), upload_dir / path.name)

