"""Bad input to the JSON API of innovation vouchers (bodies, the idempotency key, multipart claims, list
query and path parameters): see tests/bad_input.py for what every answer must satisfy."""
from __future__ import annotations

import io
from typing import Any

from flask import Flask

from tests import bad_input
from tests.bad_input import (
    EVERYTHING,
    FORM_VALUES,
    JSON_VALUES,
    REQUIRED_TEXT,
    Client,
    Findings,
    World,
    api_probe,
    check_api_error,
    mutations,
    voucher_data,
    voucher_endpoints,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


def test_api_voucher_bodies(app: Flask, world: World) -> None:
    """Every field of every voucher endpoint gets every hostile value: never a 5xx, a refusal changes
    nothing, and amounts and ids are JSON integers only (no "12", 1.5, true or 10**30)."""
    findings, client = Findings(), Client(app)
    for spec in voucher_endpoints(world):
        for name, key, value, must_refuse in mutations(spec.fields, JSON_VALUES):
            label = f"{spec.method} {spec.url} {name}={key}"
            before = world.counts()
            response = client.api(spec.method, spec.url, token=spec.token, json={**spec.valid(), name: value})
            api_probe(findings, world, label, response, success_status=spec.success, must_refuse=must_refuse,
                       before=before, created=spec.created)
        for name in spec.fields:
            body = spec.valid()
            del body[name]
            label = f"{spec.method} {spec.url} without {name}"
            before = world.counts()
            response = client.api(spec.method, spec.url, token=spec.token, json=body)
            if response.status_code != spec.success:
                check_api_error(findings, label, response)
                findings.check(world.counts() == before, label, "half-saved")
    findings.assert_none()


def test_api_voucher_idempotency_key_header(app: Flask, world: World) -> None:
    """Hostile Idempotency-Key values are refused before anything is charged."""
    findings, client = Findings(), Client(app)
    spec = next(spec for spec in voucher_endpoints(world) if spec.url == "/api/v1/redemptions")
    for key, value in {"blank": "   ", "long": "k" * 201, "tab": "a\tb", "latin1": "caf\xe9\x85",
                       "emoji bytes": "🚀".encode().decode("latin-1")}.items():
        label = f"POST /api/v1/redemptions Idempotency-Key={key}"
        before = world.counts()
        response = client.api("POST", spec.url, token=spec.token, json=spec.valid(), headers={"Idempotency-Key": value})
        if response.status_code != 201:
            check_api_error(findings, label, response, allowed=(400, 422))
            findings.check(world.counts() == before, label, "half-saved")
    findings.assert_none()


def test_api_voucher_claims_multipart(app: Flask, world: World) -> None:
    """The one multipart endpoint: hostile text in every field, files that are not files, other bodies."""
    findings, client = Findings(), Client(app)
    data = voucher_data(world)
    pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    url = "/api/v1/redemptions/claims"

    def valid() -> dict[str, Any]:
        return {"voucher_code": data.claim_code, "provider_id": str(data.provider_id), "service_description": "检测",
                "fee_fen": "1000000", "contract_reference": "HT-9", "files": [(io.BytesIO(pdf), "合同.pdf")]}

    fields = {"voucher_code": EVERYTHING, "provider_id": EVERYTHING - {"number"},
              "service_description": REQUIRED_TEXT, "fee_fen": EVERYTHING - {"number"},
              "contract_reference": REQUIRED_TEXT, "files": EVERYTHING}
    for name, key, value, must_refuse in mutations(fields, FORM_VALUES):
        label = f"POST {url} {name}={key}"
        before = world.counts()
        response = client.api("POST", url, token=data.sme_token, data={**valid(), name: value},
                              content_type="multipart/form-data")
        api_probe(findings, world, label, response, success_status=201, must_refuse=must_refuse, before=before,
                   created={"voucher_redemptions": 1})
    files = {"no files": [], "not a PDF": [(io.BytesIO(b"MZ\x90\x00"), "a.pdf")],
             "empty file": [(io.BytesIO(b""), "a.pdf")], "eleven files": [(io.BytesIO(pdf), f"{n}.pdf") for n in range(11)],
             "hostile name": [(io.BytesIO(pdf), "../../etc/<script>.exe")]}
    for key, value in files.items():
        label = f"POST {url} files={key}"
        before = world.counts()
        response = client.api("POST", url, token=data.sme_token, data={**valid(), "files": value},
                              content_type="multipart/form-data")
        api_probe(findings, world, label, response, success_status=201, must_refuse=True, before=before, created={})
    for key, kwargs in {"JSON": {"json": {"voucher_code": data.claim_code}}, "invalid JSON": {
            "data": "{", "content_type": "application/json"}, "form without files": {
            "data": {k: v for k, v in valid().items() if k != "files"}}, "extra field": {
            "data": {**valid(), "status": "recorded"}, "content_type": "multipart/form-data"}}.items():
        label = f"POST {url} {key}"
        before = world.counts()
        response = client.api("POST", url, token=data.sme_token, **kwargs)
        check_api_error(findings, label, response, allowed=(400, 415, 422))
        findings.check(world.counts() == before, label, "rows changed")
    findings.assert_none()


VOUCHER_LISTS = {
    "/api/v1/voucher-programs": ("page", "per_page", "region", "status"),
    "/api/v1/voucher-applications": ("page", "per_page", "program", "status"),
    "/api/v1/vouchers": ("page", "per_page", "program"),
    "/api/v1/redemptions": ("page", "per_page", "program", "status", "unsettled"),
    "/api/v1/settlements": ("page", "per_page", "program", "status"),
    "/api/v1/settlements/unsettled": ("page",),
    "/api/v1/voucher-providers": ("page", "per_page", "region", "category", "service_category", "status", "q"),
}
# Parameters chosen from a list: which of the values above they may accept ("0" and "" are false).
CHOSEN_FROM_A_LIST = {"status": {"empty"}, "category": {"empty"}, "service_category": {"empty"},
                      "unsettled": {"empty", "zero"}}


def test_api_voucher_list_query_parameters(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    data = voucher_data(world)
    values: dict[str, Any] = {
        **FORM_VALUES, "zero": "0", "negative": "-1", "abc": "abc", "float": "1.5", "huge": "1" * 40,
        "per_page_1000": "1000", "max_int": str(2**63), "exponent": "1e3", "unicode digits": "１２",
        "space padded": " 2 "}
    for url, names in VOUCHER_LISTS.items():
        for name in names:
            for key, value in values.items():
                label = f"GET {url}?{name}={key}"
                response = client.api("GET", url, token=data.admin_token, query_string={name: value})
                if response.status_code != 200:
                    check_api_error(findings, label, response, allowed=(422,))
                    continue
                payload = response.get_json()
                if url.endswith("/unsettled"):
                    findings.check(isinstance(payload, list), label, f"odd answer {payload!r:.200}")
                    continue
                findings.check(isinstance(payload, dict) and isinstance(payload.get("items"), list)
                               and 1 <= payload.get("per_page", 0) <= 100, label, f"odd answer {payload!r:.200}")
                findings.check(key in CHOSEN_FROM_A_LIST.get(name, {key}), label, f"an unknown {name} was accepted")
    findings.assert_none()


def test_api_voucher_path_parameters(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    data = voucher_data(world)
    body = {"reason": "x", "text": "x", "name": "x", "category": "testing", "fee_fen": 100}
    id_routes = [("GET", "/api/v1/voucher-programs/{}"), ("PATCH", "/api/v1/voucher-programs/{}"),
                 ("POST", "/api/v1/voucher-programs/{}/open"), ("POST", "/api/v1/voucher-programs/{}/close"),
                 ("GET", "/api/v1/voucher-programs/{}/dashboard"), ("GET", "/api/v1/voucher-applications/{}"),
                 ("POST", "/api/v1/voucher-applications/{}/approve"), ("POST", "/api/v1/voucher-applications/{}/reject"),
                 ("GET", "/api/v1/redemptions/{}"), ("POST", "/api/v1/redemptions/{}/approve"),
                 ("POST", "/api/v1/redemptions/{}/reject"), ("GET", "/api/v1/settlements/{}"),
                 ("POST", "/api/v1/settlements/{}/approve"), ("POST", "/api/v1/settlements/{}/reject"),
                 ("GET", "/api/v1/voucher-providers/{}"), ("POST", "/api/v1/voucher-providers/{}/notice"),
                 ("POST", "/api/v1/voucher-providers/{}/admit"), ("POST", "/api/v1/voucher-providers/{}/reject"),
                 ("POST", "/api/v1/voucher-providers/{}/suspend"), ("POST", "/api/v1/voucher-providers/{}/objections"),
                 ("POST", "/api/v1/voucher-providers/objections/{}/dismiss"),
                 ("POST", "/api/v1/voucher-providers/{}/products"), ("PATCH", "/api/v1/voucher-products/{}")]
    for value in ("0", "-1", "abc", str(2**63), "1" * 40, "1.5", "%00", "１"):
        for method, route in id_routes:
            url = route.format(value)
            response = client.api(method, url, token=data.admin_token, json=body)
            check_api_error(findings, f"{method} {url}", response, allowed=(404, 405, 422))
    for code in ("NOPE", "%00", "a%20b", "x" * 41, "%E5%88%B8", "..", "a%2Fb", "%0A"):
        for method, suffix in (("GET", ""), ("POST", "/revoke")):
            url = f"/api/v1/vouchers/{code}{suffix}"
            response = client.api(method, url, token=data.admin_token, json={"reason": "x"})
            check_api_error(findings, f"{method} {url}", response, allowed=(404,))
    findings.assert_none()
