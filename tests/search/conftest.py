"""Every search test runs against both backends: the embedded one and a real Meilisearch."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from exchange.extensions import db
from exchange.notifications.outbox import drain
from tests.conftest import MEILI_KEY, MEILI_URL, require_service


@pytest.fixture(params=["embedded", "meilisearch"])
def app_overrides(request: Any, tmp_path: Any) -> Iterator[dict[str, Any]]:
    if request.param == "embedded":
        yield {"SEARCH_INDEX_PATH": str(tmp_path / "search.sqlite")}
        return
    require_service(bool(MEILI_URL), "Meilisearch (set TEST_MEILI_URL and TEST_MEILI_KEY; scripts/test starts one)")
    index = f"test_{uuid.uuid4().hex[:12]}"
    yield {"MEILI_URL": MEILI_URL, "MEILI_MASTER_KEY": MEILI_KEY, "MEILI_INDEX": index}
    import meilisearch

    client = meilisearch.Client(MEILI_URL, MEILI_KEY)
    client.wait_for_task(client.delete_index(index).task_uid, timeout_in_ms=30_000)


@pytest.fixture
def index_now(app: Flask):  # type: ignore[no-untyped-def]
    """Run the worker until the outbox is empty: what a running worker does after each commit."""
    def run() -> None:
        from exchange.search.services import prepare_engine

        prepare_engine()
        while drain(db.session):
            pass
    return run
