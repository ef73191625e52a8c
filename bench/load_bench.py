#!/usr/bin/env python3
"""The mixed-load benchmark of issue 15. Run it as bench/load.

It starts the production stack on this machine — gunicorn (2 workers) with EXCHANGE_ENV=production on a
throwaway PostgreSQL database, Redis for the login limits, a throwaway Meilisearch, and `flask worker` —
loads the demo data through `flask seed demo`, scales its entries ×10 (copies of the approved entries,
then `flask search reindex`), and drives it from separate load processes, closed loop (each user sends
its next request when the last one answered), for a fixed time per step at 4, 16 and 32 users.

The mix, per request drawn at random:
  search      25 %  the search page (15) and the search API (10) with terms of the demo's own fields
  lists       20 %  library list pages, pages 1–20 of the five kinds
  details     20 %  entry detail pages
  home         5 %  the home page
  api reads   15 %  signed-in API reads (bearer tokens): /me, own vouchers, achievement list
  submissions 10 %  an enterprise creates a technology need through the API and submits it (2 requests)
  redemptions  5 %  a provider records a voucher-paid order through the API (Idempotency-Key)

Per step it prints requests/s, p50/p95/p99 latency, errors (any 4xx/5xx or failed connection counts) and
the share of the CPU taken by processes outside the stack and the load generator (noise that makes
a step's figures less trustworthy). With --profile DIR, py-spy (if installed) records each gunicorn
worker during each step into DIR as speedscope files.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USER_STEPS = (4, 16, 32)
TARGET_REQUESTS_PER_SECOND = 250
TARGET_P95_MS_AT_32 = 150
DEMO_PASSWORD = "jjj-demo-2026"
SEARCH_TERMS = ("电池", "石墨烯", "疫苗", "机器人", "人工智能", "氢能", "传感器", "检测", "芯片", "光伏",
                "储能", "土壤修复", "医疗器械", "中药", "5G", "数控", "育种", "轨道", "设计", "新材料")
KINDS = ("achievements", "needs", "experts", "talents", "projects")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 60.0) -> None:
    import requests

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


# The stack ------------------------------------------------------------------------------------------

@dataclass
class Stack:
    base_url: str
    environment: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def flask(self, *arguments: str) -> str:
        finished = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *arguments], cwd=ROOT,
                                  env=self.environment, capture_output=True, text=True, check=False)
        if finished.returncode != 0:
            raise RuntimeError(f"flask {' '.join(arguments)} failed (exit {finished.returncode}):\n"
                               f"{finished.stdout[-2000:]}\n{finished.stderr[-3000:]}")
        return finished.stdout.strip()

    def stack_pids(self) -> set[int]:
        """Every process of the stack and the load generator: ours, PostgreSQL's and Redis's."""
        pids = {os.getpid()}
        for process in self.processes.values():
            pids |= descendants(process.pid) | {process.pid}
        pids |= descendants(os.getpid())
        for pid in all_pids():
            if process_name(pid) in ("postgres", "redis-server"):
                pids.add(pid)
        return pids


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def machine_busy_ticks() -> int:
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle


def start_stack(work: Path, stack_cleanup: ExitStack, database_url: str) -> Stack:
    meili_binary = subprocess.run([str(ROOT / "scripts/install-meilisearch")], capture_output=True, text=True,
                                  check=True).stdout.strip()
    meili_port, web_port = free_port(), free_port()
    meili_key = secrets.token_urlsafe(24)
    base_url = f"http://127.0.0.1:{web_port}"
    environment = {
        **os.environ,
        "EXCHANGE_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        "MEILI_URL": f"http://127.0.0.1:{meili_port}", "MEILI_MASTER_KEY": meili_key,
        "MEILI_INDEX": f"jjj_load_{os.getpid()}", "FORCE_HTTPS": "0", "PUBLIC_URL": base_url,
        "MAIL_BACKEND": "log", "UPLOAD_DIR": str(work / "uploads"), "PYTHONUNBUFFERED": "1",
    }
    stack = Stack(base_url, environment)
    meili = subprocess.Popen([meili_binary, "--http-addr", f"127.0.0.1:{meili_port}", "--master-key", meili_key,
                              "--db-path", str(work / "meili"), "--no-analytics", "--env", "production",
                              "--max-indexing-threads", "2", "--log-level", "WARN"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.processes["meilisearch"] = meili
    stack_cleanup.callback(stop, meili)
    wait_for(f"http://127.0.0.1:{meili_port}/health")
    return stack


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def serve(stack: Stack, stack_cleanup: ExitStack, log: Path) -> None:
    port = stack.base_url.rsplit(":", 1)[1]
    out = log.open("ab")
    gunicorn = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                 "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=stack.environment,
                                stdout=out, stderr=out)
    stack.processes["gunicorn"] = gunicorn
    stack_cleanup.callback(stop, gunicorn)
    worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                              env=stack.environment, stdout=out, stderr=out)
    stack.processes["worker"] = worker
    stack_cleanup.callback(stop, worker)
    wait_for(stack.base_url + "/", 120)


# The data -------------------------------------------------------------------------------------------

def scale_entries(database_url: str, factor: int) -> int:
    """Copy every approved entry factor−1 times (same owner, field and text, numbered titles).

    Written straight to the tables: thousands of entries through create/submit/approve would make the set-up
    longer than the measurement; `flask search reindex` indexes them afterwards like any other."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    import exchange.models  # noqa: F401  (every mapper, for the relationships between features)
    from exchange.catalog.models import Entry, EntryMode, EntryStatus

    engine = sa.create_engine(database_url)
    copies = 0
    with Session(engine) as session:
        originals = session.scalars(sa.select(Entry).where(Entry.status == EntryStatus.APPROVED)).all()
        for copy in range(2, factor + 1):
            for original in originals:
                mapper = sa.inspect(type(original))
                values = {attribute.key: getattr(original, attribute.key) for attribute in mapper.column_attrs
                          if attribute.key not in ("id", "kind")}
                values["title"] = f"{original.title}（{copy}）"[: Entry.title.type.length]
                duplicate = type(original)(**values)
                duplicate.modes = [EntryMode(mode=mode.mode) for mode in original.modes]
                session.add(duplicate)
                copies += 1
            session.flush()
        session.commit()
    engine.dispose()
    return copies


@dataclass(frozen=True)
class Fixtures:
    entry_ids: dict[str, list[int]]
    readers: list[str]                   # bearer tokens of members who read through the API
    sme_tokens: list[str]
    posters: list[tuple[str, int]]       # (token, district id) of enterprise members posting needs
    desks: list[tuple[str, int, list[str]]]  # (provider token, service product id, voucher codes)


def prepare_fixtures(stack: Stack) -> Fixtures:
    """Tokens through the API, vouchers with room for thousands of small orders through the services."""
    import requests
    import sqlalchemy as sa

    from exchange import create_app
    from exchange.accounts.models import User
    from exchange.catalog.models import Entry, EntryStatus
    from exchange.extensions import db
    from exchange.orgs.models import Organization
    from tests import factories

    def token(email: str) -> str:
        answer = requests.post(stack.base_url + "/api/v1/auth/tokens",
                               json={"email": email, "password": DEMO_PASSWORD}, timeout=30)
        answer.raise_for_status()
        return answer.json()["token"]

    app = create_app({"SQLALCHEMY_ENGINES": {"default": stack.environment["DATABASE_URL"]},
                      "MEILI_URL": stack.environment["MEILI_URL"],
                      "MEILI_MASTER_KEY": stack.environment["MEILI_MASTER_KEY"],
                      "MEILI_INDEX": stack.environment["MEILI_INDEX"]}, environment="test")
    with app.app_context(), app.test_request_context():
        session = db.session
        entry_ids = {kind: [] for kind in KINDS}
        for entry_id, kind in session.execute(sa.select(Entry.id, Entry.kind)
                                              .where(Entry.status == EntryStatus.APPROVED)):
            entry_ids[f"{kind.value}s"].append(entry_id)
        posters = []
        for region in ("bj", "tj", "he"):
            user = session.scalar(sa.select(User).where(User.email == f"enterprise.{region}@demo.jjj-exchange.cn"))
            posters.append((user.email, session.get(Organization, user.organization_id).district_id))
        program = factories.program(session, "HE", budget_fen=10 ** 12, cap_per_org_fen=10 ** 10,
                                    max_face_fen=10 ** 10)
        desks = []
        for region in ("bj", "tj", "he"):
            provider = session.scalar(sa.select(User).where(User.email == f"provider.{region}@demo.jjj-exchange.cn"))
            product = factories.product_of(session, provider.organization_id)
            codes = []
            for _ in range(4):
                sme = factories.organization(session, kind="sme", region="HE").owner
                codes.append(factories.voucher(session, sme, program.id, 10 ** 9).code)
            desks.append((provider.email, product.id, codes))
        session.commit()
    readers = [token(f"{role}.{region}@demo.jjj-exchange.cn") for role in ("institute", "enterprise")
               for region in ("bj", "tj", "he")]
    sme_tokens = [token(f"sme.{region}@demo.jjj-exchange.cn") for region in ("bj", "tj", "he")]
    return Fixtures(entry_ids=entry_ids, readers=readers, sme_tokens=sme_tokens,
                    posters=[(token(email), district) for email, district in posters],
                    desks=[(token(email), product, codes) for email, product, codes in desks])


# The load -------------------------------------------------------------------------------------------

def one_request(http: Any, base: str, fixtures: Fixtures, rng: random.Random) -> list[tuple[str, float, bool]]:
    """One action of a user: (kind of request, seconds, ok) for each HTTP request it took."""
    draw = rng.random()
    timings: list[tuple[str, float, bool]] = []

    def call(label: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            answer = http.request(method, base + path, timeout=30, allow_redirects=False, **kwargs)
            ok = answer.status_code < 400
        except Exception:  # a refused or dropped connection is an error of the step, not of the bench
            answer, ok = None, False
        timings.append((label, time.perf_counter() - started, ok))
        return answer

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    if draw < 0.15:
        call("search page", "GET", "/search", params={"q": rng.choice(SEARCH_TERMS)})
    elif draw < 0.25:
        call("search api", "GET", "/api/v1/search", params={"q": rng.choice(SEARCH_TERMS)})
    elif draw < 0.45:
        call("list page", "GET", f"/{rng.choice(KINDS)}", params={"page": rng.randint(1, 20)})
    elif draw < 0.65:
        kind = rng.choice([kind for kind in KINDS if fixtures.entry_ids[kind]])
        call("detail page", "GET", f"/{kind}/{rng.choice(fixtures.entry_ids[kind])}")
    elif draw < 0.70:
        call("home", "GET", "/")
    elif draw < 0.85:
        which = rng.random()
        if which < 0.4:
            call("api read", "GET", "/api/v1/me", headers=bearer(rng.choice(fixtures.readers)))
        elif which < 0.7:
            call("api read", "GET", "/api/v1/vouchers", headers=bearer(rng.choice(fixtures.sme_tokens)))
        else:
            call("api read", "GET", "/api/v1/achievements", params={"page": rng.randint(1, 20)},
                 headers=bearer(rng.choice(fixtures.readers)))
    elif draw < 0.95:
        token, district = rng.choice(fixtures.posters)
        created = call("submission", "POST", "/api/v1/needs", headers=bearer(token), json={
            "title": f"压测需求 {uuid.uuid4().hex[:8]}：锂电池极片缺陷在线检测", "district": district,
            "summary": "需要一套产线上的极片缺陷在线检测方案，检出率不低于 99%。", "field": "nev.power-battery",
            "keywords": ["缺陷检测", "机器视觉"], "budget_min_fen": 10_000_000, "budget_max_fen": 50_000_000,
            "deadline": "2030-06-30", "modes": ["joint_development"], "required_maturity": "pilot"})
        if created is not None and created.status_code == 201:
            call("submission", "POST", f"/api/v1/needs/{created.json()['id']}/submit", headers=bearer(token))
    else:
        token, product, codes = rng.choice(fixtures.desks)
        call("redemption", "POST", "/api/v1/redemptions",
             headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex},
             json={"voucher_code": rng.choice(codes), "service_product_id": product, "fee_fen": 200,
                   "contract_reference": f"LOAD-{uuid.uuid4().hex[:10]}"})
    return timings


def load_process(base: str, fixtures: Fixtures, users: int, seconds: float, seed: int, go: Any, queue: Any) -> None:
    """`users` closed-loop users as threads of one process, each with its own kept-alive connection."""
    import requests

    results: list[tuple[str, float, bool]] = []
    lock = threading.Lock()

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        http = requests.Session()
        mine: list[tuple[str, float, bool]] = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            mine.extend(one_request(http, base, fixtures, rng))
        with lock:
            results.extend(mine)

    go.wait()
    threads = [threading.Thread(target=user, args=(index,)) for index in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def run_step(stack: Stack, fixtures: Fixtures, users: int, seconds: float, profile_dir: Path | None) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue, go = context.Queue(), context.Event()
    generators = min(users, 2)  # two load processes: one per core, threads for the users inside
    shares = [users // generators + (1 if index < users % generators else 0) for index in range(generators)]
    processes = [context.Process(target=load_process, args=(stack.base_url, fixtures, share, seconds, index, go, queue))
                 for index, share in enumerate(shares)]
    for process in processes:
        process.start()
    time.sleep(2.0)  # the load processes import and connect before the clock starts
    profilers = start_profilers(stack, profile_dir, users, seconds)
    pids = stack.stack_pids() | {process.pid for process in processes}
    ours_before = sum(cpu_ticks(pid) for pid in pids)
    busy_before = machine_busy_ticks()
    started = time.perf_counter()
    go.set()
    results = [item for _ in processes for item in queue.get(timeout=seconds + 120)]
    elapsed = time.perf_counter() - started
    pids |= stack.stack_pids()
    ours = sum(cpu_ticks(pid) for pid in pids) - ours_before
    busy = machine_busy_ticks() - busy_before
    for process in processes:
        process.join()
    for profiler in profilers:
        profiler.wait(timeout=60)
    latencies = sorted(seconds_taken for _, seconds_taken, _ in results)
    by_kind: dict[str, int] = {}
    for label, _, ok in results:
        if not ok:
            by_kind[label] = by_kind.get(label, 0) + 1
    return {"users": users, "requests": len(results), "rps": len(results) / elapsed,
            "p50": percentile(latencies, 0.50) * 1000, "p95": percentile(latencies, 0.95) * 1000,
            "p99": percentile(latencies, 0.99) * 1000, "errors": sum(by_kind.values()), "errors_by_kind": by_kind,
            "other_cpu_share": max(0.0, (busy - ours) / busy) if busy > 0 else 0.0}


def start_profilers(stack: Stack, profile_dir: Path | None, users: int, seconds: float) -> list[Any]:
    if profile_dir is None:
        return []
    py_spy = shutil.which("py-spy") or str(ROOT / ".venv/bin/py-spy")
    if not Path(py_spy).exists():
        print("  (--profile: py-spy is not installed; `.venv/bin/pip install py-spy`)")
        return []
    profile_dir.mkdir(parents=True, exist_ok=True)
    workers = descendants(stack.processes["gunicorn"].pid)
    return [subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--format",
                              "speedscope", "--output", str(profile_dir / f"users{users}-worker{pid}.json")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in workers]


# Main -----------------------------------------------------------------------------------------------

def throwaway_database() -> tuple[str, Any]:
    name = f"jjj_bench_load_{os.getpid()}"
    admin = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c"]
    subprocess.run(admin + [f"CREATE DATABASE {name}"], check=True)
    return (f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            lambda: subprocess.run(admin + [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each step")
    parser.add_argument("--scale", type=int, default=10, help="entries of the demo data multiplied by this")
    parser.add_argument("--users", type=int, nargs="+", default=list(USER_STEPS), help="users of each step")
    parser.add_argument("--profile", type=Path, help="write a py-spy profile of each worker and step here")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with ExitStack() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="jjj-load-"))
        cleanup.callback(shutil.rmtree, work, True)
        database_url, drop = throwaway_database()
        cleanup.callback(drop)
        stack = start_stack(work, cleanup, database_url)
        print(f"Setting up: migrations, demo data ×{args.scale}, search index …", flush=True)
        stack.flask("db", "upgrade")
        stack.flask("seed", "demo")
        copies = scale_entries(database_url, args.scale)
        print(f"  {stack.flask('search', 'reindex')} ({copies} copies of approved entries added)", flush=True)
        serve(stack, cleanup, work / "stack.log")
        fixtures = prepare_fixtures(stack)
        print(f"Production stack at {stack.base_url}: gunicorn ×2 workers, PostgreSQL, Redis, Meilisearch, "
              f"flask worker; {os.cpu_count()} CPUs shared with the load generator", flush=True)
        print(f"{'users':>5} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
              f"{'other CPU':>9}")
        steps = []
        for users in args.users:
            step = run_step(stack, fixtures, users, args.seconds, args.profile)
            steps.append(step)
            print(f"{users:>5} {step['requests']:>9} {step['rps']:>7.1f} {step['p50']:>7.1f} {step['p95']:>7.1f} "
                  f"{step['p99']:>7.1f} {step['errors']:>6} {step['other_cpu_share']:>8.0%}"
                  + (f"  errors: {step['errors_by_kind']}" if step["errors"] else ""), flush=True)
        worst_rps = min(step["rps"] for step in steps)
        at_32 = next((step for step in steps if step["users"] == 32), None)
        print(f"targets: 0 errors at every step: {'PASS' if all(s['errors'] == 0 for s in steps) else 'FAIL'}; "
              f"≥ {TARGET_REQUESTS_PER_SECOND} req/s: {'PASS' if worst_rps >= TARGET_REQUESTS_PER_SECOND else 'FAIL'}"
              + (f"; p95 ≤ {TARGET_P95_MS_AT_32} ms at 32 users: "
                 f"{'PASS' if at_32['p95'] <= TARGET_P95_MS_AT_32 else 'FAIL'}" if at_32 else ""))
        if args.json:
            args.json.write_text(json.dumps(steps, indent=2))
        log = (work / "stack.log").read_text(errors="replace")
        if "Traceback" in log:
            print("The stack logged tracebacks during the run:\n" + log[-4000:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
