"""The permission matrix of the reference data API (regions, fields): every route × every role, through real
HTTP. See tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    Case,
    check_route,
    row,
)

MATRIX: dict[tuple[str, str], list[Case]] = {
    # API: public
    ("taxonomy_api.regions", "GET"): [Case(row(everyone=200))],
    ("taxonomy_api.fields", "GET"): [Case(row(everyone=200))],
}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
