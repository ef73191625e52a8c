"""Bad input to the search page's and API's query parameters: see tests/bad_input.py for what every
answer must satisfy."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask

from tests import bad_input
from tests.bad_input import (
    FORM_VALUES,
    Client,
    Findings,
    World,
    check_api_error,
    check_page,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


def test_search_query_parameters(app: Flask, world: World) -> None:
    """The search page and API take their filters from the query string: no value breaks them."""
    findings, client = Findings(), Client(app)
    values = {**{key: value for key, value in FORM_VALUES.items() if key != "list"},
              "fts syntax": '"unbalanced AND OR NEAR( *', "negative": "-1", "huge": "1" * 40, "per_page_1000": "1000"}
    for url in ("/search", "/api/v1/search", "/api/v1/search/suggest"):
        for name in ("q", "page", "per_page", "kind", "region", "district", "field", "maturity", "mode", "sort"):
            for key, value in values.items():
                label = f"GET {url}?{name}={key}"
                response = client.get(f"{url}?{urlencode({name: value})}")
                if url.startswith("/api/"):
                    if response.status_code != 200:
                        check_api_error(findings, label, response, allowed=(400, 422))
                else:
                    check_page(findings, label, response)
                    findings.check(response.status_code in (200, 422), label, f"status {response.status_code}")
    findings.assert_none()
