"""The OpenAPI document is generated from the code and describes every endpoint of /api/v1."""
from __future__ import annotations

import re
from typing import Any

FLASK_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
NOT_DESCRIBED = {"/api/v1/openapi.json"}  # the document itself


def spec_of(app: Any) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_api_route_is_in_the_document(app):
    paths = spec_of(app)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in NOT_DESCRIBED:
            continue
        path = FLASK_ARGUMENT.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path} ({rule.endpoint})")
    assert missing == []


def test_the_voucher_resources_of_the_contract_are_described(app):
    paths = spec_of(app)["paths"]
    for path, method in (("/api/v1/voucher-programs", "post"), ("/api/v1/voucher-programs/{program_id}", "get"),
                         ("/api/v1/voucher-applications", "post"),
                         ("/api/v1/voucher-applications/{application_id}/approve", "post"),
                         ("/api/v1/voucher-applications/{application_id}/reject", "post"),
                         ("/api/v1/vouchers", "get"), ("/api/v1/vouchers/{code}", "get"),
                         ("/api/v1/redemptions", "post"), ("/api/v1/settlements", "get"),
                         ("/api/v1/settlements", "post"), ("/api/v1/settlements/{settlement_id}/approve", "post")):
        assert method in paths.get(path, {}), f"{method.upper()} {path}"


def test_the_idempotency_key_header_is_documented(app):
    operation = spec_of(app)["paths"]["/api/v1/redemptions"]["post"]
    headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
    assert "Idempotency-Key" in headers and headers["Idempotency-Key"]["required"] is False
    assert "409" in headers["Idempotency-Key"]["description"] and "201" in headers["Idempotency-Key"]["description"]
    assert "201" in operation["responses"]


def test_money_is_integer_fen_everywhere(app):
    schemas = spec_of(app)["components"]["schemas"]
    not_integer = [f"{name}.{field}" for name, schema in schemas.items()
                   for field, prop in schema.get("properties", {}).items()
                   if field.endswith("_fen") and prop.get("type") != "integer"]
    assert not_integer == []


def test_claims_are_described_as_multipart(app):
    body = spec_of(app)["paths"]["/api/v1/redemptions/claims"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
