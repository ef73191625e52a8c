"""The command line: accounts from stdin, idempotent demo data."""
from __future__ import annotations

import sqlalchemy as sa

from exchange.accounts.models import Role, User
from exchange.catalog.models import Entry, EntryKind, EntryStatus, project_partners
from exchange.demo.services import DEMO_PASSWORD
from exchange.orgs.models import Organization, OrganizationStatus
from exchange.vouchers.models import LedgerAccount, ProviderProfile, Redemption, VoucherApplication, VoucherProgram


def test_users_create_reads_the_password_from_stdin(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "Admin.TJ@Example.cn",
                                                "--role", "regional_admin", "--region", "TJ"],
                                          input="一个很长的中文密码 with spaces\n")
    assert result.exit_code == 0, result.output
    user = db.scalar(sa.select(User).where(User.email == "admin.tj@example.cn"))
    assert user.role is Role.REGIONAL_ADMIN and user.region_code == "TJ"
    response = app.test_client().post("/api/v1/auth/tokens", json={"email": "admin.tj@example.cn",
                                                                     "password": "一个很长的中文密码 with spaces"})
    assert response.status_code == 201


def test_users_create_explains_a_bad_request(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "x@example.cn",
                                                "--role", "regional_admin"], input="long enough password\n")
    assert result.exit_code != 0 and "region" in result.output


def test_seed_demo_loads_all_regions_and_is_idempotent(app, db):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    counts = dict(db.execute(sa.select(Organization.status, sa.func.count()).group_by(Organization.status)).all())
    users = db.scalar(sa.select(sa.func.count()).select_from(User))
    regions = set(db.scalars(sa.select(Organization.region_code).distinct()))
    districts = db.scalar(sa.select(sa.func.count(sa.distinct(Organization.district_id))))
    roles = set(db.scalars(sa.select(User.role).distinct()))

    assert runner.invoke(args=["seed", "demo"]).exit_code == 0

    assert sum(counts.values()) >= 30 and counts[OrganizationStatus.PENDING] >= 3
    assert regions == {"BJ", "TJ", "HE"} and districts >= 15
    assert roles == set(Role) - {Role.VISITOR}
    assert db.scalar(sa.select(sa.func.count()).select_from(Organization)) == sum(counts.values())
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == users
    entries = dict(db.execute(sa.select(Entry.kind, sa.func.count()).group_by(Entry.kind)).all())
    assert entries[EntryKind.ACHIEVEMENT] >= 300 and entries[EntryKind.NEED] >= 150
    assert entries[EntryKind.EXPERT] >= 100 and entries[EntryKind.TALENT] >= 100 and entries[EntryKind.PROJECT] >= 60
    assert set(db.scalars(sa.select(Entry.status).distinct())) == set(EntryStatus)
    assert set(db.scalars(sa.select(Entry.region_code).distinct())) == {"BJ", "TJ", "HE"}
    cross_region = db.scalar(sa.select(sa.func.count(sa.distinct(project_partners.c.project_id))).select_from(
        project_partners.join(Organization, Organization.id == project_partners.c.organization_id)
        .join(Entry, Entry.id == project_partners.c.project_id))
        .where(Organization.region_code != Entry.region_code))
    assert cross_region >= 10
    login = app.test_client().post("/api/v1/auth/tokens", json={"email": "institute.bj@demo.jjj-exchange.cn",
                                                                  "password": DEMO_PASSWORD})
    assert login.status_code == 201
    programs = set(db.scalars(sa.select(VoucherProgram.region_code).where(VoucherProgram.status == "open")))
    assert programs == {"BJ", "TJ", "HE"}
    assert set(db.scalars(sa.select(ProviderProfile.status).distinct())) >= {"admitted", "in_notice", "applied"}
    cross_region_orders = db.scalar(sa.select(sa.func.count()).select_from(Redemption)
                                    .join(VoucherProgram, VoucherProgram.id == Redemption.program_id)
                                    .join(Organization, Organization.id == Redemption.provider_id)
                                    .where(Organization.region_code != VoucherProgram.region_code))
    assert cross_region_orders >= 2
    assert db.scalar(sa.select(sa.func.count()).select_from(VoucherApplication)
                     .where(VoucherApplication.status == "submitted")) >= 3
    assert runner.invoke(args=["vouchers", "audit"]).exit_code == 0


def test_vouchers_audit_exits_non_zero_on_a_broken_book(app, db):
    from tests import factories

    program = factories.program(db, "BJ")
    sme = factories.organization(db, kind="sme", region="BJ").owner
    voucher = factories.voucher(db, sme, program.id, 500_000)
    runner = app.test_cli_runner()
    healthy = runner.invoke(args=["vouchers", "audit"])
    assert healthy.exit_code == 0 and "the books balance" in healthy.output

    # Someone edits a balance by hand: the kept balance no longer equals the ledger.
    account = db.scalar(sa.select(LedgerAccount).where(LedgerAccount.voucher_id == voucher.id))
    account.balance_fen += 100
    db.commit()
    broken = runner.invoke(args=["vouchers", "audit"])

    assert broken.exit_code == 1
    assert f"account {account.key}: kept balance 500100 fen, ledger says 500000 fen" in broken.output


def test_no_account_exists_without_demo_data(app, db):
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 0
