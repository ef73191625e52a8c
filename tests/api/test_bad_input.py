"""Bad input that every form and endpoint meets alike: extra fields never mass-assigned, malformed bodies,
list query and path parameters. See tests/bad_input.py for what every answer must satisfy."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from exchange.accounts.models import ApiToken, Role, User
from exchange.orgs.models import OrganizationStatus
from tests import bad_input, factories
from tests.bad_input import (
    PASSWORD,
    Client,
    Findings,
    World,
    check_api_error,
    check_page,
    is_redirect_to,
    query_mutations,
    registration_form,
    registration_json,
    voucher_endpoints,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


# Fields a request must never be able to set: the answer is 422 and nothing changes.
FOREIGN_FIELDS = {"status": "approved", "region": "TJ", "region_code": "TJ", "org_id": 1, "organization_id": 1,
                  "role": "platform_admin", "is_org_owner": True, "id": 1, "reviewed_by_id": 1,
                  "credit_code": "91110108MA01XXXX0X", "kind": "provider", "user_id": 1, "email": "x@example.cn",
                  "expires_at": "2099-01-01T00:00:00Z", "is_disabled": False, "session_version": 99}


def test_api_refuses_extra_fields_and_never_mass_assigns(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    owner_token = world.token_for(world.pending_owner_email)
    approved_owner_token = world.token_for(world.approved_owner_email)
    admin_token = world.token_for(world.admin_email)
    endpoints: list[tuple[str, str, str | None, Callable[[], dict[str, Any]], int]] = [
        ("POST", "/api/v1/organizations", None, lambda: registration_json(world), 202),
        ("PATCH", f"/api/v1/organizations/{world.pending_id}", owner_token,
         lambda: {"name": "正常名称", "district": world.bj_district_id}, 200),
        ("POST", f"/api/v1/organizations/{world.pending_id}/reject", admin_token, lambda: {"reason": "不全"}, 200),
        ("POST", f"/api/v1/organizations/{world.approved_id}/invitations", approved_owner_token,
         lambda: {"email": factories.unique_email("inv-")}, 201),
        ("POST", "/api/v1/auth/tokens", None,
         lambda: {"email": world.approved_owner_email, "password": PASSWORD}, 201),
        *[(spec.method, spec.url, spec.token, spec.valid, spec.success) for spec in voucher_endpoints(world)],
    ]
    before_pending = world.organization(world.pending_id)
    before_owner = world.user(world.pending_owner_email)
    for method, url, token, valid, _success in endpoints:
        for extra, value in FOREIGN_FIELDS.items():
            body = valid()
            if extra in body:
                continue  # a field the endpoint really takes
            label = f"{method} {url} +{extra}"
            before = world.counts()
            response = client.api(method, url, token=token, json={**body, extra: value})
            check_api_error(findings, label, response, allowed=(422,))
            findings.check(world.counts() == before, label, "rows changed")
    findings.check(world.organization(world.pending_id) == before_pending, "pending organisation",
                   f"changed: {before_pending} → {world.organization(world.pending_id)}")
    findings.check(world.user(world.pending_owner_email) == before_owner, "pending owner", "changed")
    findings.assert_none()


def test_forms_ignore_extra_fields(app: Flask, world: World) -> None:
    """The HTML forms take their declared fields only: smuggled ones change nothing."""
    findings = Findings()
    extras = {key: str(value) for key, value in FOREIGN_FIELDS.items()}

    # Registration: the organisation starts pending in the chosen region, the owner is a member.
    data = {**extras, **registration_form(world)}
    response = Client(app).post("/organizations/register", data)
    findings.check(is_redirect_to(response, "/organizations/registered"), "register +extras",
                   f"status {response.status_code}")
    owner = world.user(data["member_email"])
    if findings.check(owner is not None, "register +extras", "not registered"):
        org = world.organization(owner["organization_id"])
        findings.check(org["status"] is OrganizationStatus.PENDING and org["region_code"] == "BJ"
                       and org["reviewed_by_id"] is None and org["kind"].value == "sme", "register +extras",
                       f"mass-assigned: {org}")
        findings.check(owner["role"] is Role.SME_MEMBER and owner["region_code"] == "BJ", "register +extras",
                       f"mass-assigned: {owner}")

    # Edit: only name, district, description and website change.
    before = world.organization(world.pending_id)
    client = Client(app, login=world.pending_owner_email)
    response = client.post(f"/organizations/{world.pending_id}/edit",
                           {**extras, "name": "改过的名称", "district": str(world.bj_district_id)})
    findings.check(is_redirect_to(response, f"/organizations/{world.pending_id}"), "edit +extras",
                   f"status {response.status_code}")
    after = world.organization(world.pending_id)
    findings.check(after["name"] == "改过的名称", "edit +extras", "the edit was not saved")
    for untouched in ("status", "region_code", "credit_code", "kind", "reviewed_by_id"):
        findings.check(after[untouched] == before[untouched], "edit +extras",
                       f"{untouched} changed to {after[untouched]}")

    # Accepting an invitation: the account joins the inviting organisation with its member role.
    secret = world.invitation_secret()
    response = Client(app).post(f"/invitations/{secret}", {**extras, "display_name": "新同事", "password": PASSWORD,
                                                            "confirm": PASSWORD})
    findings.check(is_redirect_to(response, "/login"), "accept +extras", f"status {response.status_code}")
    assert extras["email"] == "x@example.cn"
    findings.check(world.user("x@example.cn") is None, "accept +extras", "the smuggled e-mail was used")
    with world.session() as db:
        joined = db.scalars(sa.select(User).where(User.display_name == "新同事")).all()
        findings.check(len(joined) == 1 and joined[0].organization_id == world.approved_id
                       and joined[0].role is Role.INSTITUTE_MEMBER and not joined[0].is_org_owner,
                       "accept +extras", "mass-assigned")

    # Password change and token creation: the account's role and region stay.
    client = Client(app, login=world.approved_owner_email)
    owner_before = world.user(world.approved_owner_email)
    client.post("/account/password", {**extras, "current_password": PASSWORD, "new_password": "x" * 12,
                                      "confirm": "x" * 12})
    client.post("/account/tokens", {**extras, "name": "带额外字段"})
    owner_after = world.user(world.approved_owner_email)
    findings.check(owner_after == owner_before, "password/token +extras", f"{owner_before} → {owner_after}")
    with world.session() as db:
        tokens = db.scalars(sa.select(ApiToken).where(ApiToken.name == "带额外字段")).all()
        findings.check(len(tokens) == 1 and tokens[0].user_id == owner_before["id"], "token +extras",
                       "the token does not belong to the one who asked")
    findings.assert_none()


def test_api_malformed_bodies(app: Flask, world: World) -> None:
    """Bodies that are not a JSON object, or not JSON at all, on every endpoint that takes one."""
    findings, client = Findings(), Client(app)
    owner_token = world.token_for(world.pending_owner_email)
    approved_owner_token = world.token_for(world.approved_owner_email)
    admin_token = world.token_for(world.admin_email)
    endpoints = [
        ("POST", "/api/v1/organizations", None),
        ("PATCH", f"/api/v1/organizations/{world.pending_id}", owner_token),
        ("POST", f"/api/v1/organizations/{world.pending_id}/reject", admin_token),
        ("POST", f"/api/v1/organizations/{world.approved_id}/invitations", approved_owner_token),
        ("POST", "/api/v1/auth/tokens", None),
        # Not POST …/settlements/{id}/approve: its body is optional, so an empty one approves.
        *[(spec.method, spec.url, spec.token) for spec in voucher_endpoints(world) if spec.body_required],
    ]
    # name → (request, the status it must get)
    bodies: dict[str, tuple[dict[str, Any], int]] = {
        "invalid JSON": ({"data": '{"name": "x",', "content_type": "application/json"}, 400),
        "truncated UTF-8": ({"data": b'{"name": "\xe4\xb8"}', "content_type": "application/json"}, 400),
        "raw NUL byte": ({"data": b'{"name": "a\x00b"}', "content_type": "application/json"}, 400),
        "deep nesting": ({"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}, 400),
        "JSON array": ({"json": [{"name": "x"}]}, 422),
        "JSON string": ({"json": "name"}, 422),
        "JSON number": ({"json": 12}, 422),
        "JSON null": ({"data": "null", "content_type": "application/json"}, 422),
        "empty body": ({"data": "", "content_type": "application/json"}, 422),
        "form encoded": ({"data": {"name": "x", "email": "a@example.cn"}}, 415),
        "multipart": ({"data": {"name": "x", "file": (io.BytesIO(b"x"), "x.txt")}}, 415),
        "text/plain": ({"data": '{"name": "x"}', "content_type": "text/plain"}, 415),
        "no content type": ({"data": '{"name": "x"}'}, 415),
        "XML": ({"data": "<a>x</a>", "content_type": "application/xml"}, 415),
    }
    before_org = world.organization(world.pending_id)
    for method, url, token in endpoints:
        for name, (kwargs, status) in bodies.items():
            label = f"{method} {url} {name}"
            before = world.counts()
            kwargs = {**kwargs, "data": _copy_files(kwargs["data"])} if "data" in kwargs else kwargs
            response = client.api(method, url, token=token, **kwargs)
            check_api_error(findings, label, response, allowed=(status,))
            findings.check(world.counts() == before, label, "rows changed")
    findings.check(world.organization(world.pending_id) == before_org, "malformed bodies", "the organisation changed")
    # Too large: MAX_CONTENT_LENGTH answers 413 in the error shape.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = client.api("POST", "/api/v1/organizations", data=b'{"name": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                          content_type="application/json")
    check_api_error(findings, "POST /api/v1/organizations 2 MB", response, allowed=(413,))
    response = client.post("/organizations/register", {"name": "a" * (2 * 1024 * 1024)})
    check_page(findings, "POST /organizations/register 2 MB", response)
    findings.check(response.status_code == 413, "POST /organizations/register 2 MB", f"status {response.status_code}")
    findings.assert_none()


def _copy_files(data: Any) -> Any:
    """A fresh stream for every request: the test client reads an uploaded file to its end."""
    if isinstance(data, dict):
        return {key: (io.BytesIO(value[0].getvalue()), value[1]) if isinstance(value, tuple) else value
                for key, value in data.items()}
    return data


def test_api_list_query_parameters(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    token = world.token_for(world.admin_email)
    for caller in (None, token):
        for name, key, value in query_mutations():
            label = f"GET /api/v1/organizations?{name}={key} ({'admin' if caller else 'anonymous'})"
            response = client.api("GET", "/api/v1/organizations", token=caller, query_string={name: value})
            if response.status_code == 200:
                payload = response.get_json()
                findings.check(isinstance(payload, dict) and isinstance(payload.get("items"), list)
                               and 1 <= payload.get("per_page", 0) <= 100, label, f"odd answer {payload!r:.200}")
                if name in ("page", "per_page"):
                    raw = value[0] if isinstance(value, list) else value
                    try:
                        parsed: int | None = int(raw)
                    except ValueError:
                        parsed = None
                    findings.check(raw == "" or payload.get(name) == parsed, label,
                                   f"{name}={raw[:20]!r} was answered as {payload.get(name)!r}")
                if name in ("kind", "status"):
                    findings.check(key in {"empty", "blank"}, label, f"an unknown {name} was accepted")
                continue
            check_api_error(findings, label, response, allowed=(422,))
    # Several values for one parameter, and unknown parameters.
    for query in ("page=1&page=abc", "per_page=5&per_page=1000", "kind=sme&kind=bogus", "unknown=1&id=2",
                  "page[]=1", "page=%00", "q=%ff%fe"):
        response = client.api("GET", f"/api/v1/organizations?{query}")
        label = f"GET /api/v1/organizations?{query}"
        if response.status_code != 200:
            check_api_error(findings, label, response, allowed=(400, 422))
    findings.check(client.api("GET", "/api/v1/organizations?per_page=1000").status_code == 422, "per_page=1000",
                   "more than 100 items per page were allowed")
    findings.assert_none()


def test_api_path_parameters(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app, login=world.admin_email)
    token = world.token_for(world.admin_email)
    for organization_id in ("0", "-1", "abc", str(2**63), "1" * 40, "1.5", "%00", "１"):
        for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/approve"), ("POST", "/reject"),
                               ("GET", "/members"), ("POST", "/invitations")):
            url = f"/api/v1/organizations/{organization_id}{suffix}"
            response = client.api(method, url, token=token, json={"reason": "x", "email": "a@example.cn",
                                                                   "name": "x", "district": world.bj_district_id})
            check_api_error(findings, f"{method} {url}", response, allowed=(404, 405, 422))
        for url in (f"/organizations/{organization_id}", f"/organizations/{organization_id}/edit"):
            response = client.get(url)
            check_page(findings, f"GET {url}", response)
            findings.check(response.status_code == 404, f"GET {url}", f"status {response.status_code}")
    response = client.api("DELETE", f"/api/v1/auth/tokens/{2**63}", token=token)
    check_api_error(findings, "DELETE a huge token id", response, allowed=(404,))
    findings.assert_none()
