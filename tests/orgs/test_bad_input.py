"""Bad input to the organisation forms and API (registration, invitations, review, editing, the
directory): see tests/bad_input.py for what every answer must satisfy."""
from __future__ import annotations

from typing import Any

from flask import Flask

from exchange.accounts.models import Role
from exchange.orgs.models import OrganizationStatus
from tests import bad_input
from tests.bad_input import (
    ESCAPED_SCRIPT,
    EVERYTHING,
    FORM_VALUES,
    JSON_VALUES,
    NOT_STRINGS,
    PASSWORD,
    REQUIRED_TEXT,
    Client,
    Findings,
    World,
    api_probe,
    check_api_error,
    check_language,
    check_page,
    is_redirect_to,
    mutations,
    probe_form,
    query_mutations,
    registration_form,
    registration_json,
    text_of,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


REGISTRATION_FIELDS = {
    "name": REQUIRED_TEXT,
    "credit_code": EVERYTHING,
    "kind": EVERYTHING,
    "region": EVERYTHING,
    "district": EVERYTHING,
    "description": {"long", "nul"},
    "website": EVERYTHING - {"blank", "empty"},
    "member_name": REQUIRED_TEXT,
    "member_email": EVERYTHING,
    "password": {"long", "blank", "empty", "number"},
    "confirm": EVERYTHING,
}


def test_registration_form(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    accepted_names = []
    for name, key, value, must_refuse in mutations(REGISTRATION_FIELDS, FORM_VALUES):
        label = f"register {name}={key}"
        data = registration_form(world)
        data[name] = value
        if name == "password":
            data["confirm"] = value
        before = world.counts()
        response = client.post("/organizations/register", data)
        succeeded = is_redirect_to(response, "/organizations/registered")
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=must_refuse,
                   before=before, created={"organizations": 1, "users": 1},
                   resend=lambda headers, data=data: client.post("/organizations/register", data, headers))
        if succeeded:
            accepted_names.append(data["name"])
            owner = world.user(data["member_email"].strip().lower())
            findings.check(owner is not None and owner["role"] is Role.SME_MEMBER and owner["is_org_owner"], label,
                           f"the owner was not created as an SME member: {owner}")
    # What was accepted is shown escaped to the region's administrator.
    queue = Client(app, login=world.admin_email).get("/review/organizations?per_page=100")
    check_page(findings, "review queue with the accepted names", queue)
    findings.check(ESCAPED_SCRIPT in text_of(queue), "review queue", "the hostile name is not shown escaped")
    findings.assert_none()


def _flash_after(client: Client, response: Any) -> tuple[str, Any]:
    """Follow a form's redirect and tell which flash the page shows: 'success', 'error' or ''."""
    page = client.get(response.location)
    body = text_of(page)
    if "flash flash-error" in body:
        return "error", page
    if "flash flash-success" in body:
        return "success", page
    return "", page


def test_invitation_form(app: Flask, world: World) -> None:
    findings = Findings()
    client = Client(app, login=world.approved_owner_email)
    url = f"/organizations/{world.approved_id}/invitations"
    for key, value in FORM_VALUES.items():
        label = f"invite email={key}"
        before = world.counts()
        response = client.post(url, {"email": value})
        check_page(findings, label, response)
        if not findings.check(is_redirect_to(response, f"/organizations/{world.approved_id}"), label,
                              f"status {response.status_code} {response.location}"):
            continue
        outcome, page = _flash_after(client, response)
        check_page(findings, label + " (page after)", page)
        findings.check(outcome == "error", label, f"an invalid address was not refused ({outcome!r})")
        findings.check(world.counts() == before, label, "half-saved")
        if outcome == "error":
            check_language(findings, label, app, page, lambda headers: _resend_flash(client, url, {"email": value},
                                                                                      headers))
    findings.assert_none()


def _resend_flash(client: Client, url: str, data: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post(url, data, headers)
    return client.get(response.location, headers)


def test_accept_invitation_form(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    secret = world.invitation_secret()
    fields = {"display_name": REQUIRED_TEXT, "password": {"long", "blank", "empty", "number"}, "confirm": EVERYTHING}
    for name, key, value, must_refuse in mutations(fields, FORM_VALUES):
        label = f"accept invitation {name}={key}"
        data = {"display_name": "新同事", "password": PASSWORD, "confirm": PASSWORD, name: value}
        if name == "password":
            data["confirm"] = value
        url = f"/invitations/{secret}"
        before = world.counts()
        response = client.post(url, data)
        succeeded = is_redirect_to(response, "/login")
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=must_refuse,
                   before=before, created={"users": 1},
                   resend=lambda headers, url=url, data=data: client.post(url, data, headers))
        if succeeded:
            secret = world.invitation_secret()
    findings.assert_none()


def test_rejection_reason_form(app: Flask, world: World) -> None:
    findings = Findings()
    client = Client(app, login=world.admin_email)
    organization_id = world.new_pending()
    for key, value in FORM_VALUES.items():
        label = f"reject reason={key}"
        url = f"/organizations/{organization_id}/reject"
        before_org = world.organization(organization_id)
        response = client.post(url, {"reason": value})
        check_page(findings, label, response)
        if is_redirect_to(response, "/review/organizations"):
            findings.check(key not in REQUIRED_TEXT, label, "accepted a reason that must be refused")
            findings.check(world.organization(organization_id)["status"] is OrganizationStatus.REJECTED, label,
                           "answered success but the organisation is not rejected")
            organization_id = world.new_pending()
            continue
        if not findings.check(is_redirect_to(response, f"/organizations/{organization_id}"), label,
                              f"status {response.status_code} {response.location}"):
            continue
        outcome, page = _flash_after(client, response)
        check_page(findings, label + " (page after)", page)
        findings.check(outcome == "error", label, "refused without an error message")
        findings.check(world.organization(organization_id) == before_org, label, "half-saved")
        check_language(findings, label, app, page,
                       lambda headers, url=url, value=value: _resend_flash(client, url, {"reason": value}, headers))
    findings.assert_none()


EDIT_FIELDS = {"name": REQUIRED_TEXT, "district": EVERYTHING, "description": {"long", "nul"},
               "website": EVERYTHING - {"blank", "empty"}}


def test_organization_edit_form(app: Flask, world: World) -> None:
    findings = Findings()
    client = Client(app, login=world.pending_owner_email)
    url = f"/organizations/{world.pending_id}/edit"
    for name, key, value, must_refuse in mutations(EDIT_FIELDS, FORM_VALUES):
        label = f"edit {name}={key}"
        data = {"name": "正常名称", "district": str(world.bj_district_id), "description": "", "website": "",
                name: value}
        before_org = world.organization(world.pending_id)
        before = world.counts()
        response = client.post(url, data)
        succeeded = is_redirect_to(response, f"/organizations/{world.pending_id}")
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=must_refuse,
                   before=before, created={},
                   resend=lambda headers, data=data: client.post(url, data, headers))
        if not succeeded:
            findings.check(world.organization(world.pending_id) == before_org, label, "half-saved")
    detail = client.get(f"/organizations/{world.pending_id}")
    check_page(findings, "detail after the edits", detail)
    findings.assert_none()


def test_directory_query_parameters(app: Flask, world: World) -> None:
    findings = Findings()
    client = Client(app, login=world.admin_email)
    for name, key, value in query_mutations():
        label = f"directory ?{name}={key}"
        response = client.browser.client.get("/organizations", query_string={name: value})
        check_page(findings, label, response)
        findings.check(response.status_code in (200, 422), label, f"status {response.status_code}")
    findings.assert_none()


API_REGISTRATION_FIELDS = {
    "name": REQUIRED_TEXT | NOT_STRINGS - {"list"},
    "credit_code": EVERYTHING,
    "kind": EVERYTHING,
    "region": EVERYTHING,
    "district": EVERYTHING,
    "description": {"long", "nul"} | NOT_STRINGS,
    "website": (EVERYTHING - {"blank", "empty"}),
    "member_name": REQUIRED_TEXT | NOT_STRINGS,
    "member_email": EVERYTHING,
    "password": {"long", "blank", "empty", "number"} | NOT_STRINGS,
}


def test_api_registration(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    for name, key, value, must_refuse in mutations(API_REGISTRATION_FIELDS, JSON_VALUES):
        label = f"POST /api/v1/organizations {name}={key}"
        body = registration_json(world)
        body[name] = value
        before = world.counts()
        response = client.api("POST", "/api/v1/organizations", json=body)
        must_refuse = must_refuse or (key in NOT_STRINGS and name != "district")
        api_probe(findings, world, label, response, success_status=202, must_refuse=must_refuse, before=before,
                   created={"organizations": 1, "users": 1})
    for name in API_REGISTRATION_FIELDS:
        if name in ("description", "website"):
            continue
        body = registration_json(world)
        del body[name]
        before = world.counts()
        response = client.api("POST", "/api/v1/organizations", json=body)
        api_probe(findings, world, f"POST /api/v1/organizations without {name}", response, success_status=202,
                   must_refuse=True, before=before, created={})
    findings.assert_none()


def test_api_update_organization(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    token = world.token_for(world.pending_owner_email)
    url = f"/api/v1/organizations/{world.pending_id}"
    fields = {"name": REQUIRED_TEXT | NOT_STRINGS, "district": EVERYTHING,
              "description": {"long", "nul"} | NOT_STRINGS, "website": (EVERYTHING - {"blank", "empty"})}
    for name, key, value, must_refuse in mutations(fields, JSON_VALUES):
        label = f"PATCH {name}={key}"
        before_org = world.organization(world.pending_id)
        before = world.counts()
        response = client.api("PATCH", url, token=token,
                              json={"name": "正常名称", "district": world.bj_district_id, name: value})
        if not api_probe(findings, world, label, response, success_status=200, must_refuse=must_refuse,
                          before=before, created={}):
            findings.check(world.organization(world.pending_id) == before_org, label, "half-saved")
    for body in ({}, {"name": "只有名称"}, {"district": world.bj_district_id}):
        response = client.api("PATCH", url, token=token, json=body)
        api_probe(findings, world, f"PATCH {sorted(body)}", response, success_status=200, must_refuse=True,
                   before=world.counts(), created={})
    findings.assert_none()


def test_api_reject_reason(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    token = world.token_for(world.admin_email)
    organization_id = world.new_pending()
    for key, value in [*JSON_VALUES.items(), ("missing", ...)]:
        label = f"POST reject reason={key}"
        body = {} if value is ... else {"reason": value}
        before_org = world.organization(organization_id)
        response = client.api("POST", f"/api/v1/organizations/{organization_id}/reject", token=token, json=body)
        if response.status_code == 200:
            findings.check(key not in REQUIRED_TEXT | NOT_STRINGS | {"missing"}, label, "accepted a bad reason")
            organization_id = world.new_pending()
            continue
        check_api_error(findings, label, response)
        findings.check(world.organization(organization_id) == before_org, label, "half-saved")
    findings.assert_none()


def test_api_invitations(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    token = world.token_for(world.approved_owner_email)
    url = f"/api/v1/organizations/{world.approved_id}/invitations"
    for key, value in [*JSON_VALUES.items(), ("missing", ...), ("taken", world.admin_email)]:
        label = f"POST invitations email={key}"
        before = world.counts()
        response = client.api("POST", url, token=token, json={} if value is ... else {"email": value})
        api_probe(findings, world, label, response, success_status=201, must_refuse=True, before=before,
                   created={"invitations": 1})
    findings.assert_none()
