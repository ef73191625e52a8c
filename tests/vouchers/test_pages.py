"""The voucher pages, through the test client: each family once, as its users meet it."""
from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from exchange.db import utcnow
from exchange.vouchers.models import (
    ApplicationStatus,
    ProgramStatus,
    ProviderObjection,
    ProviderProfile,
    ProviderStatus,
    Redemption,
    RedemptionStatus,
    ServiceProduct,
    Settlement,
    SettlementStatus,
    Voucher,
    VoucherApplication,
    VoucherProgram,
    VoucherStatus,
)
from exchange.vouchers.services import OrderRequest, record_redemption
from tests import factories

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def login(new_browser, user):  # type: ignore[no-untyped-def]
    browser = new_browser()
    browser.login(user.email, factories.PASSWORD)
    return browser


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def program_form(**changes: str) -> dict[str, object]:
    form: dict[str, object] = {
        "name": "2026 年度北京市科技创新券", "year": "2026", "budget": "1,000,000", "unit": "5000",
        "max_face": "200000", "coverage_percent": "50", "cap_per_org": "200000",
        "eligible_categories": ["testing", "design"], "validity_days": "365",
        "accepting_regions": ["BJ", "TJ", "HE"], "redemption_mode": "direct", "description": "面向小微企业。"}
    return {**form, **changes}


def test_an_admin_creates_and_opens_a_programme_through_the_form_and_the_public_sees_its_rules(
        new_browser, db, app_db):
    admin = factories.region_admin(db, "BJ")
    browser = login(new_browser, admin)
    assert browser.get("/voucher-programs/new").status_code == 200

    created = browser.post("/voucher-programs/new", program_form())
    assert created.status_code == 302
    with app_db() as session:
        program = session.scalars(sa.select(VoucherProgram)).one()
        assert (program.budget_fen, program.unit_fen, program.max_face_fen, program.cap_per_org_fen) == (
            100_000_000, 500_000, 20_000_000, 20_000_000)
        assert program.status is ProgramStatus.DRAFT and program.region_code == "BJ"
        program_id = program.id
    assert created.headers["Location"].endswith(f"/voucher-programs/{program_id}")
    assert new_browser().get(f"/voucher-programs/{program_id}").status_code == 404  # a draft is the admins'

    edit = f"/voucher-programs/{program_id}/edit"
    assert 'value="1000000"' in text(browser.get(edit))  # amounts shown back in yuan
    assert browser.post(edit, program_form(budget="1,200,000")).status_code == 302
    assert browser.post(f"/voucher-programs/{program_id}/open").status_code == 302
    with app_db() as session:
        assert session.get(VoucherProgram, program_id).status is ProgramStatus.OPEN
    public = new_browser()
    listing = text(public.get("/voucher-programs"))
    assert "2026 年度北京市科技创新券" in listing and "¥1,200,000.00" in listing
    page = text(public.get(f"/voucher-programs/{program_id}"))
    assert "50 %" in page and "¥5,000.00" in page and "天津市" in page and "¥1,200,000.00" in page
    # the rules are final once open
    assert browser.get(f"/voucher-programs/{program_id}/edit").status_code == 409


def test_a_bad_programme_form_explains_each_field_with_422_and_keeps_what_was_typed(new_browser, db, app_db):
    browser = login(new_browser, factories.region_admin(db, "TJ"))

    response = browser.post("/voucher-programs/new", program_form(
        name="", budget="十万", max_face="12000.5", eligible_categories=[]))
    page = text(response)
    assert response.status_code == 422
    assert 'value="十万"' in page and 'value="12000.5"' in page and 'value="5000"' in page
    assert page.count('class="field-error"') >= 3

    response = browser.post("/voucher-programs/new", program_form(max_face="12000"))  # not whole units
    assert response.status_code == 422
    assert 'id="max_face-help" class="field-error"' in text(response)
    with app_db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(VoucherProgram)) == 0


def test_only_a_regional_admin_may_open_the_programme_form_and_only_their_own_programmes(new_browser, db):
    program = factories.program(db, "HE", status="draft")
    sme = factories.organization(db, kind="sme", region="HE").owner
    assert login(new_browser, sme).get("/voucher-programs/new").status_code == 403
    other_admin = login(new_browser, factories.region_admin(db, "BJ"))
    assert other_admin.get(f"/voucher-programs/{program.id}/edit").status_code == 403
    assert other_admin.post(f"/voucher-programs/{program.id}/open").status_code == 403


def test_an_sme_applies_with_an_amount_in_yuan(new_browser, db, app_db):
    program = factories.program(db, "HE")
    sme = factories.organization(db, kind="sme", region="HE").owner
    browser = login(new_browser, sme)
    assert "申请创新券" in text(browser.get(f"/voucher-programs/{program.id}"))  # the Apply button
    assert browser.get(f"/voucher-programs/{program.id}/apply").status_code == 200

    response = browser.post(f"/voucher-programs/{program.id}/apply", {
        "service_category": "testing", "planned_service": "电池隔膜材料成分检测", "provider": "",
        "amount": "50,000", "justification": "新产品研发需要第三方检测。"})

    assert response.status_code == 302
    with app_db() as session:
        application = session.scalars(sa.select(VoucherApplication)).one()
        assert application.amount_fen == 5_000_000 and application.status is ApplicationStatus.SUBMITTED
    assert "电池隔膜材料成分检测" in text(browser.get(response.headers["Location"]))
    assert "电池隔膜材料成分检测" in text(browser.get("/vouchers"))  # listed among my applications


def test_bad_application_inputs_show_field_errors_with_422_and_keep_what_was_typed(new_browser, db, app_db):
    program = factories.program(db, "HE")
    browser = login(new_browser, factories.organization(db, kind="sme", region="HE").owner)

    response = browser.post(f"/voucher-programs/{program.id}/apply", {
        "service_category": "testing", "planned_service": "", "amount": "12.345", "justification": "需要检测。"})
    page = text(response)
    assert response.status_code == 422
    assert 'value="12.345"' in page and "两位小数" in page and 'id="planned_service-help" class="field-error"' in page

    response = browser.post(f"/voucher-programs/{program.id}/apply", {
        "service_category": "commissioned_rnd", "planned_service": "检测", "amount": "7000",
        "justification": "需要检测。"})
    page = text(response)
    assert response.status_code == 422
    assert 'id="amount-help" class="field-error"' in page and 'id="service_category-help" class="field-error"' in page
    with app_db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(VoucherApplication)) == 0


def test_an_sme_of_another_region_may_not_apply(new_browser, db):
    program = factories.program(db, "HE")
    browser = login(new_browser, factories.organization(db, kind="sme", region="BJ").owner)
    assert browser.get(f"/voucher-programs/{program.id}/apply").status_code == 403


def submitted_application(db, region: str, planned_service: str = "材料检测"):  # type: ignore[no-untyped-def]
    """An SME of `region` applied for 10,000 yuan to an open programme of its region."""
    from exchange.vouchers.services import ApplicationRequest, apply_for_voucher

    program = factories.program(db, region)
    sme = factories.organization(db, kind="sme", region=region).owner
    return sme, apply_for_voucher(db, sme, ApplicationRequest(
        program_id=program.id, service_category="testing", planned_service=planned_service, amount_fen=1_000_000,
        justification="需要检测。"))


def test_another_regions_admin_gets_403_on_approve_and_the_own_admin_issues_the_voucher(new_browser, db, app_db):
    sme, application = submitted_application(db, "HE")

    outsider = login(new_browser, factories.region_admin(db, "TJ"))
    assert outsider.post(f"/voucher-applications/{application.id}/approve").status_code == 403
    assert "材料检测" not in text(outsider.get("/review/voucher-applications"))

    admin = login(new_browser, factories.region_admin(db, "HE"))
    assert "材料检测" in text(admin.get("/review/voucher-applications"))
    response = admin.post(f"/voucher-applications/{application.id}/approve")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/voucher-applications")
    with app_db() as session:
        voucher = session.scalars(sa.select(Voucher)).one()
        assert voucher.face_fen == 1_000_000
    assert voucher.code in text(admin.get("/review/voucher-applications"))  # the flash names it
    assert voucher.code in text(login(new_browser, sme).get("/vouchers"))


def test_a_rejection_needs_a_reason(new_browser, db, app_db):
    _sme, application = submitted_application(db, "BJ")
    admin = login(new_browser, factories.region_admin(db, "BJ"))

    refused = admin.post(f"/voucher-applications/{application.id}/reject", {"reason": "  "})
    assert refused.headers["Location"].endswith(f"/voucher-applications/{application.id}")
    assert admin.post(f"/voucher-applications/{application.id}/reject",
                      {"reason": "检测内容不属于本计划支持范围。"}).status_code == 302
    with app_db() as session:
        decided = session.get(VoucherApplication, application.id)
        assert decided.status is ApplicationStatus.REJECTED and decided.rejection_reason.startswith("检测内容")


def cross_region_world(db):  # type: ignore[no-untyped-def]
    """A Hebei programme, a voucher of 50,000 yuan of a Hebei SME, an admitted Beijing provider."""
    program = factories.program(db, "HE")
    sme = factories.organization(db, kind="sme", region="HE").owner
    provider = factories.provider(db, "BJ").owner
    product = factories.product_of(db, provider.organization_id)
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    return program, sme, provider, product, voucher


def idempotency_key(page: str) -> str:
    match = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert match, "no idempotency key on the console"
    return match.group(1)


def test_the_provider_records_an_order_and_a_double_submit_records_once(new_browser, db, app_db):
    program, sme, provider, product, voucher = cross_region_world(db)
    browser = login(new_browser, provider)
    console = text(browser.get("/provider"))
    key = idempotency_key(console)
    assert idempotency_key(text(browser.get("/provider"))) != key  # a new one each time the form is shown
    order = {"voucher_code": voucher.code.lower(), "service_product": str(product.id), "fee": "12,000",
             "contract_reference": "HT-2026-0001", "idempotency_key": key}

    first = browser.post("/provider/orders", order)
    again = browser.post("/provider/orders", order)

    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with app_db() as session:
        redemption = session.scalars(sa.select(Redemption)).one()
        assert (redemption.fee_fen, redemption.covered_fen, redemption.copay_fen) == (1_200_000, 600_000, 600_000)
    answer = text(browser.get(first.headers["Location"]))
    assert "¥6,000.00" in answer and "¥12,000.00" in answer
    assert "HT-2026-0001" in text(browser.get("/provider"))


def test_an_order_the_service_refuses_is_explained_on_the_form(new_browser, db, app_db):
    program, sme, provider, product, voucher = cross_region_world(db)
    browser = login(new_browser, provider)
    key = idempotency_key(text(browser.get("/provider")))

    above = browser.post("/provider/orders", {"voucher_code": voucher.code, "service_product": str(product.id),
                                              "fee": "20000.01", "contract_reference": "HT-1",
                                              "idempotency_key": key})
    assert above.status_code == 422
    page = text(above)
    assert 'id="fee-help" class="field-error"' in page and 'value="20000.01"' in page
    assert idempotency_key(page) != key  # nothing was recorded: the corrected order is a new request

    unknown = browser.post("/provider/orders", {"voucher_code": "HE2026-ZZZZ-ZZZZ", "service_product": str(product.id),
                                                "fee": "100", "contract_reference": "HT-2",
                                                "idempotency_key": idempotency_key(page)})
    assert unknown.status_code == 422 and 'id="voucher_code-help" class="field-error"' in text(unknown)

    with app_db() as session:
        session.get(Voucher, voucher.id).expires_at = utcnow() - timedelta(days=1)
        session.commit()
    expired = browser.post("/provider/orders", {"voucher_code": voucher.code, "service_product": str(product.id),
                                                "fee": "100", "contract_reference": "HT-3", "idempotency_key": "k-3"})
    assert expired.status_code == 409 and "已过期" in text(expired)
    with app_db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 0


def test_the_dashboard_renders_the_figures_and_the_chart_data(new_browser, db):
    program, sme, provider, product, voucher = cross_region_world(db)
    record_redemption(db, provider, OrderRequest(voucher.code, product.id, 1_000_000, "HT-1"))

    response = login(new_browser, factories.region_admin(db, "HE")).get(f"/voucher-programs/{program.id}/dashboard")
    page = text(response)
    assert response.status_code == 200
    assert "¥1,000,000.00" in page and "¥50,000.00" in page and "¥5,000.00" in page  # budget, issued, redeemed
    data = json.loads(html.unescape(re.search(r"id=\"voucher-charts\" data-charts='([^']*)'", page).group(1)))
    assert data["burnDown"]["fen"][-1] == 100_000_000 - 5_000_000
    assert data["byRegion"] == {"labels": ["北京市"], "fen": [500_000], "label": data["byRegion"]["label"]}
    assert "chartjs/chart.umd.min.js" in page and "js/charts.js" in page
    # nothing inline for the CSP: every script has a source
    assert " style=" not in page and all('src="' in tag for tag in re.findall(r"<script[^>]*>", page))
    assert voucher.code in page  # the vouchers of the programme, each a link to revoke from
    assert login(new_browser, factories.region_admin(db, "BJ")).get(
        f"/voucher-programs/{program.id}/dashboard").status_code == 403


def test_the_ledger_exports_to_csv_with_every_entry_in_yuan(new_browser, db):
    program, sme, provider, product, voucher = cross_region_world(db)
    admin = login(new_browser, factories.region_admin(db, "HE"))

    response = admin.get(f"/voucher-programs/{program.id}/ledger.csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["交易", "时间（UTC）", "变动"] and len(rows[0]) == 9
    amounts = sorted(row[5] for row in rows[1:])
    assert amounts == ["-1000000.00", "-50000.00", "1000000.00", "50000.00"]  # funded, then issued: numbers, not text
    assert voucher.code in {row[6] for row in rows[1:]}
    assert login(new_browser, sme).get(f"/voucher-programs/{program.id}/ledger.csv").status_code == 403


def test_a_formula_looking_value_in_an_export_is_neutralised(app):
    from exchange.downloads import csv_download

    with app.test_request_context():
        response = csv_download("x.csv", ["name"], [["=HYPERLINK(\"http://evil\")"], ["@SUM(A1)"], [-5], ["正常"]])
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(\"http://evil\")", "'@SUM(A1)", "-5", "正常"]


def test_the_notice_board_shows_a_provider_in_notice_and_takes_an_objection(new_browser, db, app_db):
    provider = factories.provider(db, "TJ", status="in_notice")
    name = provider.organization.name
    board = text(new_browser().get("/voucher-providers/notices"))
    assert name in board and "材料成分检测" in board and "登录后提出异议" in board

    neighbour = factories.organization(db, kind="enterprise", region="BJ").owner
    browser = login(new_browser, neighbour)
    assert 'name="text"' in text(browser.get("/voucher-providers/notices"))
    assert browser.post(f"/voucher-providers/{provider.organization.id}/objections",
                        {"text": "该机构 CMA 证书已过期。"}).status_code == 302
    with app_db() as session:
        assert session.scalars(sa.select(ProviderObjection.text)).all() == ["该机构 CMA 证书已过期。"]

    # the admin cannot admit while the notice runs and an objection is open: the page says why
    admin = login(new_browser, factories.region_admin(db, "TJ"))
    refused = admin.post(f"/voucher-providers/{provider.organization.id}/admit")
    assert refused.status_code == 302
    assert "公示期" in text(admin.get(refused.headers["Location"]))
    with app_db() as session:
        assert session.get(ProviderProfile, provider.organization.id).status is ProviderStatus.IN_NOTICE
        objection_id = session.scalars(sa.select(ProviderObjection.id)).one()
    page = text(admin.get(f"/voucher-providers/{provider.organization.id}"))
    dismiss = f"/voucher-providers/{provider.organization.id}/objections/{objection_id}/dismiss"
    assert "该机构 CMA 证书已过期。" in page and dismiss in page
    assert admin.post(dismiss, {"reason": "经核实，证书已于本月换发。"}).status_code == 302
    with app_db() as session:
        assert session.get(ProviderObjection, objection_id).dismissal_reason == "经核实，证书已于本月换发。"


def test_a_provider_member_may_not_object_to_its_own_application(new_browser, db):
    provider = factories.provider(db, "TJ", status="in_notice")
    browser = login(new_browser, provider.owner)
    assert browser.post(f"/voucher-providers/{provider.organization.id}/objections",
                        {"text": "自己的异议"}).status_code == 403


def test_a_provider_applies_and_publishes_its_services_with_fees_in_yuan(new_browser, db, app_db):
    owner = factories.organization(db, kind="provider", region="HE").owner
    browser = login(new_browser, owner)
    assert "申请成为创新券服务机构" in text(browser.get("/provider"))

    assert browser.post("/provider/apply", {"category": "design_centre", "qualifications": ""}).status_code == 422
    assert browser.post("/provider/apply", {"category": "design_centre",
                                            "qualifications": "省级工业设计中心。"}).status_code == 302
    bad = browser.post("/provider/products", {"name": "产品外观设计", "category": "design", "published_fee": "三万"})
    assert bad.status_code == 422 and 'value="三万"' in text(bad)
    assert browser.post("/provider/products", {"name": "产品外观设计", "category": "design",
                                               "published_fee": "30,000.5", "is_active": "y"}).status_code == 302
    with app_db() as session:
        product = session.scalars(sa.select(ServiceProduct)).one()
        assert product.fee_fen == 3_000_050 and product.is_active
    edit = f"/provider/products/{product.id}/edit"
    assert 'value="30000.5"' in text(browser.get(edit))
    assert browser.post(edit, {"name": "产品外观设计", "category": "design", "published_fee": "28000"}).status_code == 302
    with app_db() as session:
        product = session.get(ServiceProduct, product.id)
        assert (product.fee_fen, product.is_active) == (2_800_000, False)
    stranger = factories.provider(db, "HE").owner
    assert login(new_browser, stranger).get(edit).status_code == 404


def test_the_provider_directory_filters_across_regions(new_browser, db):
    tianjin = factories.provider(db, "TJ", products=(("电磁兼容检测", "testing", "8000"),))
    hebei = factories.provider(db, "HE", category="design_centre", products=(("工业设计", "design", "30000"),))
    pending = factories.provider(db, "BJ", status="applied")
    visitor = new_browser()

    everyone = text(visitor.get("/voucher-providers"))
    assert tianjin.organization.name in everyone and hebei.organization.name in everyone
    assert pending.organization.name not in everyone and "¥8,000.00" in everyone
    design = text(visitor.get("/voucher-providers?service_category=design"))
    assert hebei.organization.name in design and tianjin.organization.name not in design
    assert tianjin.organization.name in text(visitor.get("/voucher-providers?q=电磁"))
    assert hebei.organization.name not in text(visitor.get("/voucher-providers?region=TJ"))
    detail = text(visitor.get(f"/voucher-providers/{tianjin.organization.id}"))
    assert "电磁兼容检测" in detail and "¥8,000.00" in detail
    assert visitor.get(f"/voucher-providers/{pending.organization.id}").status_code == 404


def test_the_admin_suspends_a_provider_from_its_page(new_browser, db, app_db):
    provider = factories.provider(db, "BJ")
    admin = login(new_browser, factories.region_admin(db, "BJ"))
    assert "暂停" in text(admin.get(f"/voucher-providers/{provider.organization.id}"))
    assert admin.post(f"/voucher-providers/{provider.organization.id}/suspend",
                      {"reason": "收费高于公示价格。"}).status_code == 302
    with app_db() as session:
        assert session.get(ProviderProfile, provider.organization.id).status is ProviderStatus.SUSPENDED
    other = login(new_browser, factories.region_admin(db, "HE"))
    assert other.post(f"/voucher-providers/{provider.organization.id}/admit").status_code == 403


def test_the_wallet_warns_of_a_voucher_that_expires_soon(new_browser, db):
    program, sme, provider, product, voucher = cross_region_world(db)
    browser = login(new_browser, sme)
    assert "即将到期" not in text(browser.get("/vouchers"))
    voucher.expires_at = utcnow() + timedelta(days=3)
    db.commit()
    assert "即将到期" in text(browser.get("/vouchers"))
    assert "到期" in text(browser.get(f"/vouchers/{voucher.code}"))


def test_the_voucher_page_shows_every_movement_and_the_admin_revokes_with_a_reason(new_browser, db, app_db):
    program, sme, provider, product, voucher = cross_region_world(db)
    record_redemption(db, provider, OrderRequest(voucher.code, product.id, 1_000_000, "HT-7"))
    page = text(login(new_browser, sme).get(f"/vouchers/{voucher.code}"))
    assert "¥45,000.00" in page and "-¥5,000.00" in page and "材料成分检测" in page and "撤销" not in page

    admin = login(new_browser, factories.region_admin(db, "HE"))
    assert admin.post(f"/vouchers/{voucher.code}/revoke", {"reason": ""}).status_code == 302
    with app_db() as session:
        assert session.get(Voucher, voucher.id).status is VoucherStatus.ACTIVE
    assert login(new_browser, factories.region_admin(db, "BJ")).post(
        f"/vouchers/{voucher.code}/revoke", {"reason": "虚报"}).status_code == 403
    assert admin.post(f"/vouchers/{voucher.code}/revoke", {"reason": "虚报服务合同。"}).status_code == 302
    with app_db() as session:
        assert session.get(Voucher, voucher.id).status is VoucherStatus.REVOKED


def test_an_sme_claims_reimbursement_with_contract_and_receipt_and_the_admin_approves(new_browser, db, app_db):
    program = factories.program(db, "TJ", redemption_mode="reimbursement")
    sme = factories.organization(db, kind="sme", region="TJ").owner
    provider = factories.provider(db, "HE").owner
    voucher = factories.voucher(db, sme, program.id, 2_000_000)
    browser = login(new_browser, sme)
    assert "申请报销" in text(browser.get(f"/vouchers/{voucher.code}"))

    without_files = browser.post(f"/vouchers/{voucher.code}/claim", {
        "provider": str(provider.organization_id), "service_description": "可靠性试验", "fee": "10000",
        "contract_reference": "HT-TJ-1"})
    assert without_files.status_code == 422 and 'value="可靠性试验"' in text(without_files)

    response = browser.post(f"/vouchers/{voucher.code}/claim", {
        "provider": str(provider.organization_id), "service_description": "可靠性试验", "fee": "10000",
        "contract_reference": "HT-TJ-1",
        "files": [(io.BytesIO(PDF), "合同.pdf"), (io.BytesIO(PNG), "发票.png")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    claim_page = text(browser.get(response.headers["Location"]))
    assert "合同.pdf" in claim_page and "发票.png" in claim_page
    with app_db() as session:
        claim = session.scalars(sa.select(Redemption)).one()
        assert claim.status is RedemptionStatus.CLAIMED and len(claim.attachments) == 2
        attachment_id = claim.attachments[0].id

    admin = login(new_browser, factories.region_admin(db, "TJ"))
    queue = text(admin.get("/review/voucher-claims"))
    download = f"/voucher-redemptions/{claim.id}/attachments/{attachment_id}"
    assert "可靠性试验" in queue and download in queue
    file = admin.get(download)
    assert file.status_code == 200 and file.data == PDF and file.headers["Content-Disposition"].startswith("attachment")
    assert login(new_browser, factories.region_admin(db, "BJ")).get(download).status_code == 404
    assert admin.post(f"/voucher-redemptions/{claim.id}/approve").status_code == 302
    with app_db() as session:
        approved = session.get(Redemption, claim.id)
        assert (approved.status, approved.covered_fen) == (RedemptionStatus.RECORDED, 500_000)


def test_the_provider_requests_settlement_and_the_issuing_regions_admin_pays_it(new_browser, db, app_db):
    program, sme, provider, product, voucher = cross_region_world(db)
    record_redemption(db, provider, OrderRequest(voucher.code, product.id, 1_000_000, "HT-1"))
    browser = login(new_browser, provider)
    assert "¥5,000.00" in text(browser.get("/provider"))

    response = browser.post("/voucher-settlements", {"program_id": str(program.id)})
    assert response.status_code == 302
    assert "¥5,000.00" in text(browser.get(response.headers["Location"]))
    again = browser.post("/voucher-settlements", {"program_id": str(program.id)})  # nothing left to ask for
    assert again.headers["Location"].endswith("/voucher-settlements")
    with app_db() as session:
        settlement = session.scalars(sa.select(Settlement)).one()

    assert login(new_browser, factories.region_admin(db, "BJ")).post(
        f"/voucher-settlements/{settlement.id}/approve").status_code == 403
    admin = login(new_browser, factories.region_admin(db, "HE"))
    assert f"/voucher-settlements/{settlement.id}" in text(admin.get("/review/voucher-settlements"))
    assert admin.post(f"/voucher-settlements/{settlement.id}/approve",
                      {"payment_reference": "银行流水 20261126"}).status_code == 302
    with app_db() as session:
        paid = session.get(Settlement, settlement.id)
        assert (paid.status, paid.payment_reference) == (SettlementStatus.PAID, "银行流水 20261126")
    assert "银行流水 20261126" in text(browser.get(f"/voucher-settlements/{settlement.id}"))


def test_the_review_queues_are_for_regional_admins(new_browser, db):
    sme = login(new_browser, factories.organization(db, kind="sme", region="BJ").owner)
    for queue in ("applications", "providers", "claims", "settlements"):
        assert sme.get(f"/review/voucher-{queue}").status_code == 403
    admin = login(new_browser, factories.region_admin(db, "BJ"))
    for queue in ("applications", "providers", "claims", "settlements"):
        assert admin.get(f"/review/voucher-{queue}").status_code == 200


def test_the_navigation_leads_each_user_to_their_voucher_pages(new_browser, db):
    assert "/voucher-programs" in text(new_browser().get("/"))
    sme = factories.organization(db, kind="sme", region="BJ").owner
    assert 'href="/vouchers"' in text(login(new_browser, sme).get("/"))
    provider = factories.organization(db, kind="provider", region="BJ").owner
    assert 'href="/provider"' in text(login(new_browser, provider).get("/"))
    admin = factories.region_admin(db, "BJ")
    assert 'href="/review/voucher-applications"' in text(login(new_browser, admin).get("/"))


def test_the_public_lists_cost_the_same_number_of_queries_at_1_and_at_100_items(app, db):
    from tests.query_counter import count_queries

    for region in ("BJ", "TJ", "HE"):
        factories.program(db, region)
        factories.provider(db, region, products=(("检测", "testing", "100"), ("设计", "design", "200")))
    factories.provider(db, "HE")
    client = app.test_client()
    for url in ("/voucher-programs?per_page={n}", "/voucher-providers?per_page={n}"):
        with count_queries(app) as one:
            assert client.get(url.format(n=1)).status_code == 200
        with count_queries(app) as hundred:
            assert client.get(url.format(n=100)).status_code == 200
        assert one.count == hundred.count, url


@pytest.mark.parametrize("code", ["NOPE-0000", "HE2026%00ABCD", "X" * 300])
def test_a_voucher_code_that_names_no_voucher_is_not_found_on_every_page(new_browser, db, code):
    sme = factories.organization(db, kind="sme", region="TJ").owner
    browser = login(new_browser, sme)
    for page in (f"/vouchers/{code}", f"/vouchers/{code}/claim"):
        assert browser.get(page).status_code == 404, page
