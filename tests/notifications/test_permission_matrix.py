"""The permission matrix of the inbox: every route × every role, through real HTTP. See
tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    LOGIN,
    Case,
    check_route,
    row,
    to,
)

MATRIX: dict[tuple[str, str], list[Case]] = {
    # The in-app inbox
    ("notifications.index", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
    ("notifications.mark_all_read", "POST"): [Case(row(anonymous=LOGIN, signed_in=to("notifications.index")))],
}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
