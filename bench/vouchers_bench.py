#!/usr/bin/env python3
"""The voucher benchmark of issue 5. Run it as bench/vouchers.

On a throwaway PostgreSQL database (BENCH_DATABASE_URL, default: a new database on 127.0.0.1 that is
dropped at the end) it measures against the targets in ../shared/design/quality.md:

  redemptions  voucher-paid orders recorded through the service layer (record_redemption, exactly as
               the API calls it) by 1, 4 and 16 concurrent clients, each a separate process with its own
               app and connection, for a fixed time; each client is the front desk of its own provider
               and redeems the vouchers of its own SMEs, as on a real day (orders of one voucher, or of
               one provider's payable account, take turns by design: see exchange/vouchers/ledger.py);
  audit        `vouchers audit` (audit_books) over at least 100,000 ledger entries.

The ledger for the audit is filled by more of the same redemptions (4 clients); nothing is written
around the services.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from exchange import create_app  # noqa: E402
from exchange.accounts.models import User  # noqa: E402
from exchange.extensions import db  # noqa: E402
from exchange.models import metadata as schema  # noqa: E402
from exchange.taxonomy.services import load_reference_data  # noqa: E402
from exchange.vouchers.audit import audit_books  # noqa: E402
from exchange.vouchers.models import LedgerEntry  # noqa: E402
from exchange.vouchers.services import OrderRequest, record_redemption  # noqa: E402
from tests import factories  # noqa: E402

TARGET_REDEMPTIONS_PER_SECOND_AT_4 = 200
TARGET_AUDIT_SECONDS = 5.0
CLIENT_COUNTS = (1, 4, 16)
VOUCHERS_PER_CLIENT = 4
FEE_FEN = 200          # a 2-yuan order: the voucher covers 1 yuan, so a voucher lasts for many orders


@dataclass(frozen=True)
class Desk:
    """One client: a provider's member, its service, and the vouchers it redeems."""

    provider_user_id: int
    product_id: int
    codes: list[str]


def make_app(url: str) -> Any:
    return create_app({"SQLALCHEMY_ENGINES": {"default": url}, "WTF_CSRF_ENABLED": False}, environment="test")


def build_desks(url: str, clients: int) -> list[Desk]:
    app = make_app(url)
    with app.app_context(), app.test_request_context():
        engine = db.engine
        schema.drop_all(engine)
        schema.create_all(engine)
        load_reference_data(db.session)
        session = db.session
        program = factories.program(session, "HE", budget_fen=10 ** 12, cap_per_org_fen=20_000_000,
                                    max_face_fen=20_000_000)
        desks = []
        for _ in range(clients):
            provider = factories.provider(session, "BJ", products=(("在线检测", "testing", "100"),)).owner
            product = factories.product_of(session, provider.organization_id)
            codes = []
            for _ in range(VOUCHERS_PER_CLIENT):
                sme = factories.organization(session, kind="sme", region="HE").owner
                codes.append(factories.voucher(session, sme, program.id, 20_000_000).code)
            desks.append(Desk(provider.id, product.id, codes))
        return desks


def client(url: str, desk: Desk, ready: Any, go: Any, seconds: float, queue: Any) -> None:
    """One client process: redeem round-robin over its vouchers until the time is up."""
    app = make_app(url)
    done = errors = 0
    with app.app_context():
        session = db.session
        actor = session.get(User, desk.provider_user_id)
        session.connection()
        ready.release()
        go.wait()
        deadline = time.time() + seconds
        while time.time() < deadline:
            code = desk.codes[done % len(desk.codes)]
            try:
                record_redemption(session, actor, OrderRequest(code, desk.product_id, FEE_FEN, f"B-{os.getpid()}-{done}"))
                done += 1
            except Exception:  # counted and shown: a benchmark with errors is not a result
                session.rollback()
                errors += 1
            actor = session.get(User, desk.provider_user_id)
    queue.put((done, errors))


def run_clients(url: str, desks: list[Desk], clients: int, seconds: float) -> tuple[int, int, float]:
    context = multiprocessing.get_context("spawn")  # clean processes: no connection shared across a fork
    queue, ready, go = context.Queue(), context.Semaphore(0), context.Event()
    processes = [context.Process(target=client, args=(url, desks[index], ready, go, seconds, queue))
                 for index in range(clients)]
    for process in processes:
        process.start()
    for _ in processes:  # every client imported, its app built and connected before the clock starts
        ready.acquire(timeout=300)
    go.set()
    results = [queue.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    return sum(r[0] for r in results), sum(r[1] for r in results), seconds


def ledger_entries(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(LedgerEntry)).scalar_one()
    engine.dispose()
    return count


def time_audit(url: str) -> tuple[float, int, int, bool]:
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        report = audit_books(db.session)
        elapsed = time.perf_counter() - started
    return elapsed, report.transactions, report.entries, report.ok


def throwaway_database() -> tuple[str, Any]:
    name = f"jjj_bench_vouchers_{os.getpid()}"
    admin = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c"]
    subprocess.run(admin + [f"CREATE DATABASE {name}"], check=True)
    return (f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            lambda: subprocess.run(admin + [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each concurrency level")
    parser.add_argument("--audit-entries", type=int, default=100_000, help="ledger size for the audit timing")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL")
    drop = None
    if not url:
        url, drop = throwaway_database()
    try:
        desks = build_desks(url, max(CLIENT_COUNTS))
        print(f"PostgreSQL: {url.rsplit('@', 1)[-1]} · {os.cpu_count()} CPUs · "
              f"{len(desks)} providers with {VOUCHERS_PER_CLIENT} vouchers each")
        print("Redemptions through the service layer (record_redemption), separate client processes:")
        rates = {}
        for clients in CLIENT_COUNTS:
            done, errors, seconds = run_clients(url, desks, clients, args.seconds)
            rates[clients] = done / seconds
            print(f"  {clients:>2} client(s): {done:>6} in {seconds:.0f} s = {rates[clients]:7.1f} /s"
                  + (f"  !! {errors} errors" if errors else ""))
        verdict = "PASS" if rates[4] >= TARGET_REDEMPTIONS_PER_SECOND_AT_4 else "FAIL"
        print(f"  target ≥ {TARGET_REDEMPTIONS_PER_SECOND_AT_4}/s at 4 clients: {verdict}")

        # Fill the ledger to the audit size with more redemptions (2 entries each) by 4 clients.
        while (entries := ledger_entries(url)) < args.audit_entries:
            missing_orders = (args.audit_entries - entries) // 2 + 1
            run_clients(url, desks, 4, max(2.0, min(120.0, missing_orders / max(rates[4], 1.0))))
        elapsed, transactions, entries, ok = time_audit(url)
        verdict = "PASS" if elapsed < TARGET_AUDIT_SECONDS and ok else "FAIL"
        print(f"Audit (vouchers audit) of {entries:,} ledger entries in {transactions:,} transactions: "
              f"{elapsed:.2f} s, books {'balance' if ok else 'BROKEN'}; target < {TARGET_AUDIT_SECONDS:.0f} s: {verdict}")
        return 0
    finally:
        if drop is not None:
            drop()


if __name__ == "__main__":
    sys.exit(main())
