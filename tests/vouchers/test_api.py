"""Innovation vouchers through the JSON API: thin tests of every endpoint with bearer tokens.

The money rules themselves are proved through the service layer (test_money_flow.py and the
property and concurrency tests); these prove what the API adds: parsing, statuses, who may call,
the answer's shape, and the Idempotency-Key contract of POST /api/v1/redemptions.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from exchange.vouchers.audit import audit_books
from exchange.vouchers.services import OrderRequest, record_redemption, request_settlement
from tests import factories
from tests.query_counter import count_queries

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: Any) -> str:
    return response.get_json()["error"]["code"]


def program_rules(**changes: Any) -> dict[str, Any]:
    body = {"name": "2026年河北省科技创新券", "year": 2026, "budget_fen": 100_000_000, "unit_fen": 500_000,
            "max_face_fen": 20_000_000, "coverage_percent": 50, "cap_per_org_fen": 20_000_000,
            "eligible_categories": ["testing", "design"], "validity_days": 365,
            "accepting_regions": ["BJ", "TJ", "HE"], "redemption_mode": "direct",
            "description": "面向小微企业的科技创新券。"}
    return {**body, **changes}


@dataclass
class World:
    """A Hebei programme (50 % of a fee), a Hebei SME, an admitted Beijing provider, three admins."""

    client: Any
    program_id: int
    sme: dict[str, str]
    sme_org_id: int
    provider: dict[str, str]
    provider_org_id: int
    product_id: int
    product_fee_fen: int
    he_admin: dict[str, str]
    bj_admin: dict[str, str]
    tj_admin: dict[str, str]

    def call(self, method: str, url: str, who: dict[str, str] | None = None, **kwargs: Any) -> Any:
        headers = {**(who or {}), **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def voucher(self, amount_fen: int = 5_000_000) -> dict[str, Any]:
        applied = self.call("POST", "/api/v1/voucher-applications", self.sme, json=self.application(amount_fen))
        assert applied.status_code == 201, applied.get_json()
        issued = self.call("POST", f"/api/v1/voucher-applications/{applied.get_json()['id']}/approve",
                           self.he_admin)
        assert issued.status_code == 201, issued.get_json()
        return issued.get_json()

    def application(self, amount_fen: int = 5_000_000, **changes: Any) -> dict[str, Any]:
        return {"program_id": self.program_id, "service_category": "testing", "planned_service": "材料成分检测",
                "amount_fen": amount_fen, "justification": "新产品研发需要第三方检测。", **changes}

    def order(self, code: str, fee_fen: int = 1_200_000, reference: str = "HT-2026-001") -> dict[str, Any]:
        return {"voucher_code": code, "service_product_id": self.product_id, "fee_fen": fee_fen,
                "contract_reference": reference}

    def balance(self, code: str) -> int:
        return self.call("GET", f"/api/v1/vouchers/{code}", self.sme).get_json()["balance_fen"]


@pytest.fixture
def world(app, db) -> World:  # type: ignore[no-untyped-def]
    program = factories.program(db, "HE", budget_fen=20_000_000, cap_per_org_fen=10_000_000)
    sme = factories.organization(db, kind="sme", region="HE").owner
    provider = factories.provider(db, "BJ").owner
    product = factories.product_of(db, provider.organization_id)
    token = factories.api_token
    return World(client=app.test_client(), program_id=program.id, sme=bearer(token(db, sme)),
                 sme_org_id=sme.organization_id, provider=bearer(token(db, provider)),
                 provider_org_id=provider.organization_id, product_id=product.id, product_fee_fen=product.fee_fen,
                 he_admin=bearer(token(db, factories.region_admin(db, "HE"))),
                 bj_admin=bearer(token(db, factories.region_admin(db, "BJ"))),
                 tj_admin=bearer(token(db, factories.region_admin(db, "TJ"))))


# Programmes ---------------------------------------------------------------------------------------

def test_a_regional_admin_creates_changes_opens_and_closes_a_programme(world):
    created = world.call("POST", "/api/v1/voucher-programs", world.tj_admin, json=program_rules())
    assert created.status_code == 201, created.get_json()
    program = created.get_json()
    assert program["region"] == "TJ" and program["status"] == "draft" and program["unit_fen"] == 500_000
    assert (program["budget_fen"], program["issued_fen"], program["remaining_fen"]) == (100_000_000, 0, 100_000_000)
    url = f"/api/v1/voucher-programs/{program['id']}"
    assert world.call("GET", url).status_code == 404  # a draft is its region's admins' only
    assert world.call("GET", url, world.tj_admin).status_code == 200

    changed = world.call("PATCH", url, world.tj_admin, json=program_rules(coverage_percent=70))
    assert changed.status_code == 200 and changed.get_json()["coverage_percent"] == 70
    assert world.call("POST", f"{url}/open", world.bj_admin).status_code == 403  # another region's admin
    opened = world.call("POST", f"{url}/open", world.tj_admin)
    assert opened.status_code == 200 and opened.get_json()["status"] == "open"
    assert error_code(world.call("POST", f"{url}/open", world.tj_admin)) == "program_open"
    refused = world.call("PATCH", url, world.tj_admin, json=program_rules(coverage_percent=80))
    assert refused.status_code == 409 and error_code(refused) == "program_not_draft"

    public = world.call("GET", url).get_json()
    assert public["status"] == "open" and public["remaining_fen"] == 100_000_000
    assert datetime.fromisoformat(public["opened_at"]).utcoffset() is not None  # ISO 8601 with offset
    closed = world.call("POST", f"{url}/close", world.tj_admin)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert world.call("POST", f"{url}/close", world.tj_admin).status_code == 409


def test_only_a_regional_admin_creates_a_programme(world):
    assert world.call("POST", "/api/v1/voucher-programs", json=program_rules()).status_code == 401
    refused = world.call("POST", "/api/v1/voucher-programs", world.sme, json=program_rules())
    assert refused.status_code == 403 and error_code(refused) == "forbidden"


@pytest.mark.parametrize("field, value", [
    ("budget_fen", "abc"), ("budget_fen", -1), ("budget_fen", 0), ("budget_fen", 1.5), ("budget_fen", 10**30),
    ("budget_fen", True), ("budget_fen", None), ("unit_fen", "500000"), ("coverage_percent", 101),
    ("year", 1999), ("eligible_categories", ["bogus"]), ("eligible_categories", "testing"),
    ("accepting_regions", ["XX"]), ("redemption_mode", "cash"), ("name", "a\x00b"), ("name", " "),
    ("max_face_fen", 750_000),  # not a whole number of units
])
def test_bad_programme_rules_are_422_naming_the_field(world, field, value):
    response = world.call("POST", "/api/v1/voucher-programs", world.he_admin, json=program_rules(**{field: value}))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_fields_that_are_not_rules_are_refused(world):
    for extra in ({"status": "open"}, {"region": "BJ"}, {"region_code": "BJ"}, {"remaining_fen": 1}):
        response = world.call("POST", "/api/v1/voucher-programs", world.he_admin, json=program_rules(**extra))
        assert response.status_code == 422 and set(extra) <= set(response.get_json()["error"]["fields"])


def test_programmes_are_listed_with_their_books_in_a_bounded_number_of_queries(app, db, world):
    world.voucher(5_000_000)
    listed = world.call("GET", "/api/v1/voucher-programs?region=HE&status=open").get_json()
    assert listed["total"] == 1 and listed["page"] == 1
    item = listed["items"][0]
    assert (item["budget_fen"], item["issued_fen"], item["remaining_fen"], item["vouchers"]) == (
        20_000_000, 5_000_000, 15_000_000, 1)
    assert world.call("GET", "/api/v1/voucher-programs?status=bogus").status_code == 422
    for _ in range(4):
        factories.program(db, "BJ")
    with count_queries(app) as small:
        assert len(world.call("GET", "/api/v1/voucher-programs?per_page=1").get_json()["items"]) == 1
    with count_queries(app) as large:
        assert len(world.call("GET", "/api/v1/voucher-programs?per_page=100").get_json()["items"]) == 5
    assert small.count == large.count


def test_the_dashboard_is_for_the_programmes_region(world):
    voucher = world.voucher(5_000_000)
    world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]))
    url = f"/api/v1/voucher-programs/{world.program_id}/dashboard"
    dashboard = world.call("GET", url, world.he_admin)
    assert dashboard.status_code == 200
    body = dashboard.get_json()
    assert body["program"]["redeemed_fen"] == 600_000 and body["remaining_by_day"][-1]["remaining_fen"] == 15_000_000
    assert body["redeemed_by_provider_region"] == [{"region": "BJ", "orders": 1, "covered_fen": 600_000}]
    assert world.call("GET", url, world.bj_admin).status_code == 403
    assert world.call("GET", url, world.sme).status_code == 403
    assert world.call("GET", url).status_code == 401


# Applications and issuance ------------------------------------------------------------------------

def test_an_sme_applies_and_the_programmes_admin_issues_a_voucher(world):
    applied = world.call("POST", "/api/v1/voucher-applications", world.sme, json=world.application(5_000_000))
    assert applied.status_code == 201, applied.get_json()
    application = applied.get_json()
    assert application["status"] == "submitted" and application["program"]["id"] == world.program_id
    url = f"/api/v1/voucher-applications/{application['id']}"

    assert [a["id"] for a in world.call("GET", "/api/v1/voucher-applications", world.sme).get_json()["items"]] == [
        application["id"]]
    queue = world.call("GET", "/api/v1/voucher-applications?status=submitted", world.he_admin).get_json()
    assert [a["id"] for a in queue["items"]] == [application["id"]]
    assert world.call("GET", "/api/v1/voucher-applications", world.bj_admin).get_json()["total"] == 0
    assert world.call("GET", url, world.provider).status_code == 404

    assert world.call("POST", f"{url}/approve", world.bj_admin).status_code == 403
    assert world.call("POST", f"{url}/approve", world.sme).status_code == 403
    issued = world.call("POST", f"{url}/approve", world.he_admin)
    assert issued.status_code == 201
    voucher = issued.get_json()
    assert voucher["face_fen"] == voucher["balance_fen"] == 5_000_000 and voucher["code"].startswith("HE2026-")
    assert datetime.fromisoformat(voucher["expires_at"]).utcoffset() is not None
    again = world.call("POST", f"{url}/approve", world.he_admin)
    assert again.status_code == 409 and error_code(again) == "application_decided"
    assert world.call("GET", url, world.sme).get_json()["status"] == "approved"


def test_an_application_is_rejected_with_a_reason(world):
    applied = world.call("POST", "/api/v1/voucher-applications", world.sme, json=world.application()).get_json()
    url = f"/api/v1/voucher-applications/{applied['id']}/reject"
    assert world.call("POST", url, world.he_admin, json={}).status_code == 422
    assert world.call("POST", url, world.bj_admin, json={"reason": "不符合条件"}).status_code == 403
    rejected = world.call("POST", url, world.he_admin, json={"reason": "计划服务不属于支持范围"})
    assert rejected.status_code == 200 and rejected.get_json()["rejection_reason"] == "计划服务不属于支持范围"


def test_who_may_apply(world, db):
    assert world.call("POST", "/api/v1/voucher-applications", json=world.application()).status_code == 401
    assert world.call("POST", "/api/v1/voucher-applications", world.provider,
                      json=world.application()).status_code == 403
    beijing_sme = bearer(factories.api_token(db, factories.organization(db, kind="sme", region="BJ").owner))
    assert world.call("POST", "/api/v1/voucher-applications", beijing_sme,
                      json=world.application()).status_code == 403  # another region's programme
    draft = factories.program(db, "HE", status="draft")
    assert world.call("POST", "/api/v1/voucher-applications", world.sme,
                      json=world.application(program_id=draft.id)).status_code == 404


@pytest.mark.parametrize("field, value", [
    ("amount_fen", "abc"), ("amount_fen", -1), ("amount_fen", 1.5), ("amount_fen", 10**30), ("amount_fen", True),
    ("amount_fen", 700_000), ("program_id", 10**30), ("program_id", "1"), ("provider_id", 0),
    ("service_category", "catering"), ("planned_service", ""), ("justification", 12),
])
def test_bad_applications_are_422(world, field, value):
    response = world.call("POST", "/api/v1/voucher-applications", world.sme, json=world.application(**{field: value}))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_issuing_stops_at_the_organisations_cap(world):
    world.voucher(10_000_000)
    applied = world.call("POST", "/api/v1/voucher-applications", world.sme, json=world.application(500_000))
    refused = world.call("POST", f"/api/v1/voucher-applications/{applied.get_json()['id']}/approve", world.he_admin)
    assert refused.status_code == 409 and error_code(refused) == "cap_reached"


# Vouchers ----------------------------------------------------------------------------------------

def test_the_wallet_shows_balances_and_every_movement(world):
    voucher = world.voucher(5_000_000)
    redeemed = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]))
    wallet = world.call("GET", "/api/v1/vouchers", world.sme).get_json()
    assert wallet["total"] == 1 and wallet["items"][0]["balance_fen"] == 4_400_000
    assert wallet["items"][0]["expires_soon"] is False

    statement = world.call("GET", f"/api/v1/vouchers/{voucher['code']}", world.sme).get_json()
    assert statement["balance_fen"] == 4_400_000 and statement["redemption_ids"] == [redeemed.get_json()["id"]]
    assert [(m["kind"], m["amount_fen"], m["balance_fen"], m["redemption_id"]) for m in statement["movements"]] == [
        ("issue", 5_000_000, 5_000_000, None), ("redeem", -600_000, 4_400_000, redeemed.get_json()["id"])]
    assert all(datetime.fromisoformat(m["occurred_at"]).utcoffset() is not None for m in statement["movements"])

    assert world.call("GET", "/api/v1/vouchers", world.he_admin).get_json()["total"] == 1
    assert world.call("GET", "/api/v1/vouchers", world.bj_admin).get_json()["total"] == 0
    assert world.call("GET", "/api/v1/vouchers", world.provider).get_json()["total"] == 0
    assert world.call("GET", f"/api/v1/vouchers/{voucher['code']}", world.provider).status_code == 404
    assert world.call("GET", f"/api/v1/vouchers/{voucher['code']}").status_code == 401
    assert world.call("GET", "/api/v1/vouchers").status_code == 401


@pytest.mark.parametrize("code", ["NOPE", "%00", "a%20b", "x" * 41, "%E5%88%B8"])
def test_an_unknown_or_malformed_code_is_404(world, code):
    response = world.call("GET", f"/api/v1/vouchers/{code}", world.he_admin)
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_the_issuing_regions_admin_revokes_a_voucher(world):
    voucher = world.voucher(5_000_000)
    url = f"/api/v1/vouchers/{voucher['code']}/revoke"
    assert world.call("POST", url, world.bj_admin, json={"reason": "虚假材料"}).status_code == 403
    assert world.call("POST", url, world.sme, json={"reason": "虚假材料"}).status_code == 403
    assert world.call("POST", url, world.he_admin, json={}).status_code == 422
    revoked = world.call("POST", url, world.he_admin, json={"reason": "虚假材料"})
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert world.call("POST", url, world.he_admin, json={"reason": "再次"}).status_code == 409
    refused = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]))
    assert refused.status_code == 409 and error_code(refused) == "voucher_revoked"
    program = world.call("GET", f"/api/v1/voucher-programs/{world.program_id}").get_json()
    assert program["remaining_fen"] == 20_000_000 and program["returned_fen"] == 5_000_000


# Redemptions ------------------------------------------------------------------------------------

def test_a_hebei_voucher_is_redeemed_at_a_beijing_provider_and_both_admins_see_it(world, db):
    voucher = world.voucher(5_000_000)
    recorded = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]))
    assert recorded.status_code == 201, recorded.get_json()
    redemption = recorded.get_json()
    assert (redemption["fee_fen"], redemption["covered_fen"], redemption["copay_fen"],
            redemption["balance_after_fen"]) == (1_200_000, 600_000, 600_000, 4_400_000)
    assert (redemption["program_id"], redemption["provider_id"], redemption["payee_id"]) == (
        world.program_id, world.provider_org_id, world.provider_org_id)

    for admin in (world.he_admin, world.bj_admin):
        seen = world.call("GET", "/api/v1/redemptions", admin).get_json()
        assert [r["id"] for r in seen["items"]] == [redemption["id"]]
        assert world.call("GET", f"/api/v1/redemptions/{redemption['id']}", admin).status_code == 200
    assert world.call("GET", "/api/v1/redemptions", world.tj_admin).get_json()["total"] == 0
    assert world.call("GET", f"/api/v1/redemptions/{redemption['id']}", world.tj_admin).status_code == 404
    detail = world.call("GET", f"/api/v1/redemptions/{redemption['id']}", world.sme).get_json()
    assert detail["provider"]["region"] == "BJ" and detail["status"] == "recorded" and detail["attachments"] == []
    assert audit_books(db).ok


def test_the_idempotency_key_answers_a_retry_with_the_first_answer_and_charges_once(world):
    voucher = world.voucher(5_000_000)
    key = {"Idempotency-Key": "order-7f3a"}
    first = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]), headers=key)
    again = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert world.balance(voucher["code"]) == 4_400_000

    other = world.call("POST", "/api/v1/redemptions", world.provider,
                       json=world.order(voucher["code"], fee_fen=1_000_000), headers=key)
    assert other.status_code == 409 and error_code(other) == "idempotency_key_reused"
    assert world.balance(voucher["code"]) == 4_400_000
    assert world.call("GET", "/api/v1/redemptions", world.provider).get_json()["total"] == 1


def test_without_a_key_the_same_order_twice_is_two_orders(world):
    voucher = world.voucher(5_000_000)
    for _ in range(2):
        assert world.call("POST", "/api/v1/redemptions", world.provider,
                          json=world.order(voucher["code"])).status_code == 201
    assert world.balance(voucher["code"]) == 3_800_000


@pytest.mark.parametrize("key", ["", " ", "k" * 201, "a\tb"])
def test_a_bad_idempotency_key_is_422_and_charges_nothing(world, key):
    voucher = world.voucher(5_000_000)
    response = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]),
                          headers={"Idempotency-Key": key})
    assert response.status_code == 422 and error_code(response) == "bad_idempotency_key"
    assert world.balance(voucher["code"]) == 5_000_000


@pytest.mark.parametrize("field, value", [
    ("fee_fen", "abc"), ("fee_fen", -1), ("fee_fen", 0), ("fee_fen", 1.5), ("fee_fen", 10**30), ("fee_fen", True),
    ("fee_fen", None), ("service_product_id", 10**30), ("service_product_id", "1"), ("contract_reference", ""),
    ("contract_reference", "a\x00b"), ("voucher_code", "NOPE"), ("voucher_code", ["x"]),
])
def test_bad_orders_are_refused_and_charge_nothing(world, field, value):
    voucher = world.voucher(5_000_000)
    body = {**world.order(voucher["code"]), field: value}
    response = world.call("POST", "/api/v1/redemptions", world.provider, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert world.balance(voucher["code"]) == 5_000_000


def test_only_the_provider_records_orders_and_never_above_the_published_fee(world):
    voucher = world.voucher(5_000_000)
    assert world.call("POST", "/api/v1/redemptions", json=world.order(voucher["code"])).status_code == 401
    assert world.call("POST", "/api/v1/redemptions", world.sme, json=world.order(voucher["code"])).status_code == 403
    above = world.call("POST", "/api/v1/redemptions", world.provider,
                       json=world.order(voucher["code"], fee_fen=world.product_fee_fen + 1))
    assert above.status_code == 422 and "fee_fen" in above.get_json()["error"]["fields"]
    extra = world.call("POST", "/api/v1/redemptions", world.provider,
                       json={**world.order(voucher["code"]), "covered_fen": 1})
    assert extra.status_code == 422 and "covered_fen" in extra.get_json()["error"]["fields"]
    assert world.balance(voucher["code"]) == 5_000_000


def test_redemption_lists_filter_and_stay_bounded(app, world):
    voucher = world.voucher(10_000_000)
    for number in range(3):
        world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"], 200_000,
                                                                                  f"HT-{number}"))
    assert world.call("GET", "/api/v1/redemptions?status=claimed", world.he_admin).get_json()["total"] == 0
    assert world.call("GET", f"/api/v1/redemptions?program={world.program_id}&unsettled=true",
                      world.provider).get_json()["total"] == 3
    for query in ("status=bogus", "program=abc", f"program={10**30}", "unsettled=maybe", "per_page=101"):
        assert world.call("GET", f"/api/v1/redemptions?{query}", world.he_admin).status_code == 422, query
    with count_queries(app) as small:
        world.call("GET", "/api/v1/redemptions?per_page=1", world.he_admin)
    with count_queries(app) as large:
        world.call("GET", "/api/v1/redemptions?per_page=100", world.he_admin)
    assert small.count == large.count


@pytest.mark.parametrize("url", ["/api/v1/vouchers", "/api/v1/voucher-applications", "/api/v1/settlements",
                                 "/api/v1/voucher-providers"])
def test_every_voucher_list_costs_the_same_number_of_queries_for_one_item_and_for_many(app, db, world, url):
    for _ in range(3):
        sme = factories.organization(db, kind="sme", region="HE").owner
        factories.voucher(db, sme, world.program_id, 500_000)
        provider = factories.provider(db, "TJ").owner
        voucher = factories.voucher(db, sme, world.program_id, 500_000)
        record_redemption(db, provider, OrderRequest(voucher.code, factories.product_of(db, provider.organization_id).id,
                                                     200_000, "HT-1"))
        request_settlement(db, provider, world.program_id)
    with count_queries(app) as small:
        assert len(world.call("GET", f"{url}?per_page=1", world.he_admin).get_json()["items"]) == 1
    with count_queries(app) as large:
        assert len(world.call("GET", f"{url}?per_page=100", world.he_admin).get_json()["items"]) >= 3
    assert small.count == large.count


# Settlements -------------------------------------------------------------------------------------

def test_the_provider_asks_to_be_paid_and_the_issuing_regions_admin_approves(world, db):
    voucher = world.voucher(5_000_000)
    redemption = world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]))
    owed = world.call("GET", "/api/v1/settlements/unsettled", world.provider).get_json()
    assert owed == [{"program": owed[0]["program"], "orders": 1, "amount_fen": 600_000}]

    requested = world.call("POST", "/api/v1/settlements", world.provider, json={"program_id": world.program_id})
    assert requested.status_code == 201, requested.get_json()
    settlement = requested.get_json()
    assert settlement["amount_fen"] == 600_000 and settlement["redemption_ids"] == [redemption.get_json()["id"]]
    assert settlement["payee"]["id"] == world.provider_org_id and settlement["status"] == "requested"
    again = world.call("POST", "/api/v1/settlements", world.provider, json={"program_id": world.program_id})
    assert again.status_code == 409 and error_code(again) == "nothing_to_settle"

    url = f"/api/v1/settlements/{settlement['id']}"
    assert [s["id"] for s in world.call("GET", "/api/v1/settlements?status=requested",
                                        world.he_admin).get_json()["items"]] == [settlement["id"]]
    assert world.call("GET", url, world.provider).status_code == 200
    assert world.call("GET", url, world.sme).status_code == 404
    assert world.call("POST", f"{url}/approve", world.bj_admin).status_code == 403  # the provider's region
    assert world.call("POST", f"{url}/approve", world.provider).status_code == 403
    paid = world.call("POST", f"{url}/approve", world.he_admin, json={"payment_reference": "冀财拨〔2026〕12号"})
    assert paid.status_code == 200
    assert paid.get_json()["status"] == "paid" and paid.get_json()["payment_reference"] == "冀财拨〔2026〕12号"
    assert world.call("POST", f"{url}/approve", world.he_admin).status_code == 409
    program = world.call("GET", f"/api/v1/voucher-programs/{world.program_id}").get_json()
    assert (program["redeemed_fen"], program["settled_fen"]) == (600_000, 600_000)
    assert audit_books(db).ok


def test_a_settlement_is_rejected_with_a_reason_and_can_be_asked_for_again(world):
    voucher = world.voucher(5_000_000)
    world.call("POST", "/api/v1/redemptions", world.provider, json=world.order(voucher["code"]))
    settlement = world.call("POST", "/api/v1/settlements", world.provider,
                            json={"program_id": world.program_id}).get_json()
    url = f"/api/v1/settlements/{settlement['id']}/reject"
    assert world.call("POST", url, world.he_admin, json={"reason": ""}).status_code == 422
    rejected = world.call("POST", url, world.he_admin, json={"reason": "缺少发票"})
    assert rejected.status_code == 200 and rejected.get_json()["redemption_ids"] == []
    assert world.call("POST", "/api/v1/settlements", world.provider,
                      json={"program_id": world.program_id}).status_code == 201


@pytest.mark.parametrize("body", [{}, {"program_id": "1"}, {"program_id": 10**30}, {"program_id": True},
                                  {"program_id": 1, "amount_fen": 1}])
def test_bad_settlement_requests_are_422(world, body):
    assert world.call("POST", "/api/v1/settlements", world.provider, json=body).status_code == 422


# Reimbursement claims (通用) ----------------------------------------------------------------------

def test_an_sme_claims_reimbursement_with_files_and_the_admin_approves(app, db):
    program = factories.program(db, "HE", redemption_mode="reimbursement")
    sme = factories.organization(db, kind="sme", region="HE").owner
    provider = factories.provider(db, "TJ").owner
    voucher = factories.voucher(db, sme, program.id, 5_000_000)
    client, sme_headers = app.test_client(), bearer(factories.api_token(db, sme))
    admin = bearer(factories.api_token(db, factories.region_admin(db, "HE")))

    def claim(**changes: Any) -> Any:
        data = {"voucher_code": voucher.code, "provider_id": str(provider.organization_id),
                "service_description": "失效分析", "fee_fen": "1000000", "contract_reference": "HT-9",
                "files": [(io.BytesIO(PDF), "合同.pdf"), (io.BytesIO(PDF), "发票.pdf")], **changes}
        return client.post("/api/v1/redemptions/claims", headers=sme_headers, data=data,
                           content_type="multipart/form-data")

    assert claim(files=[]).status_code == 422
    assert claim(fee_fen="1.5").status_code == 422
    assert claim(files="合同.pdf").status_code == 422  # a text field, not a file
    assert claim(status="recorded").status_code == 422
    assert claim(files=[(io.BytesIO(b"MZ\x90\x00"), "a.pdf")]).status_code == 422
    json_body = client.post("/api/v1/redemptions/claims", headers=sme_headers, json={"voucher_code": voucher.code})
    assert json_body.status_code == 422
    submitted = claim()
    assert submitted.status_code == 201, submitted.get_json()
    body = submitted.get_json()
    assert body["status"] == "claimed" and body["covered_fen"] == 0 and body["payee_id"] == sme.organization_id
    assert [a["name"] for a in body["attachments"]] == ["合同.pdf", "发票.pdf"]

    tianjin_admin = bearer(factories.api_token(db, factories.region_admin(db, "TJ")))
    assert client.post(f"/api/v1/redemptions/{body['id']}/approve", headers=tianjin_admin).status_code == 403
    approved = client.post(f"/api/v1/redemptions/{body['id']}/approve", headers=admin)
    assert approved.status_code == 200
    assert (approved.get_json()["status"], approved.get_json()["covered_fen"]) == ("recorded", 500_000)
    assert client.post(f"/api/v1/redemptions/{body['id']}/reject", headers=admin,
                       json={"reason": "晚了"}).status_code == 409
    assert audit_books(db).ok


# Providers --------------------------------------------------------------------------------------

def test_admitted_providers_of_every_region_are_listed_with_their_services(world, db):
    factories.provider(db, "TJ", products=(("工业设计", "design", "30000"),))
    factories.provider(db, "HE", status="in_notice")
    listed = world.call("GET", "/api/v1/voucher-providers").get_json()
    assert sorted(p["region"] for p in listed["items"]) == ["BJ", "TJ"] and listed["total"] == 2
    design = world.call("GET", "/api/v1/voucher-providers?service_category=design").get_json()
    assert [p["region"] for p in design["items"]] == ["TJ"]
    assert design["items"][0]["products"][0]["fee_fen"] == 3_000_000
    assert world.call("GET", "/api/v1/voucher-providers?q=工业设计").get_json()["total"] == 1
    assert world.call("GET", "/api/v1/voucher-providers?status=in_notice").get_json()["total"] == 1
    for query in ("category=bogus", "service_category=x", "status=bogus", "q=a%00b", "region=%00"):
        assert world.call("GET", f"/api/v1/voucher-providers?{query}").status_code == 422, query
    detail = world.call("GET", f"/api/v1/voucher-providers/{world.provider_org_id}").get_json()
    assert detail["status"] == "admitted" and detail["products"][0]["id"] == world.product_id


def test_a_provider_applies_goes_through_the_notice_and_is_admitted(app, db, world):
    app.config["PROVIDER_NOTICE_DAYS"] = 0  # the notice ends at once; its term is tested in the services
    owner = factories.organization(db, kind="provider", region="TJ").owner
    member, org_id = bearer(factories.api_token(db, owner)), owner.organization_id
    url = f"/api/v1/voucher-providers/{org_id}"
    applied = world.call("POST", "/api/v1/voucher-providers", member,
                         json={"category": "key_lab", "qualifications": "国家重点实验室"})
    assert applied.status_code == 201 and applied.get_json()["status"] == "applied"
    assert world.call("POST", "/api/v1/voucher-providers", member,
                      json={"category": "key_lab", "qualifications": "再次"}).status_code == 409
    assert world.call("POST", "/api/v1/voucher-providers", world.sme,
                      json={"category": "key_lab", "qualifications": "x"}).status_code == 403
    assert world.call("GET", url).status_code == 404  # not public before the notice

    assert world.call("POST", f"{url}/notice", world.he_admin).status_code == 403
    noticed = world.call("POST", f"{url}/notice", world.tj_admin)
    assert noticed.status_code == 200 and noticed.get_json()["status"] == "in_notice"
    objected = world.call("POST", f"{url}/objections", world.sme, json={"text": "资质证书已过期"})
    assert objected.status_code == 201
    assert world.call("POST", f"{url}/objections", member, json={"text": "自己"}).status_code == 403
    blocked = world.call("POST", f"{url}/admit", world.tj_admin)
    assert blocked.status_code == 409 and error_code(blocked) == "objection_open"
    assert world.call("GET", url, world.tj_admin).get_json()["objections"][0]["text"] == "资质证书已过期"
    assert world.call("GET", url).get_json()["objections"] == []  # the public sees the notice, not the objections
    dismiss = f"/api/v1/voucher-providers/objections/{objected.get_json()['id']}/dismiss"
    assert world.call("POST", dismiss, world.bj_admin, json={"reason": "已核实"}).status_code == 403
    assert world.call("POST", dismiss, world.tj_admin, json={"reason": "已核实证书有效"}).status_code == 200

    admitted = world.call("POST", f"{url}/admit", world.tj_admin)
    assert admitted.status_code == 200 and admitted.get_json()["status"] == "admitted"
    suspended = world.call("POST", f"{url}/suspend", world.tj_admin, json={"reason": "收费高于公示价格"})
    assert suspended.status_code == 200 and suspended.get_json()["reason"] == "收费高于公示价格"
    assert world.call("POST", f"{url}/reject", world.tj_admin, json={"reason": "x"}).status_code == 409


def test_a_provider_publishes_and_changes_its_services(world):
    url = f"/api/v1/voucher-providers/{world.provider_org_id}/products"
    body = {"name": "扫描电镜分析", "category": "testing", "fee_fen": 180_050, "description": "SEM"}
    created = world.call("POST", url, world.provider, json=body)
    assert created.status_code == 201, created.get_json()
    product = created.get_json()
    assert (product["fee_fen"], product["is_active"]) == (180_050, True)
    assert world.call("POST", url, world.sme, json=body).status_code == 403
    for bad in ({"fee_fen": 1.5}, {"fee_fen": "100"}, {"fee_fen": 0}, {"fee_fen": 10**30}, {"is_active": 1},
                {"category": "catering"}, {"provider_id": 1}):
        assert world.call("POST", url, world.provider, json={**body, **bad}).status_code == 422, bad
    product_url = f"/api/v1/voucher-products/{product['id']}"
    changed = world.call("PATCH", product_url, world.provider, json={**body, "fee_fen": 200_000, "is_active": False})
    assert changed.status_code == 200 and (changed.get_json()["fee_fen"], changed.get_json()["is_active"]) == (
        200_000, False)
    assert world.call("PATCH", product_url, world.bj_admin, json=body).status_code == 403
    assert world.call("PATCH", "/api/v1/voucher-products/999999", world.provider, json=body).status_code == 404
