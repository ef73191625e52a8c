"""A regional admin imports an existing library, all rows or none; any list exports to CSV and XLSX."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from exchange.catalog.models import Entry, EntryStatus
from tests import factories

HEADER = ["owner_credit_code", "title", "summary", "field", "district", "keywords", "budget_min_fen",
          "budget_max_fen", "deadline", "modes", "required_maturity"]


def need_row(org, title: str, **changes: str) -> list[str]:
    row = {"owner_credit_code": org.credit_code, "title": title, "summary": "寻求高精度谐波减速器国产化方案。",
           "field": "smart-mfg.robots", "district": org.district.name_zh, "keywords": "谐波减速器，机器人",
           "budget_min_fen": "1000000", "budget_max_fen": "5000000", "deadline": "2030-03-31",
           "modes": "joint_development, license", "required_maturity": "pilot", **changes}
    return [row[name] for name in HEADER]


def csv_file(rows: list[list[str]]) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *rows])
    return io.BytesIO(text.getvalue().encode("utf-8-sig"))


def xlsx_file(rows: list[list[str]]) -> io.BytesIO:
    workbook = Workbook()
    workbook.active.append(HEADER)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def post_import(browser, kind: str, name: str, content: io.BytesIO):
    return browser.post("/review/import", {"kind": kind, "file": (content, name)}, content_type="multipart/form-data")


def test_a_valid_file_is_imported_and_published_in_one_go(browser, db):
    org = factories.organization(db, kind="enterprise", region="HE").organization
    admin = factories.region_admin(db, "HE")
    browser.login(admin.email, factories.PASSWORD)

    response = post_import(browser, "need", "needs.xlsx", xlsx_file([need_row(org, "需求一"), need_row(org, "需求二")]))

    assert response.status_code == 302
    titles = set(db.scalars(sa.select(Entry.title).where(Entry.status == EntryStatus.APPROVED)))
    assert titles == {"需求一", "需求二"}


def test_one_bad_row_rejects_the_whole_file_with_a_report_per_row(browser, db):
    org = factories.organization(db, kind="enterprise", region="HE").organization
    admin = factories.region_admin(db, "HE")
    browser.login(admin.email, factories.PASSWORD)
    rows = [need_row(org, "好的一行"), need_row(org, "坏的一行", deadline="2001-01-01", field="nope")]

    response = post_import(browser, "need", "needs.csv", csv_file(rows))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>3</td>" in page and "deadline" in page and "field" in page
    assert db.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


def test_an_admin_imports_only_for_organisations_of_their_region(browser, db):
    beijing_org = factories.organization(db, kind="enterprise", region="BJ").organization
    browser.login(factories.region_admin(db, "HE").email, factories.PASSWORD)
    response = post_import(browser, "need", "needs.csv", csv_file([need_row(beijing_org, "越权导入")]))
    assert response.status_code == 422 and "owner_credit_code" in response.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


def test_members_may_not_import(browser, db):
    member = factories.organization(db, kind="enterprise", region="HE").owner
    browser.login(member.email, factories.PASSWORD)
    assert browser.get("/review/import").status_code == 403


def test_an_unreadable_file_is_explained(browser, db):
    browser.login(factories.region_admin(db, "TJ").email, factories.PASSWORD)
    response = post_import(browser, "need", "needs.xlsx", io.BytesIO(b"PK\x03\x04 not really a workbook"))
    assert response.status_code == 422 and "field-error" in response.get_data(as_text=True)


def test_a_workbook_that_unpacks_to_a_gigabyte_is_refused_unopened(browser, db):
    browser.login(factories.region_admin(db, "TJ").email, factories.PASSWORD)
    org = factories.organization(db, kind="enterprise", region="TJ").organization
    bomb = factories.zip_declaring(xlsx_file([need_row(org, "需求一")]).getvalue(), "xl/worksheets/sheet1.xml", 2**30)

    response = post_import(browser, "need", "needs.xlsx", io.BytesIO(bomb))

    assert response.status_code == 422 and "200 MB" in response.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


def test_a_filtered_list_exports_to_csv_and_xlsx(app, db):
    factories.entry(db, "achievement", region="TJ", title="=HYPERLINK(\"http://evil\")")
    factories.entry(db, "achievement", region="BJ", title="北京的成果")
    client = app.test_client()

    exported = client.get("/achievements/export.csv?region=TJ")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][4] == "'=HYPERLINK(\"http://evil\")"  # no formula runs

    workbook = load_workbook(io.BytesIO(client.get("/achievements/export.xlsx?region=BJ").data))
    values = [row for row in workbook.active.iter_rows(values_only=True)]
    assert len(values) == 2 and "北京的成果" in values[1]
