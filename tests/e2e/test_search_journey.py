"""A visitor searches the three regions in Chinese, narrows to one region and opens a hit."""
from __future__ import annotations

import re
import time

import pytest

from exchange.extensions import db
from tests import factories
from tests.e2e.conftest import screenshot


@pytest.fixture
def published(live_app):
    with live_app.test_request_context():
        beijing = factories.entry(db.session, "achievement", region="BJ", title="全固态锂电池硫化物电解质",
                                  keywords=["固态电池"])
        hebei = factories.entry(db.session, "need", region="HE", title="储能电站电池热失控预警需求",
                                keywords=["热失控"])
        factories.entry(db.session, "achievement", region="BJ", status="draft", title="未发布的电池草稿")
        return {"beijing": beijing.title, "hebei": hebei.title, "hebei_id": hebei.id}


def test_search_filter_and_open(live_app, published, page):
    deadline = time.monotonic() + 20  # the in-process worker indexes what was just approved
    while True:
        page.goto("/search?q=电池")
        if published["hebei"] in page.content() or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    page.goto("/")
    page.fill("#header-q", "电池")
    page.press("#header-q", "Enter")
    page.wait_for_url(re.compile(r".*/search\?q=.*"))
    content = page.content()
    assert published["beijing"].replace("电池", "<mark>电池</mark>") in content
    assert published["hebei"].replace("电池", "<mark>电池</mark>") in content
    assert "未发布的电池草稿" not in content
    screenshot(page, "search-results")

    page.click("aside a:has-text('河北省')")
    page.wait_for_url(re.compile(r".*region=HE.*"))
    assert published["beijing"].replace("电池", "<mark>电池</mark>") not in page.content()
    page.click("article.entry-card a")
    page.wait_for_url(re.compile(rf".*/needs/{published['hebei_id']}$"))
    assert published["hebei"] in page.locator("h1").inner_text()
