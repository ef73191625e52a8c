"""Meilisearch as production runs it: settings in code, fail-over, and an index that loses nothing."""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from exchange.accounts.models import Visitor
from exchange.search import services
from exchange.search.documents import FACETS
from exchange.search.meili import FILTERABLE
from exchange.search.services import SearchParams
from exchange.search.api import SearchAnswerSchema
from tests import factories
from tests.conftest import require_service

MEILI_BIN = os.environ.get("TEST_MEILI_BIN")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Meilisearch:
    """A Meilisearch of the test's own, so that the test may stop and start it."""

    def __init__(self, data: Path) -> None:
        self.port, self.data, self.key = free_port(), data, "test-master-key-0123456789"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MEILI_BIN, "--http-addr", f"127.0.0.1:{self.port}", "--master-key", self.key, "--db-path",
             str(self.data / "data.ms"), "--no-analytics", "--env", "development", "--log-level", "WARN"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1)  # noqa: S310 (loopback)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Meilisearch did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """These tests start a Meilisearch of their own: once each, not once per backend as the contract tests."""
    return {}


@pytest.fixture
def meili(tmp_path):  # type: ignore[no-untyped-def]
    require_service(bool(MEILI_BIN), "a Meilisearch binary (TEST_MEILI_BIN; scripts/test sets it)")
    server = Meilisearch(tmp_path)
    server.start()
    yield server
    server.stop()


def ready_app(tmp_path: Path, **settings: Any) -> Any:
    """An app with its own settings on the test database, schema and reference data in place."""
    from exchange.extensions import db
    from exchange.models import metadata
    from exchange.taxonomy.services import load_reference_data
    from tests.conftest import _prepare_postgres, database_url, make_app

    application = make_app(database_url(tmp_path), UPLOAD_DIR=str(tmp_path / "uploads"), **settings)
    with application.app_context():
        if db.engine.dialect.name == "postgresql":
            _prepare_postgres(db.engine)
        else:
            metadata.create_all(db.engine)
        load_reference_data(db.session)
    return application


@pytest.fixture
def meili_app(meili, tmp_path):  # type: ignore[no-untyped-def]
    from exchange.extensions import db

    application = ready_app(tmp_path, MEILI_URL=meili.url, MEILI_MASTER_KEY=meili.key, MEILI_INDEX="entries")
    with application.test_request_context():
        yield application
    with application.app_context():
        db.engine.dispose()


def drain(session) -> None:  # type: ignore[no-untyped-def]
    from exchange.notifications import outbox

    while outbox.drain(session):
        pass


def test_every_facet_and_filter_is_filterable_in_the_settings_read_back(meili_app):
    from exchange.extensions import db

    services.ensure_vocabulary(db.session)
    services.prepare_engine()
    settings = services.backend().read_settings()
    assert set(FACETS) <= set(settings["filterableAttributes"])
    assert set(FILTERABLE) <= set(settings["filterableAttributes"])
    assert {"published_at", "price_fen"} <= set(settings["sortableAttributes"])
    assert settings["synonyms"]["人工智能"] == ["ai"]
    assert "机器人" in settings["dictionary"]  # which the segmenter would cut into 机器 人
    assert "动力电池" not in settings["dictionary"]  # cut into 动力 电池 all the same: not worth its cost per query
    assert settings["localizedAttributes"][0]["locales"] == ["cmn"]


def test_searches_reuse_one_kept_alive_connection_per_thread_and_process(meili_app, monkeypatch):
    from exchange.extensions import db

    services.prepare_engine()
    engine = services.backend()
    for query in ("电池", "芯片", "电池"):
        assert services.search(db.session, Visitor(), SearchParams(q=query)).backend == "meilisearch"
    session = engine._index().http.session
    pools = session.get_adapter(meili_app.config["MEILI_URL"]).poolmanager.pools
    assert [pools[key].num_connections for key in pools.keys()] == [1]  # the client alone opens one per request

    other_thread: list[Any] = []
    thread = threading.Thread(target=lambda: other_thread.append(engine._index().http.session))
    thread.start()
    thread.join()
    assert other_thread[0] is not session
    monkeypatch.setattr(os, "getpid", lambda: -1)  # a worker forked after the first search
    assert engine._index().http.session is not session


def test_the_dictionary_setting_holds_what_the_segmenter_would_cut_down_to_single_characters():
    from exchange.search.text import engine_dictionary

    dictionary = engine_dictionary(["锂电池", "固态锂电池", "第三代半导体", "动力电池", "人工智能", "5G基站", "车规级芯片"])
    assert dictionary == ["半导体", "第三代", "车规级芯片", "锂电池"]  # 锂电 池, 第三 代 半导 体, 车规 级 芯片


def test_an_update_is_never_lost_while_meilisearch_is_down(meili_app, meili):
    from exchange.catalog.services import change_status
    from exchange.extensions import db
    from exchange.notifications.models import OutboxMessage
    import sqlalchemy as sa

    session = db.session
    owner = factories.organization(session, kind="institute", region="TJ").owner
    admin = factories.region_admin(session, "TJ")
    entries = [factories.entry(session, "achievement", owner=owner, status="submitted", title=f"储能电池{n}号")
               for n in range(6)]
    services.prepare_engine()
    drain(session)

    for entry in entries[:3]:
        change_status(session, admin, None, entry.id, "approve")
    drain(session)
    meili.stop()
    for entry in entries[3:]:
        change_status(session, admin, None, entry.id, "approve")  # writes never fail because search is down
    from exchange.notifications import outbox

    outbox.drain(session)  # fails, and is kept for a retry
    waiting = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.processed_at.is_(None))).all()
    assert waiting and all(message.attempts >= 1 and message.last_error for message in waiting)
    degraded = services.search(session, Visitor(), SearchParams(q="储能电池"))
    assert degraded.degraded and degraded.backend == "database" and degraded.total == 6

    meili.start()
    session.execute(sa.update(OutboxMessage).values(available_at=OutboxMessage.created_at))  # retry now
    session.commit()
    drain(session)
    result = services.search(session, Visitor(), SearchParams(q="储能电池"))
    assert result.backend == "meilisearch" and not result.degraded
    assert {hit.entry_id for hit in result.hits} == {entry.id for entry in entries}


def test_search_falls_back_to_the_database_and_says_so(tmp_path):
    from exchange.extensions import db

    application = ready_app(tmp_path, MEILI_URL=f"http://127.0.0.1:{free_port()}", MEILI_MASTER_KEY="nobody-listens")
    with application.test_request_context():
        factories.entry(db.session, "achievement", region="BJ", title="高镍三元正极材料")
        factories.entry(db.session, "achievement", region="BJ", status="draft", title="高镍草稿")
    client = application.test_client()
    answer = client.get("/api/v1/search", query_string={"q": "高镍"}).get_json()
    assert answer["backend"] == "database" and answer["degraded"] is True and answer["total"] == 1
    assert SearchAnswerSchema().validate(answer) == {}
    page = client.get("/search", query_string={"q": "高镍"}).get_data(as_text=True)
    assert "flash-error" in page and "三元正极材料" in page
    with application.app_context():
        db.engine.dispose()
