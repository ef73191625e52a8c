"""Bad input to the language switch: see tests/bad_input.py for what every answer must satisfy."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask

from exchange.accounts.models import User
from tests import bad_input
from tests.bad_input import (
    FORM_VALUES,
    Client,
    Findings,
    World,
    check_page,
    text_of,
)

# The fixtures of every bad-input test: raised login limits, and the world the requests meet.
app_overrides, world = bad_input.app_overrides, bad_input.world


def test_language_switch(app: Flask, world: World) -> None:
    findings = Findings()
    for login in (None, world.approved_owner_email):
        for key, value in FORM_VALUES.items():
            for name in ("locale", "next"):
                label = f"language {name}={key} ({'member' if login else 'anonymous'})"
                client = Client(app, login=login)
                response = client.post("/language", {"locale": "en", "next": "/organizations", name: value})
                check_page(findings, label, response)
                if not findings.check(response.status_code == 302, label, f"status {response.status_code}"):
                    continue
                location = response.location
                findings.check(location.startswith("/") and not location.startswith("//")
                               and not urlsplit(location).netloc, label, f"left the site: {location!r}")
                page = client.get("/")
                check_page(findings, label + " (home after)", page)
                if name == "locale":
                    findings.check('lang="zh-CN"' in text_of(page) or 'lang="zh' in text_of(page), label,
                                   "a bad locale changed the language")
    with world.session() as db:
        locale = db.scalar(sa.select(User.locale).where(User.email == world.approved_owner_email))
    findings.check(locale in (None, "en", "zh_CN"), "language", f"stored locale {locale!r}")
    findings.assert_none()
