"""Bad input to the account forms and API (login, passwords, tokens): see tests/bad_input.py for what
every answer must satisfy."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from tests import bad_input
from tests.bad_input import (
    ESCAPED_SCRIPT,
    EVERYTHING,
    FORM_VALUES,
    JSON_VALUES,
    NOT_STRINGS,
    PASSWORD,
    SCRIPT,
    Client,
    Findings,
    World,
    api_probe,
    check_page,
    error_texts,
    is_redirect_to,
    mutations,
    probe_form,
    text_of,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


def test_login_form(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    fields = {"email": EVERYTHING, "password": EVERYTHING}
    for name, key, value, must_refuse in mutations(fields, FORM_VALUES):
        label = f"login {name}={key}"
        data = {"email": world.approved_owner_email, "password": PASSWORD, name: value}
        before = world.counts()
        response = client.post("/login", data)
        probe_form(findings, app, world, label, response, succeeded=response.status_code == 302,
                   must_refuse=must_refuse, before=before, created={},
                   resend=lambda headers, data=data: client.post("/login", data, headers))
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", SCRIPT,
                   "/\x00/", "a" * 10_000):
        response = Client(app).post("/login", {"email": world.approved_owner_email, "password": PASSWORD,
                                               "next": target})
        check_page(findings, f"login next={target[:30]!r}", response)
        findings.check(response.status_code == 302 and not urlsplit(response.location).netloc
                       and response.location.startswith("/") and not response.location.startswith("//"),
                       f"login next={target[:30]!r}", f"left the site: {response.location!r}")
    findings.assert_none()


def test_reauthentication_form(app: Flask, world: World) -> None:
    findings = Findings()
    client = Client(app, login=world.approved_owner_email)
    for key, value in FORM_VALUES.items():
        label = f"reauthenticate password={key}"
        before = world.counts()
        response = client.post("/reauthenticate", {"password": value})
        probe_form(findings, app, world, label, response, succeeded=response.status_code == 302, must_refuse=True,
                   before=before, created={},
                   resend=lambda headers, value=value: client.post("/reauthenticate", {"password": value}, headers))
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/reauthenticate", {"password": PASSWORD, "next": target})
        findings.check(response.status_code == 302 and response.location.startswith("/")
                       and not response.location.startswith("//"), f"reauthenticate next={target!r}",
                       f"left the site: {response.status_code} {response.location!r}")
    findings.assert_none()


def test_password_change_form(app: Flask, world: World) -> None:
    findings = Findings()
    current = {"password": PASSWORD}
    client = Client(app, login=world.approved_owner_email)
    fields = {"current_password": EVERYTHING - {"list"}, "new_password": {"long", "blank", "empty", "number"},
              "confirm": EVERYTHING}
    for name, key, value, must_refuse in mutations(fields, FORM_VALUES):
        label = f"password change {name}={key}"
        data = {"current_password": current["password"], "new_password": "another long passphrase",
                "confirm": "another long passphrase", name: value}
        if name == "new_password":
            data["confirm"] = value
        if name == "current_password" and key == "list":
            continue
        before = world.counts()
        response = client.post("/account/password", data)
        succeeded = is_redirect_to(response, "/account")
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=must_refuse,
                   before=before, created={},
                   resend=lambda headers, data=data: client.post("/account/password", data, headers))
        if succeeded:
            current["password"] = data["new_password"]
    findings.assert_none()


def test_password_forgot_and_reset_forms(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    for key, value in FORM_VALUES.items():
        label = f"forgot email={key}"
        before = world.counts()
        response = client.post("/password/forgot", {"email": value})
        succeeded = response.status_code == 200 and not error_texts(text_of(response))
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=True,
                   before=before, created={},
                   resend=lambda headers, value=value: client.post("/password/forgot", {"email": value}, headers))

    email = world.pending_owner_email
    secret = world.reset_secret(email)
    fields = {"new_password": {"long", "blank", "empty", "number"}, "confirm": EVERYTHING}
    for name, key, value, must_refuse in mutations(fields, FORM_VALUES):
        label = f"reset {name}={key}"
        data = {"new_password": "another long passphrase", "confirm": "another long passphrase", name: value}
        if name == "new_password":
            data["confirm"] = value
        url = f"/password/reset/{secret}"
        before = world.counts()
        response = client.post(url, data)
        succeeded = is_redirect_to(response, "/login")
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=must_refuse,
                   before=before, created={},
                   resend=lambda headers, url=url, data=data: client.post(url, data, headers))
        if succeeded:
            secret = world.reset_secret(email)
    for key, value in FORM_VALUES.items():  # hostile tokens in the path
        if isinstance(value, str) and value.strip() and "\x00" not in value:
            response = client.get(f"/password/reset/{value}")
            check_page(findings, f"reset token={key}", response)
            findings.check(response.status_code == 404, f"reset token={key}", f"status {response.status_code}")
    findings.assert_none()


def test_token_creation_form(app: Flask, world: World) -> None:
    findings = Findings()
    client = Client(app, login=world.approved_owner_email)
    for key, value in FORM_VALUES.items():
        label = f"token name={key}"
        before = world.counts()
        response = client.post("/account/tokens", {"name": value})
        succeeded = response.status_code == 200 and 'id="new-token"' in text_of(response)
        probe_form(findings, app, world, label, response, succeeded=succeeded, must_refuse=key in {"long", "nul"},
                   before=before, created={"api_tokens": 1},
                   resend=lambda headers, value=value: client.post("/account/tokens", {"name": value}, headers))
    page = client.get("/account")
    check_page(findings, "account page with the accepted token names", page)
    findings.check(ESCAPED_SCRIPT in text_of(page), "account page", "the hostile token name is not shown escaped")
    findings.assert_none()


def test_api_token_creation(app: Flask, world: World) -> None:
    findings, client = Findings(), Client(app)
    fields = {"email": EVERYTHING, "password": EVERYTHING, "name": {"long", "nul"} | NOT_STRINGS - {"null"}}
    for name, key, value, must_refuse in mutations(fields, JSON_VALUES):
        label = f"POST /api/v1/auth/tokens {name}={key}"
        body = {"email": world.approved_owner_email, "password": PASSWORD, "name": "脚本", name: value}
        before = world.counts()
        response = client.api("POST", "/api/v1/auth/tokens", json=body)
        if name == "name" and key == "null" and response.status_code == 422:
            must_refuse = True  # refusing an explicit null name is fine too
        api_probe(findings, world, label, response, success_status=201, must_refuse=must_refuse, before=before,
                   created={"api_tokens": 1})
    for body in ({}, {"email": world.approved_owner_email}, {"password": PASSWORD}):
        response = client.api("POST", "/api/v1/auth/tokens", json=body)
        api_probe(findings, world, f"POST /api/v1/auth/tokens {sorted(body)}", response, success_status=201,
                   must_refuse=True, before=world.counts(), created={})
    findings.assert_none()
