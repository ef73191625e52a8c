"""The libraries through the JSON API, as api.md lists them."""
from __future__ import annotations

import pytest

from tests import factories
from tests.api.test_organizations_api import bearer


def test_an_institute_writes_submits_and_gets_approved_through_the_api(app, db):
    owner = factories.organization(db, kind="institute", region="TJ").owner
    admin = factories.region_admin(db, "TJ")
    client = app.test_client()
    member, reviewer = bearer(factories.api_token(db, owner)), bearer(factories.api_token(db, admin))
    body = factories.achievement_data(db, owner.organization, title="高镍三元正极材料单晶化制备技术")

    created = client.post("/api/v1/achievements", json=body, headers=member)
    assert created.status_code == 201, created.get_json()
    entry = created.get_json()
    assert entry["status"] == "draft" and entry["price_fen"] == 50_000_000 and entry["region"] == "TJ"
    assert client.get(f"/api/v1/achievements/{entry['id']}").status_code == 404  # a draft is private

    changed = client.patch(f"/api/v1/achievements/{entry['id']}", json={"price_fen": None}, headers=member)
    assert changed.status_code == 200 and changed.get_json()["price_fen"] is None

    assert client.post(f"/api/v1/achievements/{entry['id']}/submit", headers=member).get_json()["status"] == "submitted"
    assert client.patch(f"/api/v1/achievements/{entry['id']}", json={"title": "改"}, headers=member).status_code == 403
    approved = client.post(f"/api/v1/achievements/{entry['id']}/approve", headers=reviewer)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"

    public = client.get("/api/v1/achievements?region=TJ&field=nev").get_json()
    assert [item["id"] for item in public["items"]] == [entry["id"]] and public["total"] == 1
    history = client.get(f"/api/v1/achievements/{entry['id']}/history").get_json()
    assert [event["action"] for event in history] == ["create", "submit", "approve"]


def test_an_illegal_transition_is_409_with_a_clear_message(app, db):
    entry = factories.entry(db, "need", region="HE", status="approved")
    admin = factories.region_admin(db, "HE")
    response = app.test_client().post(f"/api/v1/needs/{entry.id}/approve",
                                      headers=bearer(factories.api_token(db, admin)))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"


def test_another_regions_admin_gets_403(app, db):
    entry = factories.entry(db, "need", region="HE", status="submitted")
    admin = factories.admin(db, "BJ")
    response = app.test_client().post(f"/api/v1/needs/{entry.id}/approve",
                                      headers=bearer(factories.api_token(db, admin)))
    assert response.status_code == 403


def test_an_enterprise_may_not_list_achievements(app, db):
    owner = factories.organization(db, kind="enterprise", region="BJ").owner
    response = app.test_client().post("/api/v1/achievements", headers=bearer(factories.api_token(db, owner)),
                                      json=factories.achievement_data(db, owner.organization))
    assert response.status_code == 403


def test_a_member_of_a_pending_organisation_may_not_publish(app, db):
    owner = factories.organization(db, kind="enterprise", region="BJ", status="pending").owner
    response = app.test_client().post("/api/v1/needs", headers=bearer(factories.api_token(db, owner)),
                                      json=factories.need_data(db, owner.organization))
    assert response.status_code == 403


@pytest.mark.parametrize("changes, field", [
    ({"patents": ["ZL202110123456.8"]}, "patents"),
    ({"patents": ["ZL202120123456.2"]}, "patents"),  # a utility-model number for an invention
    ({"keywords": [f"词{i}" for i in range(11)]}, "keywords"),
    ({"maturity": "prototype"}, "maturity"),
    ({"field": "nev"}, "field"),
    ({"trl": 10}, "trl"),
    ({"price_fen": -1}, "price_fen"),
    ({"price_fen": 12.5}, "price_fen"),
    ({"district": 99999}, "district"),
    ({"modes": ["gift"]}, "modes"),
])
def test_invalid_values_are_named_and_nothing_is_saved(app, db, changes, field):
    owner = factories.organization(db, kind="institute", region="BJ").owner
    client = app.test_client()
    response = client.post("/api/v1/achievements", headers=bearer(factories.api_token(db, owner)),
                           json=factories.achievement_data(db, owner.organization, **changes))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/achievements?status=draft", headers=bearer(factories.api_token(db, owner))).get_json()["total"] == 0


def test_a_need_deadline_must_be_in_the_future_and_the_budget_in_order(app, db):
    owner = factories.organization(db, kind="sme", region="HE").owner
    client, headers = app.test_client(), bearer(factories.api_token(db, owner))
    past = client.post("/api/v1/needs", headers=headers, json=factories.need_data(db, owner.organization, deadline="2020-01-01"))
    assert "deadline" in past.get_json()["error"]["fields"]
    upside_down = client.post("/api/v1/needs", headers=headers, json=factories.need_data(
        db, owner.organization, budget_min_fen=9_000_000, budget_max_fen=1_000_000))
    assert "budget_max_fen" in upside_down.get_json()["error"]["fields"]


def test_the_owner_deletes_a_draft_only(app, db):
    owner = factories.organization(db, kind="institute", region="BJ").owner
    headers = bearer(factories.api_token(db, owner))
    draft = factories.entry(db, "achievement", status="draft", owner=owner)
    published = factories.entry(db, "achievement", status="approved", owner=owner)
    client = app.test_client()
    assert client.delete(f"/api/v1/achievements/{published.id}", headers=headers).status_code == 403
    assert client.delete(f"/api/v1/achievements/{draft.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/achievements/{draft.id}", headers=headers).status_code == 404


def test_a_cross_region_project_names_its_partners(app, db):
    lead = factories.organization(db, kind="institute", region="BJ").owner
    partner = factories.organization(db, kind="enterprise", region="HE").organization
    project = factories.entry(db, "project", owner=lead, partners=[partner.id])
    body = app.test_client().get(f"/api/v1/projects/{project.id}").get_json()
    assert body["partners"] == [{"id": partner.id, "name": partner.name, "region": "HE"}]


def test_the_openapi_document_lists_every_library(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for kind in ("achievements", "needs", "experts", "talents", "projects"):
        for suffix in ("", "/{entry_id}", "/{entry_id}/submit", "/{entry_id}/approve", "/{entry_id}/reject",
                       "/{entry_id}/withdraw", "/{entry_id}/history"):
            assert f"/api/v1/{kind}{suffix}" in paths
