"""The embedded backend's own file: what the contract suite cannot see from outside."""
from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from exchange.accounts.models import Visitor
from exchange.search import services
from exchange.search.services import SearchParams
from tests import factories


@pytest.fixture
def app_overrides(tmp_path: Any) -> dict[str, Any]:
    return {"SEARCH_INDEX_PATH": str(tmp_path / "search.sqlite")}


def test_an_index_of_an_older_layout_is_never_read_and_a_reindex_replaces_it(app, db, index_now, tmp_path):
    factories.entry(db, "achievement", region="BJ", title="高镍三元正极材料")
    index_now()
    with sqlite3.connect(tmp_path / "search.sqlite") as old:
        old.execute("PRAGMA user_version = 1")  # as a file built before the layout changed

    degraded = services.search(db, Visitor(), SearchParams(q="正极材料"))
    assert degraded.backend == "database" and degraded.degraded and degraded.total == 1

    assert services.reindex(db) == 1
    result = services.search(db, Visitor(), SearchParams(q="正极材料"))
    assert result.backend == "embedded" and not result.degraded and result.total == 1


def test_counts_add_up_for_a_viewer_who_sees_public_and_own_entries(db, index_now):
    """Public documents and the viewer's own are counted apart: an entry that is both is counted once."""
    owner = factories.organization(db, kind="institute", region="HE").owner
    factories.entry(db, "achievement", owner=owner, title="石墨烯导热膜", keywords=["石墨烯"])
    factories.entry(db, "achievement", owner=owner, status="draft", title="石墨烯涂层草稿", keywords=["石墨烯"])
    factories.entry(db, "need", region="HE", title="石墨烯散热需求", keywords=["石墨烯"])
    index_now()

    for params in (SearchParams(), SearchParams(q="石墨烯"), SearchParams(region="HE")):
        result = services.search(db, owner, params)
        assert result.total == 3 == len(result.hits)
        assert result.facets["kind"] == {"achievement": 2, "need": 1}
        assert result.facets["region"] == {"HE": 3}
