"""Deny by default: every route of the app has a rule in the permission matrix of its feature
(tests/<feature>/test_permission_matrix.py), which gives the outcome of each role."""
from __future__ import annotations

import pytest

from tests.accounts.test_permission_matrix import MATRIX as ACCOUNTS
from tests.api.test_permission_matrix import MATRIX as API
from tests.catalog.test_permission_matrix import MATRIX as CATALOG
from tests.notifications.test_permission_matrix import MATRIX as NOTIFICATIONS
from tests.orgs.test_permission_matrix import MATRIX as ORGS
from tests.permission_matrix import APP_ROUTES
from tests.search.test_permission_matrix import MATRIX as SEARCH
from tests.site.test_permission_matrix import MATRIX as SITE
from tests.taxonomy.test_permission_matrix import MATRIX as TAXONOMY
from tests.vouchers.test_permission_matrix import MATRIX as VOUCHERS

FEATURE_MATRICES = (ACCOUNTS, API, CATALOG, NOTIFICATIONS, ORGS, SEARCH, SITE, TAXONOMY, VOUCHERS)


@pytest.mark.parametrize("route", sorted(APP_ROUTES), ids=lambda route: " ".join(route))
def test_every_route_has_a_permission_rule(route: tuple[str, str]) -> None:
    endpoint, method = route
    if not any(route in matrix for matrix in FEATURE_MATRICES):
        pytest.fail(f"new route without a permission rule: {method} {APP_ROUTES[route]} ({endpoint}); add it to "
                    f"MATRIX in tests/<feature>/test_permission_matrix.py with the outcome for every role")
