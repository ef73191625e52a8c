"""An organisation registers in the browser, its region's admin approves it, and it may publish."""
from __future__ import annotations

import re

import pytest

from exchange.extensions import db
from tests import factories
from tests.e2e.conftest import screenshot


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def log_out(page) -> None:
    page.click("header form[action='/logout'] button")
    page.wait_for_url(re.compile(r".*/$"))


@pytest.fixture
def admins(live_app):
    # Set up before Playwright starts: its event loop would refuse the app context's async teardown.
    with live_app.test_request_context():
        factories.admin(db.session, "TJ", email="admin.tj@example.cn")
        factories.admin(db.session, "BJ", email="admin.bj@example.cn")


def test_a_tianjin_institute_registers_and_the_tianjin_admin_approves_it(live_app, admins, page):
    code = factories.valid_credit_code(division="120104")

    page.goto("/organizations/register")
    screenshot(page, "register-form")
    page.fill("#name", "天津海河先进制造研究院")
    page.fill("#credit_code", code)
    page.select_option("#kind", "institute")
    page.select_option("#region", "TJ")
    page.select_option("#district", label="南开区")
    page.fill("#description", "面向京津冀的智能制造共性技术研发平台。")
    page.fill("#member_name", "李研究员")
    page.fill("#member_email", "li@haihe-institute.cn")
    page.fill("#password", factories.PASSWORD)
    page.fill("#confirm", factories.PASSWORD)
    page.click("main form button[type=submit]")
    screenshot(page, "register-submitted")
    page.wait_for_url("**/organizations/registered")

    log_in(page, "li@haihe-institute.cn", factories.PASSWORD)
    status = page.locator(".status-card")
    assert "待审核" in status.inner_text() or "Pending" in status.inner_text()
    screenshot(page, "member-pending")
    log_out(page)

    # Another region's admin sees no queue item and cannot approve.
    log_in(page, "admin.bj@example.cn", factories.PASSWORD)
    page.goto("/review/organizations")
    assert "天津海河先进制造研究院" not in page.content()
    log_out(page)

    log_in(page, "admin.tj@example.cn", factories.PASSWORD)
    page.goto("/review/organizations")
    page.click("text=天津海河先进制造研究院")
    screenshot(page, "admin-review")
    page.click("form[action$='/approve'] button")
    page.wait_for_url("**/review/organizations")
    assert "天津海河先进制造研究院" in page.locator(".flash").inner_text()
    log_out(page)

    log_in(page, "li@haihe-institute.cn", factories.PASSWORD)
    status_text = page.locator(".status-card").inner_text()
    assert "已通过" in status_text or "approved" in status_text.lower()
    screenshot(page, "member-approved")
