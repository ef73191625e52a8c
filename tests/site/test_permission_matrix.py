"""The permission matrix of the site's own pages (home, language): every route × every role, through real HTTP.
See tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    Case,
    check_route,
    row,
    to,
)

MATRIX: dict[tuple[str, str], list[Case]] = {
    # Public pages
    ("site.home", "GET"): [Case(row(everyone=200))],
    ("site.set_language", "POST"): [Case(row(everyone=to("orgs.directory")),
                                         body=lambda w: {"locale": "en", "next": "/organizations"})],
}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
