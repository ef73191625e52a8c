"""The organisation endpoints of the JSON API: registration → regional approval → publishing rights."""
from __future__ import annotations

import sqlalchemy as sa

from exchange.orgs.models import Organization
from tests import factories


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(client, email: str, password: str = factories.PASSWORD) -> str:
    response = client.post("/api/v1/auth/tokens", json={"email": email, "password": password, "name": "脚本"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def registration_body(db, **changes):
    application = factories.application(db, kind="enterprise", region="HE")
    body = {"name": application.name, "credit_code": application.credit_code, "kind": "enterprise",
            "region": "HE", "district": application.district_id, "member_email": application.member_email,
            "member_name": application.member_name, "password": application.password}
    return {**body, **changes}


def test_registration_approval_and_publishing_rights_through_the_api(app, db):
    client = app.test_client()
    body = registration_body(db)
    hebei_admin = factories.admin(db, "HE")

    registered = client.post("/api/v1/organizations", json=body)
    assert registered.status_code == 202

    member_token = token_for(client, body["member_email"])
    me = client.get("/api/v1/me", headers=bearer(member_token)).get_json()
    assert me["organization"]["status"] == "pending" and me["can_publish"] is False
    assert me["role"] == "enterprise_member" and me["region"] == "HE"
    organization_id = me["organization"]["id"]

    admin_token = token_for(client, hebei_admin.email)
    queue = client.get("/api/v1/organizations?status=pending&region=HE", headers=bearer(admin_token)).get_json()
    assert organization_id in [item["id"] for item in queue["items"]] and queue["total"] >= 1

    approved = client.post(f"/api/v1/organizations/{organization_id}/approve", headers=bearer(admin_token))
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"

    me = client.get("/api/v1/me", headers=bearer(member_token)).get_json()
    assert me["organization"]["status"] == "approved" and me["can_publish"] is True


def test_the_answers_are_utf8_json_with_chinese_unescaped(app, db):
    registered = factories.organization(db, region="BJ")
    response = app.test_client().get(f"/api/v1/organizations/{registered.organization.id}")
    assert response.mimetype == "application/json"
    assert registered.organization.name.encode("utf-8") in response.data


def test_another_regions_admin_gets_403_and_the_organisation_stays_pending(app, db):
    pending = factories.organization(db, region="HE", status="pending")
    beijing_admin = factories.admin(db, "BJ")
    client = app.test_client()
    response = client.post(f"/api/v1/organizations/{pending.organization.id}/approve",
                           headers=bearer(token_for(client, beijing_admin.email)))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert db.get(Organization, pending.organization.id).status.value == "pending"


def test_approving_twice_is_409(app, db):
    pending = factories.organization(db, region="TJ", status="pending")
    admin = factories.admin(db, "TJ")
    client = app.test_client()
    headers = bearer(token_for(client, admin.email))
    assert client.post(f"/api/v1/organizations/{pending.organization.id}/approve", headers=headers).status_code == 200
    again = client.post(f"/api/v1/organizations/{pending.organization.id}/approve", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"


def test_a_pending_organisation_is_404_for_the_public(app, db):
    pending = factories.organization(db, region="TJ", status="pending")
    response = app.test_client().get(f"/api/v1/organizations/{pending.organization.id}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_rejection_needs_a_reason(app, db):
    pending = factories.organization(db, region="TJ", status="pending")
    admin = factories.admin(db, "TJ")
    client = app.test_client()
    headers = bearer(token_for(client, admin.email))
    missing = client.post(f"/api/v1/organizations/{pending.organization.id}/reject", headers=headers, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    rejected = client.post(f"/api/v1/organizations/{pending.organization.id}/reject", headers=headers,
                           json={"reason": "请补充法人证书"})
    assert rejected.status_code == 200 and rejected.get_json()["rejection_reason"] == "请补充法人证书"


def test_validation_errors_name_every_field(app, db):
    response = app.test_client().post("/api/v1/organizations", json=registration_body(
        db, credit_code="91110108000000001X", district=999999, password="short"))
    error = response.get_json()["error"]
    assert response.status_code == 422 and error["code"] == "validation_failed"
    assert {"credit_code", "district", "password"} <= set(error["fields"])


def test_extra_fields_are_refused_not_assigned(app, db):
    response = app.test_client().post("/api/v1/organizations", json=registration_body(db, status="approved"))
    assert response.status_code == 422 and "status" in response.get_json()["error"]["fields"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_lists_are_paginated_with_a_total(app, db):
    for _ in range(3):
        factories.organization(db, region="BJ")
    client = app.test_client()
    first = client.get("/api/v1/organizations?per_page=2").get_json()
    second = client.get("/api/v1/organizations?per_page=2&page=2").get_json()
    assert first["total"] == 3 and len(first["items"]) == 2 and len(second["items"]) == 1
    assert client.get("/api/v1/organizations?per_page=101").status_code == 422


def test_a_list_page_costs_the_same_number_of_queries_at_10_and_at_100_items(app, db):
    from tests.query_counter import count_queries

    for _ in range(12):
        factories.organization(db, region="BJ", status="approved")
    client = app.test_client()
    with count_queries(app) as small:
        assert client.get("/api/v1/organizations?per_page=2").status_code == 200
    with count_queries(app) as large:
        assert client.get("/api/v1/organizations?per_page=100").status_code == 200
    assert small.count == large.count
    with count_queries(app) as page:
        assert client.get("/organizations?per_page=100").status_code == 200
    assert page.count <= large.count + 2


def test_the_openapi_document_describes_the_contract(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/organizations", "/api/v1/organizations/{organization_id}/approve",
                 "/api/v1/organizations/{organization_id}/reject", "/api/v1/auth/tokens", "/api/v1/me"):
        assert path in spec["paths"], path
    assert "bearerAuth" in spec["components"]["securitySchemes"]
