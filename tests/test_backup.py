"""Backups and restores: the drill an operator runs, on SQLite and on PostgreSQL."""
from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange.extensions import db as extension_db
from exchange.models import metadata
from exchange.search.services import all_documents, search, SearchParams
from exchange.vouchers.audit import audit_books
from tests import factories
from tests.conftest import POSTGRES_SERVER_URL, POSTGRES_URL, make_app


def _row_counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in metadata.sorted_tables}


@pytest.fixture
def restore_target(tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test's own, to restore into."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    server = sa.engine.make_url(POSTGRES_SERVER_URL)
    name = f"{sa.engine.make_url(POSTGRES_URL).database}_restore"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_restore_drill_brings_back_the_demo_with_balanced_books_and_a_searchable_index(app, db, tmp_path,
                                                                                      restore_target):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    stored = Path(app.config["UPLOAD_DIR"]) / "ab" / "contract.pdf"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"%PDF-1.4 a stored contract")
    expected_counts = _row_counts(db)
    expected_documents = len(list(all_documents(db)))

    archive = tmp_path / "backups" / "demo.tar.gz"
    result = runner.invoke(args=["backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 stored file(s)" in result.output

    restored_app = make_app(restore_target, UPLOAD_DIR=str(tmp_path / "restored-uploads"),
                            SEARCH_INDEX_PATH=str(tmp_path / "restored-search.sqlite"))
    with restored_app.test_request_context():  # the CLI runs in the current app's context, if any
        result = restored_app.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert f"indexed {expected_documents} entries" in result.output

        session = extension_db.session
        assert _row_counts(session) == expected_counts
        report = audit_books(session)
        assert report.ok, report.problems
        assert report.entries > 0
        from exchange.accounts.services import system_actor

        answer = search(session, system_actor(), SearchParams())
        assert answer.total > 0
        extension_db.engine.dispose()
    assert (tmp_path / "restored-uploads" / "ab" / "contract.pdf").read_bytes() == b"%PDF-1.4 a stored contract"


def test_restore_asks_before_replacing_a_database_that_holds_data(app, db, tmp_path):
    runner = app.test_cli_runner()
    factories.organization(db)
    archive = tmp_path / "demo.tar.gz"
    assert runner.invoke(args=["backup", "--output", str(archive)]).exit_code == 0
    before = _row_counts(db)

    result = runner.invoke(args=["restore", str(archive)], input="n\n")

    assert result.exit_code != 0
    assert "already holds data" in result.output
    db.expire_all()
    assert _row_counts(db) == before


def test_restore_refuses_what_is_not_a_backup_archive(app, tmp_path):
    not_an_archive = tmp_path / "notes.tar.gz"
    not_an_archive.write_bytes(b"not a tar file")

    result = app.test_cli_runner().invoke(args=["restore", str(not_an_archive)])

    assert result.exit_code != 0
    assert "is not a backup archive of this portal" in result.output


def test_restore_refuses_an_archive_of_the_other_kind_of_database(app, tmp_path):
    other_kind = "sqlite" if POSTGRES_URL else "postgresql"
    archive = tmp_path / "other.tar.gz"
    manifest = (b'{"format": 1, "database": "%s", "schema_revision": null, "created_at": "2026-12-01T00:00:00+00:00",'
                b' "files": 0}' % other_kind.encode())
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_bytes(manifest)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(manifest_file, arcname="manifest.json")

    result = app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])

    assert result.exit_code != 0
    assert f"holds a {other_kind} database" in result.output


def test_a_restore_archive_cannot_write_outside_the_upload_folder(app, tmp_path):
    runner = app.test_cli_runner()
    archive = tmp_path / "backup.tar.gz"
    assert runner.invoke(args=["backup", "--output", str(archive)]).exit_code == 0
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_bytes(b"owned")
    with tarfile.open(archive, "r:gz") as source, tarfile.open(evil, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        target.add(payload, arcname="uploads/../../escaped")

    result = runner.invoke(args=["restore", str(evil), "--yes"])

    assert result.exit_code != 0
    assert not (tmp_path / "escaped").exists()
