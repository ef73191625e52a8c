"""Command line: `flask --app wsgi …` for users, seed data, the schema, vouchers and the worker."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from exchange.accounts.models import Role
from exchange.errors import DomainError
from exchange.extensions import db


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in error.field_messages().items())
    raise click.ClickException(f"{error.message} {details}".strip())


users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role if r is not Role.VISITOR]))
@click.option("--region", type=click.Choice(["BJ", "TJ", "HE"]))
@click.option("--org", "organization_id", type=int, help="Organisation id, for members.")
@click.option("--name", "display_name", help="Display name (defaults to the e-mail's local part).")
def create_user_command(email: str, role: str, region: str | None, organization_id: int | None,
                        display_name: str | None) -> None:
    """Create an account; the password is read from standard input."""
    from exchange.accounts.services import create_user, system_actor
    from exchange.orgs.models import Organization

    password = click.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty()) \
        if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    organization = db.session.get(Organization, organization_id) if organization_id else None
    if organization_id and organization is None:
        raise click.ClickException(f"No organisation with id {organization_id}.")
    try:
        user = create_user(db.session, system_actor(), email=email, display_name=display_name or email.split("@")[0],
                           password=password, role=Role(role), region_code=region, organization=organization)
    except DomainError as error:
        _fail(error)
    click.echo(f"Created user {user.id} <{user.email}> as {user.role.value}.")


@users_cli.command("disable")
@click.argument("user_id", type=int)
def disable_user_command(user_id: int) -> None:
    """Disable an account and end all its sessions."""
    from exchange.accounts.services import set_user_disabled, system_actor

    try:
        set_user_disabled(db.session, system_actor(), user_id, True)
    except DomainError as error:
        _fail(error)
    click.echo(f"Disabled user {user_id}.")


@users_cli.command("set-role")
@click.argument("user_id", type=int)
@click.option("--role", required=True, type=click.Choice([Role.REGIONAL_ADMIN.value, Role.PLATFORM_ADMIN.value]))
@click.option("--region", type=click.Choice(["BJ", "TJ", "HE"]))
def set_role_command(user_id: int, role: str, region: str | None) -> None:
    """Change an administrator's role or region; their sessions end."""
    from exchange.accounts.services import set_user_role, system_actor

    try:
        set_user_role(db.session, system_actor(), user_id, Role(role), region)
    except DomainError as error:
        _fail(error)
    click.echo(f"User {user_id} is now {role}{' of ' + region if region else ''}.")


seed_cli = AppGroup("seed", help="Load reference and demo data.")


@seed_cli.command("taxonomy")
def seed_taxonomy_command() -> None:
    """Load regions, districts and technology fields (idempotent)."""
    from exchange.taxonomy.services import load_reference_data

    load_reference_data(db.session)
    click.echo("Reference data loaded.")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Load reference data and the demo organisations and accounts under seed/ (idempotent)."""
    from exchange.demo.services import load_demo_data

    # Reviews link back to their entries: a request context lets url_for build those links.
    with current_app.test_request_context("/"):
        summary = load_demo_data(db.session)
    click.echo(f"Demo data loaded: {summary}.")


search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
def search_reindex_command() -> None:
    """Rebuild the index from the database into a fresh one and swap it in (no downtime)."""
    from exchange.search.services import backend, reindex

    count = reindex(db.session)
    click.echo(f"Indexed {count} entries into the {backend().name} backend.")


db_cli = AppGroup("db", help="Database schema (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade_command(revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    from exchange.migrations import upgrade

    upgrade(revision)


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade_command(revision: str) -> None:
    """Migrate the schema down to REVISION (default: one step)."""
    from exchange.migrations import downgrade

    downgrade(revision)


@click.command("worker")
@click.option("--idle", default=0.5, show_default=True, help="Seconds to wait when there is nothing to do.")
def worker_command(idle: float) -> None:
    """Run the background worker (outbox: search index, mail; voucher expiry) until stopped."""
    from exchange.notifications.services import run_worker

    stop = threading.Event()

    def request_stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    from exchange.search.services import prepare_engine

    prepare_engine()
    run_worker(app, stop, idle_seconds=idle)


vouchers_cli = AppGroup("vouchers", help="Innovation vouchers.")


@vouchers_cli.command("audit")
def vouchers_audit_command() -> None:
    """Check every invariant of the voucher books; exit non-zero on any break."""
    import time

    from exchange.vouchers.audit import audit_books

    started = time.perf_counter()
    report = audit_books(db.session)
    elapsed = time.perf_counter() - started
    for problem in report.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    click.echo(f"Audited {report.transactions} transactions, {report.entries} ledger entries in {elapsed:.2f} s: "
               + ("the books balance." if report.ok else f"{len(report.problems)} problem(s)."))
    if not report.ok:
        sys.exit(1)


@vouchers_cli.command("expire")
def vouchers_expire_command() -> None:
    """End the vouchers past their expiry now (the worker also does this periodically)."""
    from exchange.vouchers.services import expire_vouchers

    click.echo(f"Expired {expire_vouchers(db.session)} voucher(s).")


@click.command("backup")
@with_appcontext
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Archive to write (default: instance/backups/exchange-<UTC time>.tar.gz).")
def backup_command(output: Path | None) -> None:
    """Back up the database and the stored files into one archive."""
    from datetime import datetime, timezone

    from exchange.backup import BackupError, create_backup
    from exchange.storage import upload_dir

    if output is None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        output = Path(current_app.instance_path) / "backups" / f"exchange-{stamp}.tar.gz"
    try:
        manifest = create_backup(db.engine, upload_dir(), output)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up the {manifest.database} database (schema {manifest.schema_revision or 'unversioned'}) "
               f"and {manifest.files} stored file(s) to {output}.")


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that already holds data without asking.")
def restore_command(archive: Path, yes: bool) -> None:
    """Replace the database and stored files with a backup, migrate it, and rebuild the search index.

    Stop the web processes and the worker first: they would keep writing to what is replaced.
    """
    from exchange.backup import BackupError, database_has_data, read_manifest, restore_backup
    from exchange.storage import upload_dir
    from exchange.migrations import upgrade
    from exchange.search.services import backend, reindex

    try:
        manifest = read_manifest(archive)
        if database_has_data(db.engine) and not yes:
            click.confirm(f"The database already holds data. Replace it with the backup of {manifest.created_at}?",
                          abort=True)
        restore_backup(db.engine, upload_dir(), archive)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if manifest.schema_revision is not None:
        upgrade("head")  # a backup of an older version is brought up to this code's schema
    db.session.close()  # nothing cached from before the restore
    count = reindex(db.session)
    click.echo(f"Restored the backup of {manifest.created_at} ({manifest.files} stored file(s)); "
               f"indexed {count} entries into the {backend().name} backend.")


def register_commands(app: Flask) -> None:
    for command in (users_cli, seed_cli, db_cli, search_cli, vouchers_cli, worker_command, backup_command,
                    restore_command):
        app.cli.add_command(command)
