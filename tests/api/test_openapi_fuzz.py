"""schemathesis against the served OpenAPI document (issue 15, item 6).

Every operation of /api/v1/openapi.json gets generated requests, in-process, once with an institute
member's token and once with a regional admin's: no answer may be a 5xx, and every answer (errors
included) must have a status, a content type and a body the document describes. The examples per
operation are few and fixed (derandomized), so the run is bounded and repeatable; the generated
values still reach every field's edges (huge ids, NUL, long text), which is what found the 500s.
"""
from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange.extensions import db as extension_db
from tests import factories

EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Revoking tokens runs last: a generated id may be the caller's own token.
LAST = "DELETE /api/v1/auth/tokens/{token_id}"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # Generated logins and registrations must meet validation, not the rate limits (tested elsewhere).
    return {"LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
            "RATELIMIT_ENABLED": False}


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    """An institute member and a regional admin of Beijing, with something of each kind to find.

    Built in a request context of its own, closed before the calls (which would otherwise share its `g`)."""
    with app.test_request_context():
        db = extension_db.session
        institute = factories.organization(db, kind="institute", region="BJ")
        for kind in ("achievement", "expert", "project"):
            factories.entry(db, kind, owner=institute.owner)
        factories.entry(db, "achievement", status="submitted", owner=institute.owner)
        sme = factories.organization(db, kind="sme", region="BJ")
        program = factories.program(db, "BJ")
        factories.provider(db, "BJ")
        factories.voucher(db, sme.owner, program.id)
        admin = factories.region_admin(db, "BJ")
        return {"institute member": factories.api_token(db, institute.owner),
                "regional admin": factories.api_token(db, admin)}


@pytest.mark.schemathesis
@pytest.mark.parametrize("caller", ["institute member", "regional admin"])
def test_every_operation_answers_as_documented(app: Flask, tokens: dict[str, str], caller: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda operation: operation.label == LAST)
    assert len(operations) > 50, [operation.label for operation in operations]
    headers = {"Authorization": f"Bearer {tokens[caller]}"}
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            answers_as_documented()
        except Exception as failure:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {failure}"[:3000])
    assert not failures, f"{len(failures)} operation(s) break the contract:\n\n" + "\n\n".join(failures)
