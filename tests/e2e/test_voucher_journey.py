"""A Hebei SME's voucher, used at a Beijing provider and settled by Hebei: apply, approve, redeem across
regions, request settlement, approve it; both regions' administrators see the order."""
from __future__ import annotations

import re

import pytest

from exchange.extensions import db
from tests import factories
from tests.e2e.conftest import screenshot
from tests.e2e.test_organization_journey import log_in, log_out


@pytest.fixture
def people(live_app):
    with live_app.test_request_context():
        program = factories.program(db.session, "HE", name="2026 年河北省科技创新券")
        sme = factories.organization(db.session, kind="sme", region="HE").owner
        provider = factories.provider(db.session, "BJ", products=(("电磁兼容（EMC）测试", "testing", "30000"),)).owner
        return {"program_id": program.id, "sme": sme.email, "provider": provider.email,
                "admin_he": factories.region_admin(db.session, "HE").email,
                "admin_bj": factories.region_admin(db.session, "BJ").email}


def test_a_hebei_voucher_is_used_in_beijing_and_settled_by_hebei(live_app, people, page):
    log_in(page, people["sme"], factories.PASSWORD)
    page.goto(f"/voucher-programs/{people['program_id']}")
    page.click(f"a[href$='/voucher-programs/{people['program_id']}/apply']")
    page.select_option("#service_category", "testing")
    page.fill("#planned_service", "工业网关电磁兼容测试")
    page.fill("#amount", "50000")
    page.fill("#justification", "新一代工业物联网网关上市前需要通过 EMC 测试。")
    screenshot(page, "voucher-apply")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/voucher-applications/\d+$"))
    log_out(page)

    log_in(page, people["admin_he"], factories.PASSWORD)
    page.goto("/review/voucher-applications")
    assert "工业网关电磁兼容测试" in page.content()
    page.click("form[action$='/approve'] button")
    page.wait_for_url("**/review/voucher-applications")
    log_out(page)

    log_in(page, people["sme"], factories.PASSWORD)
    page.goto("/vouchers")
    code = page.locator("main table tbody tr td a").first.inner_text().strip()
    assert re.fullmatch(r"HE2026-[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    log_out(page)

    log_in(page, people["provider"], factories.PASSWORD)
    page.goto("/provider")
    page.fill("#voucher_code", code)
    page.select_option("#service_product", page.locator("#service_product option", has_text="电磁兼容")
                       .get_attribute("value"))
    page.fill("#fee", "30000")
    page.fill("#contract_reference", "JB-2026-0311")
    screenshot(page, "voucher-order")
    page.click("form[action$='/provider/orders'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/voucher-redemptions/\d+$"))
    assert "15,000.00" in page.content()  # half of the 30,000-yuan fee, paid by the Hebei voucher
    page.goto("/provider")
    page.click("form[action$='/voucher-settlements'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/voucher-settlements.*"))
    log_out(page)

    log_in(page, people["admin_he"], factories.PASSWORD)
    page.goto("/review/voucher-settlements")
    page.fill("input[name=payment_reference]", "冀财拨 2026-118")
    page.click("form[action$='/approve'] button")
    page.wait_for_url("**/review/voucher-settlements")
    page.goto("/voucher-redemptions")
    assert "JB-2026-0311" in page.content() and code in page.content()
    screenshot(page, "voucher-orders-hebei")
    log_out(page)

    log_in(page, people["admin_bj"], factories.PASSWORD)
    page.goto("/voucher-redemptions")
    assert "JB-2026-0311" in page.content() and code in page.content()
    page.click("a:has-text('电磁兼容（EMC）测试')")
    page.wait_for_url(re.compile(r".*/voucher-redemptions/\d+$"))
    assert "已支付" in page.content()  # the settlement it belongs to is paid
