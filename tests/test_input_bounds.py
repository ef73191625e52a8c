"""One input layer bounds everything, pages and API alike (issue 15, item 4).

Ids are INTEGER columns (at most 2,147,483,647) and amounts BIGINT: a larger number in a path, a body
or a filter is 404 (a path: no such thing) or 422 (a field), never the database's `integer out of
range`. NUL and unpaired surrogates, which PostgreSQL cannot store and SQLite stores as garbage, and
JSON numbers of absurd length are refused with a clear message in the user's language.
Each check runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL, where the out-of-range ids
were 500s.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests import factories
from tests.conftest import Browser

TOO_BIG = 2**31  # one more than the largest INTEGER id
TOO_BIG_FEN = 2**63  # one more than the largest BIGINT


@dataclass
class People:
    institute_token: str
    admin_token: str
    sme_token: str
    provider_token: str
    institute_email: str
    admin_email: str
    approved_org_id: int
    achievement_id: int
    draft_project_id: int
    program_id: int
    district_id: int


@pytest.fixture
def people(db: Any) -> People:
    institute = factories.organization(db, kind="institute", region="BJ")
    sme = factories.organization(db, kind="sme", region="BJ")
    provider = factories.provider(db, "BJ")
    admin = factories.region_admin(db, "BJ")
    achievement = factories.entry(db, "achievement", status="submitted", owner=institute.owner)
    project = factories.entry(db, "project", status="draft", owner=institute.owner)
    program = factories.program(db, "BJ")
    return People(
        institute_token=factories.api_token(db, institute.owner), admin_token=factories.api_token(db, admin),
        sme_token=factories.api_token(db, sme.owner), provider_token=factories.api_token(db, provider.owner),
        institute_email=institute.owner.email, admin_email=admin.email,
        approved_org_id=institute.organization.id, achievement_id=achievement.id, draft_project_id=project.id,
        program_id=program.id, district_id=institute.organization.district_id)


def call(app: Flask, method: str, url: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().open(url, method=method, headers=headers, **kwargs)


def error_of(response: Any) -> dict[str, Any]:
    payload = response.get_json()
    assert isinstance(payload, dict) and set(payload) == {"error"}, response.get_data(as_text=True)[:300]
    return payload["error"]


def assert_refused(response: Any, statuses: tuple[int, ...], field: str | None = None) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    error = error_of(response)
    if field is not None:
        assert field in error.get("fields", {}), error
    return error


# --- ids out of the column's range ------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    f"/api/v1/achievements/{TOO_BIG}", f"/api/v1/achievements/{TOO_BIG}/history",
    f"/api/v1/organizations/{TOO_BIG}", f"/api/v1/voucher-programs/{TOO_BIG}",
    f"/api/v1/voucher-applications/{TOO_BIG}", f"/api/v1/redemptions/{TOO_BIG}",
    f"/api/v1/settlements/{TOO_BIG}", f"/api/v1/voucher-providers/{TOO_BIG}",
])
def test_an_id_above_the_column_in_an_api_path_is_not_found(app: Flask, people: People, url: str) -> None:
    assert error_of(response := call(app, "GET", url, people.admin_token))["code"] == "not_found", response


@pytest.mark.parametrize("url", [f"/achievements/{TOO_BIG}", f"/organizations/{TOO_BIG}",
                                 f"/voucher-programs/{TOO_BIG}", f"/voucher-providers/{TOO_BIG}"])
def test_an_id_above_the_column_in_a_page_path_is_not_found(app: Flask, people: People, url: str) -> None:
    browser = Browser(app.test_client())
    browser.login(people.admin_email, factories.PASSWORD)
    assert browser.get(url).status_code == 404


def test_an_id_above_the_column_in_a_body_is_a_field_error(app: Flask, people: People) -> None:
    registration = {"name": "界外机构", "credit_code": factories.valid_credit_code(), "kind": "sme", "region": "BJ",
                    "district": TOO_BIG, "member_email": factories.unique_email(), "member_name": "张三",
                    "password": factories.PASSWORD}
    assert_refused(call(app, "POST", "/api/v1/organizations", json=registration), (422,), "district")
    assert_refused(call(app, "PATCH", f"/api/v1/organizations/{people.approved_org_id}", people.institute_token,
                        json={"name": "新名", "district": TOO_BIG}), (422,), "district")
    application = {"program_id": TOO_BIG, "service_category": "testing", "planned_service": "检测",
                   "amount_fen": 500_000, "justification": "需要检测。", "provider_id": TOO_BIG}
    error = assert_refused(call(app, "POST", "/api/v1/voucher-applications", people.sme_token, json=application),
                           (422,))
    assert {"program_id", "provider_id"} <= set(error["fields"]), error
    assert_refused(call(app, "POST", "/api/v1/settlements", people.provider_token, json={"program_id": TOO_BIG}),
                   (422,), "program_id")
    assert_refused(call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                        json={"partners": [TOO_BIG]}), (422,), "partners")
    assert_refused(call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                        json={"outcomes": [TOO_BIG]}), (422,), "outcomes")
    assert_refused(call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                        json={"district": TOO_BIG}), (422,), "district")


def test_an_amount_above_bigint_is_a_field_error(app: Flask, people: People) -> None:
    assert_refused(call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                        json={"budget_fen": TOO_BIG_FEN}), (422,), "budget_fen")


@pytest.mark.parametrize("url, field", [
    (f"/api/v1/voucher-applications?program={TOO_BIG}", "program"),
    (f"/api/v1/vouchers?program={TOO_BIG}", "program"),
    (f"/api/v1/redemptions?program={TOO_BIG}", "program"),
    (f"/api/v1/settlements?program={TOO_BIG}", "program"),
    (f"/api/v1/achievements?district={TOO_BIG}", "district"),
    (f"/api/v1/achievements?organization={TOO_BIG}", "organization"),
    (f"/api/v1/search?district={TOO_BIG}", "district"),
])
def test_an_id_above_the_column_in_an_api_filter_is_a_field_error(app: Flask, people: People, url: str,
                                                                  field: str) -> None:
    assert_refused(call(app, "GET", url, people.admin_token), (422,), field)


@pytest.mark.parametrize("url", [f"/achievements?district={TOO_BIG}", f"/achievements?organization={TOO_BIG}",
                                 f"/voucher-redemptions?program={TOO_BIG}", f"/search?district={TOO_BIG}"])
def test_an_id_above_the_column_in_a_page_filter_is_refused(app: Flask, people: People, url: str) -> None:
    browser = Browser(app.test_client())
    browser.login(people.admin_email, factories.PASSWORD)
    assert browser.get(url).status_code in (200, 422)  # the list says what is wrong with the filter


# --- characters no column can hold ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/search?q=%00", "/api/v1/search/suggest?q=%00",
                                 "/api/v1/organizations?q=%00", "/api/v1/achievements?q=%00",
                                 "/api/v1/voucher-providers?q=%00", "/api/v1/achievements?field=%00"])
def test_nul_in_an_api_query_is_refused(app: Flask, people: People, url: str) -> None:
    error = assert_refused(call(app, "GET", url, people.institute_token), (400, 422))
    assert error["fields"], error


@pytest.mark.parametrize("url", ["/search?q=%00", "/organizations?q=%00", "/achievements?q=%00",
                                 "/voucher-providers?q=%00"])
def test_nul_in_a_page_query_is_refused(app: Flask, people: People, url: str) -> None:
    response = Browser(app.test_client()).get(url)
    assert response.status_code == 422
    assert "无法保存的字符" in response.get_data(as_text=True)


def test_nul_in_a_reason_is_a_field_error(app: Flask, people: People) -> None:
    response = call(app, "POST", f"/api/v1/achievements/{people.achievement_id}/reject", people.admin_token,
                    json={"reason": "x\u0000"})
    assert_refused(response, (422,), "reason")


@pytest.mark.parametrize("body", [b'{"title": "\\ud800"}', b'{"title": "a\\udc00b"}',
                                  b'{"keywords": ["\\ud83d"]}'])
def test_an_unpaired_surrogate_is_refused(app: Flask, people: People, body: bytes) -> None:
    response = call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                    data=body, content_type="application/json")
    assert_refused(response, (400, 422))


def test_a_paired_surrogate_escape_is_an_ordinary_character(app: Flask, people: People) -> None:
    response = call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                    data='{"title": "氢能重卡\\ud83d\\ude80"}'.encode(), content_type="application/json")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "氢能重卡🚀"


@pytest.mark.parametrize("number", ["9" * 4400, "-" + "9" * 4400, "1" + "0" * 400, "1e99999", "-1e400"])
def test_a_json_number_of_absurd_length_is_refused(app: Flask, people: People, number: str) -> None:
    response = call(app, "PATCH", f"/api/v1/projects/{people.draft_project_id}", people.institute_token,
                    data=f'{{"budget_fen": {number}}}'.encode(), content_type="application/json")
    assert_refused(response, (400, 422))


def test_refusals_speak_the_users_language(app: Flask, people: People) -> None:
    chinese = app.test_client().get("/api/v1/search?q=%00")
    english = app.test_client().get("/api/v1/search?q=%00", headers={"Accept-Language": "en"})
    assert error_of(chinese)["message"] != error_of(english)["message"]
    assert any("\u4e00" <= char <= "\u9fff" for char in error_of(chinese)["message"])
