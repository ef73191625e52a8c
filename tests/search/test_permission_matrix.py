"""The permission matrix of search (the page and the API): every route × every role, through real HTTP. See
tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    Case,
    check_route,
    row,
)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The matrix tests who may, not the engine: one run on the default settings, not one per backend."""
    return {}


MATRIX: dict[tuple[str, str], list[Case]] = {
    # Search across the libraries: public (what each caller may see is the search's own test)
    ("search.page", "GET"): [Case(row(everyone=200), query={"q": "电池"}), Case(row(everyone=200))],
    ("search_api.search_api", "GET"): [Case(row(everyone=200), query={"q": "电池", "region": "BJ"})],
    ("search_api.suggest", "GET"): [Case(row(everyone=200), query={"q": "dian"})],
}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
