"""Bad input to the API that creates entries of the five libraries: see tests/bad_input.py for what every
answer must satisfy."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from tests import bad_input, factories
from tests.bad_input import (
    JSON_VALUES,
    Client,
    Findings,
    World,
    check_api_error,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


ENTRY_KINDS = {"achievement": "institute", "need": "enterprise", "expert": "institute", "talent": "sme",
               "project": "institute"}


def test_api_entry_creation(app: Flask, world: World) -> None:
    """The five libraries' create endpoints: every field gets every hostile value."""
    from types import SimpleNamespace

    from exchange.catalog.models import Entry

    findings, client = Findings(), Client(app)
    owners = {}
    with world.session() as db:
        for kind, org_kind in ENTRY_KINDS.items():
            owner = factories.organization(db, kind=org_kind, region="BJ").owner
            owners[kind] = factories.api_token(db, owner)
    builders = {"achievement": factories.achievement_data, "need": factories.need_data,
                "expert": factories.expert_data, "talent": factories.talent_data, "project": factories.project_data}

    def entries() -> int:
        with world.session() as db:
            return db.scalar(sa.select(sa.func.count()).select_from(Entry)) or 0

    for kind, token in owners.items():
        url = f"/api/v1/{kind}s"
        valid = builders[kind](None, SimpleNamespace(district_id=world.bj_district_id))
        values = {**JSON_VALUES, "list_huge_int": [10**30], "list_nul": ["a\x00b"], "list_negative": [-1],
                  "list_mixed": [1, "x", None, {"a": 1}]}
        for name in valid:
            for key, value in values.items():
                label = f"POST {url} {name}={key}"
                before = entries()
                response = client.api("POST", url, token=token, json={**valid, name: value})
                if response.status_code == 201:
                    findings.check(key not in {"long", "nul", "list_nul", "list_huge_int"}, label,
                                   "accepted a value that must be refused")
                    findings.check(entries() == before + 1, label, "201 without exactly one new entry")
                    continue
                check_api_error(findings, label, response)
                findings.check(entries() == before, label, "half-saved")
        for extra, value in {"status": "approved", "region": "TJ", "organization_id": 1, "org_id": 1,
                             "published_at": "2020-01-01T00:00:00Z", "id": 1}.items():
            before = entries()
            response = client.api("POST", url, token=token, json={**valid, extra: value})
            check_api_error(findings, f"POST {url} +{extra}", response, allowed=(422,))
            findings.check(entries() == before, f"POST {url} +{extra}", "mass-assigned")
    findings.assert_none()
