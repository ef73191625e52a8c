"""Browser journeys: the app served on a loopback port, driven by Playwright in Debian's chromium."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from exchange.extensions import db
from exchange.models import metadata
from exchange.taxonomy.services import load_reference_data
from tests.conftest import make_app, require_service

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"



def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every browser journey `e2e` (a conftest's own pytestmark would not reach the modules)."""
    for item in items:
        if Path(item.fspath).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def live_app(tmp_path: Any) -> Iterator[Any]:
    # Always SQLite: the server thread and the test share one file database.
    application = make_app(f"sqlite:///{tmp_path / 'e2e.sqlite'}", UPLOAD_DIR=str(tmp_path / "uploads"),
                           SEARCH_INDEX_PATH=str(tmp_path / "search.sqlite"), RUN_WORKER_IN_PROCESS=True)
    with application.app_context():
        metadata.create_all(db.engine)
        load_reference_data(db.session)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    application.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield application
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(live_app: Any) -> Iterator[Any]:
    require_service(os.path.exists(CHROMIUM), f"{CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        context = browser.new_context(base_url=live_app.config["LIVE_URL"], locale="zh-CN")
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
