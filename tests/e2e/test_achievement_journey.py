"""A Tianjin institute publishes an achievement: written, rejected, revised, approved, found by the public."""
from __future__ import annotations

import re

import pytest

from exchange.extensions import db
from tests import factories
from tests.e2e.conftest import screenshot
from tests.e2e.test_organization_journey import log_in, log_out

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def people(live_app):
    with live_app.test_request_context():
        member = factories.organization(db.session, kind="institute", region="TJ").owner
        admin = factories.admin(db.session, "TJ", email="admin.tj@example.cn")
        return {"member": member.email, "admin": admin.email}


def test_write_reject_revise_approve_and_find(live_app, people, page, tmp_path):
    title = "钠离子电池层状氧化物正极材料中试技术"
    log_in(page, people["member"], factories.PASSWORD)
    page.goto("/achievements/new")
    page.fill("#title", title)
    page.fill("#summary", "以低成本铁锰基层状氧化物为正极，首效 92%，1C 循环 2000 次容量保持率 85%。")
    page.select_option("#field", "nev.power-battery")
    page.fill("#keywords", "钠离子电池，正极材料，储能")
    page.select_option("#maturity", "intermediate")
    page.fill("#trl", "6")
    page.select_option("#ip_type", "invention")
    page.fill("#patents", "ZL202110123456.7")
    page.select_option("#ip_status", "granted")
    page.check("input[name=modes][value=license]")
    page.fill("#price_fen", "800000")
    screenshot(page, "achievement-form")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/achievements/\d+$"))
    detail_url = page.url

    attachment = tmp_path / "检测报告.pdf"
    attachment.write_bytes(PDF)
    page.set_input_files("input[type=file]", str(attachment))
    page.click("form[action$='/attachments'] button")
    page.wait_for_url(detail_url)
    assert "检测报告.pdf" in page.content()
    page.click("button[data-action=submit]")
    page.wait_for_url(detail_url)
    log_out(page)

    log_in(page, people["admin"], factories.PASSWORD)
    page.goto("/review/entries")
    page.click(f"text={title}")
    page.fill("#reason", "请补充第三方检测机构出具的循环寿命报告。")
    screenshot(page, "achievement-review")
    page.click("button[data-action=reject]")
    page.wait_for_url("**/review/entries")
    log_out(page)

    log_in(page, people["member"], factories.PASSWORD)
    page.goto(detail_url)
    assert "请补充第三方检测机构出具的循环寿命报告。" in page.content()
    page.click("a[href$='/edit']")
    page.fill("#summary", "以低成本铁锰基层状氧化物为正极，首效 92%，1C 循环 2000 次容量保持率 85%（附第三方检测报告）。")
    page.click("main form button[type=submit]")
    page.wait_for_url(detail_url)
    page.click("button[data-action=submit]")
    page.wait_for_url(detail_url)
    log_out(page)

    log_in(page, people["admin"], factories.PASSWORD)
    page.goto(detail_url)
    assert "附第三方检测报告" in page.locator(".changes").inner_text()  # what changed since the last submission
    page.click("button[data-action=approve]")
    page.wait_for_url("**/review/entries")
    log_out(page)

    page.goto("/achievements?region=TJ&field=nev")
    screenshot(page, "achievement-list")
    page.click(f"text={title}")
    page.wait_for_url(detail_url)
    assert "已发布" in page.content() or "Published" in page.content()
    screenshot(page, "achievement-public")
