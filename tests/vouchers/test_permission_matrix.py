"""The permission matrix of innovation vouchers (BJ): every route × every role, through real HTTP. See
tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest

from tests import factories
from tests.permission_matrix import (
    LOGIN,
    Case,
    Outcome,
    World,
    application_json,
    check_route,
    row,
    to,
)

# --- innovation vouchers (BJ): "sme" holds the vouchers, "provider" is the admitted provider --------------


def reason_body(w: World) -> dict[str, Any]:
    return {"reason": "材料不全，请补充合同与发票。"}


def objection_body(w: World) -> dict[str, Any]:
    return {"text": "资质证书已过期。"}


def provider_application_body(w: World) -> dict[str, Any]:
    return {"category": "testing_centre", "qualifications": "CMA 资质认定证书，CNAS 实验室认可。"}


def program_form(w: World) -> dict[str, Any]:
    return {"name": "矩阵测试创新券", "year": "2026", "budget": "1,000,000", "unit": "5000", "max_face": "200000",
            "coverage_percent": "50", "cap_per_org": "200000", "eligible_categories": ["testing", "design"],
            "validity_days": "365", "accepting_regions": ["BJ", "TJ", "HE"], "redemption_mode": "direct",
            "description": ""}


def program_json(w: World) -> dict[str, Any]:
    return asdict(factories.program_rules())


def application_form(w: World) -> dict[str, Any]:
    return {"service_category": "testing", "planned_service": "材料成分检测与失效分析", "provider": "",
            "amount": "50,000", "justification": "新产品研发需要第三方检测。"}


def claim_form(w: World) -> dict[str, Any]:
    return {"provider": str(w.provider()[0]), "service_description": "失效分析", "fee": "10000",
            "contract_reference": "HT-矩阵-003"}


def claim_json(program: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"voucher_code": w.voucher_code(program), "provider_id": str(w.provider()[0]),
                      "service_description": "失效分析", "fee_fen": "1000000", "contract_reference": "HT-矩阵-003"}


def order_form(w: World) -> dict[str, Any]:
    return {"voucher_code": w.voucher_code(), "service_product": str(w.product()), "fee": "20000",
            "contract_reference": "HT-矩阵-004"}


def order_json(w: World) -> dict[str, Any]:
    return {"voucher_code": w.voucher_code(), "service_product_id": w.product(), "fee_fen": 2_000_000,
            "contract_reference": "HT-矩阵-004"}


def product_form(w: World) -> dict[str, Any]:
    return {"name": "扫描电镜分析", "category": "testing", "published_fee": "1800.50", "description": "", "is_active": "y"}


def product_json(w: World) -> dict[str, Any]:
    return {"name": "扫描电镜分析", "category": "testing", "fee_fen": 180_050}


def settlement_form(w: World) -> dict[str, Any]:
    return {"program_id": str(w.program())}


def settlement_json(w: World) -> dict[str, Any]:
    return {"program_id": w.program()}


def seen_row(anonymous: Outcome, *, holder: Outcome = 404, provider: Outcome = 404,
             admin_tj: Outcome = 404) -> dict[str, Outcome]:
    """Who sees an object of BJ's vouchers: its parties (the holder "sme", the provider "provider"), the
    region's admin and the platform; it is hidden (404) from other members and another region's admin."""
    return row(anonymous=anonymous, members=404, pending_owner=404, sme=holder, provider=provider, admin_bj=200,
               admin_tj=admin_tj, platform=200)


def acted_row(anonymous: Outcome, *, admin_bj: Outcome, holder: Outcome = 404,
              provider: Outcome = 404) -> dict[str, Outcome]:
    """An action on an object of BJ's vouchers: hidden (404) from members who are not its parties; another
    region's admin and the platform are told 403."""
    return row(anonymous=anonymous, members=404, pending_owner=404, sme=holder, provider=provider,
               admin_bj=admin_bj, admin_tj=403, platform=403)


def admin_row(anonymous: Outcome, admin_bj: Outcome, *, hidden: bool, platform: Outcome = 403) -> dict[str, Outcome]:
    """An administrator's page or action on a BJ programme or provider: BJ's admin (`admin_bj`) and, for the
    pages that monitor, the platform; another region's admin 403; members 404 if the object is `hidden`
    from them (a draft programme, a provider not in notice nor admitted), else 403."""
    members = 404 if hidden else 403
    return row(anonymous=anonymous, members=members, pending_owner=members, admin_bj=admin_bj, admin_tj=403,
               platform=platform)


def status_check(target: str, before: str, after: str, *movers: str) -> Callable[[World, str], str | None]:
    """A look in the database: the `movers` moved the target from `before` to `after`, nobody else did
    (a page button redirects to the same page when it is refused with a message)."""
    def check(world: World, role: str) -> str | None:
        status, expected = world.status_of(target), after if role in movers else before
        return None if status == expected else f"{target} is {status}, expected {expected}"
    return check


def _objection_check(world: World, role: str) -> str | None:
    count, expected = world.objections_to("provider:in_notice"), 0 if role == "anonymous" else 1
    return None if count == expected else f"{count} objection(s) recorded, expected {expected}"


def voucher_matrix() -> dict[tuple[str, str], list[Case]]:
    queue = row(anonymous=LOGIN, signed_in=403, admin_bj=200, admin_tj=200)
    program_page, provider_page = to("vouchers.program_detail"), to("vouchers.provider_detail")
    draft_to_apply = row(members=404, pending_owner=404, admin_bj=403, admin_tj=404, platform=403, anonymous=LOGIN)
    provider_views = [Case(row(everyone=200), target="provider:admitted"),
                      Case(row(everyone=200), target="provider:in_notice"),
                      Case(row(everyone=404, admins=200), target="provider:applied",
                           note="hidden before the notice, but from the administrators"),
                      Case(row(everyone=404), target="missing")]
    matrix: dict[tuple[str, str], list[Case]] = {
        # Programmes
        ("vouchers.programs", "GET"): [Case(row(everyone=200))],
        ("vouchers.program_detail", "GET"): [
            Case(row(everyone=200), target="program:open"),
            Case(row(everyone=200), target="program:closed"),
            Case(row(everyone=404, admin_bj=200, platform=200), target="program:draft",
                 note="a draft is its region's admins' and the platform's"),
            Case(row(everyone=404), target="missing")],
        ("vouchers.create_program", "GET"): [Case(queue, note="any regional admin, for their own region")],
        ("vouchers.create_program", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, admin_bj=program_page, admin_tj=program_page), body=program_form)],
        ("vouchers.edit_program", "GET"): [
            Case(admin_row(LOGIN, 200, hidden=True), target="program:draft"),
            Case(admin_row(LOGIN, 409, hidden=False), target="program:open",
                 note="an open programme keeps the rules it promised")],
        ("vouchers.edit_program", "POST"): [
            Case(admin_row(LOGIN, program_page, hidden=True), target="program:draft", body=program_form),
            Case(admin_row(LOGIN, 409, hidden=False), target="program:open", body=program_form)],
        ("vouchers.change_program", "POST"): [
            Case(admin_row(LOGIN, program_page, hidden=True), target="program:draft", values={"action": "open"},
                 check=status_check("program:draft", "draft", "open", "admin_bj")),
            Case(admin_row(LOGIN, program_page, hidden=False), target="program:open", values={"action": "close"},
                 check=status_check("program:open", "open", "closed", "admin_bj"))],
        ("vouchers.dashboard", "GET"): [
            Case(admin_row(LOGIN, 200, hidden=False, platform=200), target="program:open"),
            Case(admin_row(LOGIN, 200, hidden=True, platform=200), target="program:draft")],
        ("vouchers.ledger_export", "GET"): [
            Case(admin_row(LOGIN, 200, hidden=False, platform=200), target="program:open")],

        # Applications and vouchers
        ("vouchers.apply", "GET"): [
            Case(row(anonymous=LOGIN, signed_in=403, sme=200), target="program:open",
                 note="members of an approved SME of the programme's region"),
            Case(row(anonymous=LOGIN, signed_in=403, sme=409), target="program:closed"),
            Case(row(anonymous=LOGIN, signed_in=403), target="program:tj", note="not of the programme's region"),
            Case(draft_to_apply, target="program:draft")],
        ("vouchers.apply", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, sme=to("vouchers.application_detail")), target="program:open",
                 body=application_form)],
        ("vouchers.application_detail", "GET"): [Case(seen_row(LOGIN, holder=200), target="application")],
        ("vouchers.approve_application", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.application_queue"), holder=403), target="application")],
        ("vouchers.reject_application", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.application_queue"), holder=403), target="application",
                 body=reason_body)],
        ("vouchers.wallet", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
        ("vouchers.voucher_detail", "GET"): [
            Case(seen_row(LOGIN, holder=200), target="voucher"),
            Case(row(anonymous=LOGIN, signed_in=404), target="missing")],
        ("vouchers.revoke_voucher", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.voucher_detail"), holder=403), target="voucher",
                 body=reason_body, check=status_check("voucher", "active", "revoked", "admin_bj"))],
        ("vouchers.claim", "GET"): [
            Case(acted_row(LOGIN, admin_bj=403, holder=200), target="voucher:reimbursement",
                 note="the holder's members, on a 通用 programme"),
            Case(acted_row(LOGIN, admin_bj=403, holder=409), target="voucher",
                 note="a 通兑 voucher is redeemed at the provider, not claimed")],
        ("vouchers.claim", "POST"): [
            Case(acted_row(LOGIN, admin_bj=403, holder=to("vouchers.redemption_detail")),
                 target="voucher:reimbursement", body=claim_form, files="files")],

        # Orders, claims and settlements
        ("vouchers.redemptions", "GET"): [Case(row(anonymous=LOGIN, signed_in=200), note="scoped by the service")],
        ("vouchers.redemption_detail", "GET"): [
            Case(seen_row(LOGIN, holder=200, provider=200), target="redemption"),
            Case(seen_row(LOGIN, holder=200, provider=200), target="claim"),
            Case(seen_row(LOGIN, holder=200, admin_tj=200), target="redemption:cross",
                 note="served by a TJ provider: its region's admin sees the order too")],
        ("vouchers.claim_attachment", "GET"): [Case(seen_row(LOGIN, holder=200, provider=200), target="claim")],
        ("vouchers.approve_claim", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.claim_queue"), holder=403, provider=403), target="claim",
                 note="the issuing region's admin")],
        ("vouchers.reject_claim", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.claim_queue"), holder=403, provider=403), target="claim",
                 body=reason_body)],
        ("vouchers.settlements", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
        ("vouchers.request_settlement", "POST"): [
            Case(row(anonymous=LOGIN, members=to("vouchers.settlements"), pending_owner=to("vouchers.settlements"),
                     provider=to("vouchers.settlement_detail"), admins=403), target="redemption", body=settlement_form,
                 note="the payee's members; others are told on the list that nothing waits; no organisation: 403")],
        ("vouchers.settlement_detail", "GET"): [
            Case(seen_row(LOGIN, provider=200), target="settlement", note="the payee (of a 通兑 order: the provider)")],
        ("vouchers.approve_settlement", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.settlement_queue"), provider=403), target="settlement")],
        ("vouchers.reject_settlement", "POST"): [
            Case(acted_row(LOGIN, admin_bj=to("vouchers.settlement_queue"), provider=403), target="settlement",
                 body=reason_body)],

        # Review queues: any regional admin (the rows are their region's)
        ("vouchers.application_queue", "GET"): [Case(queue)],
        ("vouchers.provider_queue", "GET"): [Case(queue)],
        ("vouchers.claim_queue", "GET"): [Case(queue)],
        ("vouchers.settlement_queue", "GET"): [Case(queue)],

        # Providers
        ("vouchers.providers_list", "GET"): [Case(row(everyone=200))],
        ("vouchers.notices", "GET"): [Case(row(everyone=200))],
        ("vouchers.provider_detail", "GET"): [
            *provider_views, Case(row(everyone=404, admins=200), target="provider:suspended")],
        ("vouchers.object_to_provider", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=to("vouchers.notices")), target="provider:in_notice",
                 body=objection_body, check=_objection_check),
            Case(row(anonymous=LOGIN, signed_in=403), target="provider:admitted", body=objection_body,
                 note="only during the notice (and never its own members)"),
            Case(row(anonymous=LOGIN, members=404, pending_owner=404, admins=403), target="provider:applied",
                 body=objection_body)],
        ("vouchers.review_provider", "POST"): [
            Case(admin_row(LOGIN, provider_page, hidden=True), target="provider:applied", values={"action": "notice"},
                 check=status_check("provider:applied", "applied", "in_notice", "admin_bj")),
            Case(admin_row(LOGIN, provider_page, hidden=True), target="provider:suspended",
                 values={"action": "admit"}, check=status_check("provider:suspended", "suspended", "admitted",
                                                                "admin_bj"), note="reinstated"),
            Case(admin_row(LOGIN, provider_page, hidden=False), target="provider:in_notice",
                 values={"action": "admit"}, check=status_check("provider:in_notice", "in_notice", "admitted"),
                 note="BJ's admin is let in and told on the provider's page that the notice still runs")],
        ("vouchers.refuse_provider", "POST"): [
            Case(admin_row(LOGIN, provider_page, hidden=True), target="provider:applied", values={"action": "reject"},
                 body=reason_body, check=status_check("provider:applied", "applied", "rejected", "admin_bj")),
            Case(admin_row(LOGIN, provider_page, hidden=False), target="provider:admitted",
                 values={"action": "suspend"}, body=reason_body,
                 check=status_check("provider:admitted", "admitted", "suspended", "admin_bj"))],
        ("vouchers.dismiss_objection", "POST"): [
            Case(admin_row(LOGIN, provider_page, hidden=False), target="objection", body=reason_body,
                 check=status_check("objection", "open", "dismissed", "admin_bj"))],

        # The provider's console: members of a provider organisation
        ("vouchers.apply_as_provider", "GET"): [
            Case(row(anonymous=LOGIN, signed_in=403, provider=200),
                 note="members of an approved provider organisation (the role's own has not applied yet)"),
            Case(row(anonymous=LOGIN, signed_in=403, provider=to("vouchers.provider_console")),
                 target="provider:admitted", note="once applied: the console")],
        ("vouchers.apply_as_provider", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, provider=to("vouchers.provider_console")),
                 body=provider_application_body)],
        ("vouchers.provider_console", "GET"): [
            Case(row(anonymous=LOGIN, signed_in=403, provider=200), note="not applied yet: the way to apply"),
            Case(row(anonymous=LOGIN, signed_in=403, provider=200), target="provider:admitted")],
        ("vouchers.add_product", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=404), body=product_form,
                 note="the caller's organisation has not applied (the provider's own neither, yet)"),
            Case(row(anonymous=LOGIN, signed_in=404, provider=to("vouchers.provider_console")),
                 target="provider:admitted", body=product_form)],
        ("vouchers.edit_product", "GET"): [
            Case(row(anonymous=LOGIN, signed_in=403, provider=200), target="product"),
            Case(row(anonymous=LOGIN, members=404, pending_owner=404, admins=403), target="product:applied",
                 note="a provider not yet in notice is hidden from members")],
        ("vouchers.edit_product", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, provider=to("vouchers.provider_console")), target="product",
                 body=product_form)],
        ("vouchers.record_order", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, provider=to("vouchers.redemption_detail")), target="voucher",
                 body=order_form, note="members of the admitted provider")],
    }

    # The API: the same rules; an anonymous caller is asked to authenticate (401) where a login is required.
    matrix.update({
        ("vouchers_api.list_programs", "GET"): [Case(row(everyone=200))],
        ("vouchers_api.create_program", "POST"): [
            Case(row(anonymous=401, signed_in=403, admin_bj=201, admin_tj=201), body=program_json)],
        ("vouchers_api.get_program", "GET"): [
            Case(row(everyone=200), target="program:open"),
            Case(row(everyone=404, admin_bj=200, platform=200), target="program:draft"),
            Case(row(everyone=404), target="missing")],
        ("vouchers_api.update_program", "PATCH"): [
            Case(admin_row(401, 200, hidden=True), target="program:draft", body=program_json),
            Case(admin_row(401, 409, hidden=False), target="program:open", body=program_json)],
        ("vouchers_api.open_program", "POST"): [Case(admin_row(401, 200, hidden=True), target="program:draft")],
        ("vouchers_api.close_program", "POST"): [Case(admin_row(401, 200, hidden=False), target="program:open")],
        ("vouchers_api.program_dashboard", "GET"): [
            Case(admin_row(401, 200, hidden=False, platform=200), target="program:open"),
            Case(admin_row(401, 200, hidden=True, platform=200), target="program:draft")],
        ("vouchers_api.list_applications", "GET"): [Case(row(anonymous=401, signed_in=200))],
        ("vouchers_api.apply_for_voucher", "POST"): [
            Case(row(anonymous=401, signed_in=403, sme=201), target="program:open", body=application_json("open")),
            Case(row(anonymous=401, signed_in=403, sme=409), target="program:closed",
                 body=application_json("closed")),
            Case(row(anonymous=401, signed_in=403), target="program:tj", body=application_json("tj")),
            Case({**draft_to_apply, "anonymous": 401}, target="program:draft", body=application_json("draft"))],
        ("vouchers_api.get_application", "GET"): [Case(seen_row(401, holder=200), target="application")],
        ("vouchers_api.approve_application", "POST"): [
            Case(acted_row(401, admin_bj=201, holder=403), target="application")],
        ("vouchers_api.reject_application", "POST"): [
            Case(acted_row(401, admin_bj=200, holder=403), target="application", body=reason_body)],
        ("vouchers_api.list_vouchers", "GET"): [Case(row(anonymous=401, signed_in=200))],
        ("vouchers_api.get_voucher", "GET"): [
            Case(seen_row(401, holder=200), target="voucher"),
            Case(row(anonymous=401, signed_in=404), target="missing")],
        ("vouchers_api.revoke_voucher", "POST"): [
            Case(acted_row(401, admin_bj=200, holder=403), target="voucher", body=reason_body)],
        ("vouchers_api.record_redemption", "POST"): [
            Case(row(anonymous=401, signed_in=403, provider=201), target="voucher", body=order_json)],
        ("vouchers_api.list_redemptions", "GET"): [Case(row(anonymous=401, signed_in=200))],
        ("vouchers_api.get_redemption", "GET"): [
            Case(seen_row(401, holder=200, provider=200), target="redemption"),
            Case(seen_row(401, holder=200, provider=200), target="claim"),
            Case(seen_row(401, holder=200, admin_tj=200), target="redemption:cross")],
        ("vouchers_api.submit_claim", "POST"): [
            Case(acted_row(401, admin_bj=403, holder=201), target="voucher:reimbursement",
                 body=claim_json("reimbursement"), files="files"),
            Case(acted_row(401, admin_bj=403, holder=409), target="voucher", body=claim_json("open"), files="files")],
        ("vouchers_api.approve_claim", "POST"): [
            Case(acted_row(401, admin_bj=200, holder=403, provider=403), target="claim")],
        ("vouchers_api.reject_claim", "POST"): [
            Case(acted_row(401, admin_bj=200, holder=403, provider=403), target="claim", body=reason_body)],
        ("vouchers_api.list_settlements", "GET"): [Case(row(anonymous=401, signed_in=200))],
        ("vouchers_api.unsettled_summary", "GET"): [Case(row(anonymous=401, signed_in=200))],
        ("vouchers_api.request_settlement", "POST"): [
            Case(row(anonymous=401, members=409, pending_owner=409, provider=201, admins=403), target="redemption",
                 body=settlement_json, note="409 nothing_to_settle for the members of other organisations")],
        ("vouchers_api.get_settlement", "GET"): [Case(seen_row(401, provider=200), target="settlement")],
        ("vouchers_api.approve_settlement", "POST"): [
            Case(acted_row(401, admin_bj=200, provider=403), target="settlement")],
        ("vouchers_api.reject_settlement", "POST"): [
            Case(acted_row(401, admin_bj=200, provider=403), target="settlement", body=reason_body)],
        ("vouchers_api.list_providers", "GET"): [Case(row(everyone=200))],
        ("vouchers_api.apply_as_provider", "POST"): [
            Case(row(anonymous=401, signed_in=403, provider=201), body=provider_application_body)],
        ("vouchers_api.get_provider", "GET"): provider_views,
        ("vouchers_api.start_provider_notice", "POST"): [
            Case(admin_row(401, 200, hidden=True), target="provider:applied")],
        ("vouchers_api.admit_provider", "POST"): [
            Case(admin_row(401, 200, hidden=True), target="provider:suspended"),
            Case(admin_row(401, 409, hidden=False), target="provider:in_notice", note="the notice still runs")],
        ("vouchers_api.reject_provider", "POST"): [
            Case(admin_row(401, 200, hidden=True), target="provider:applied", body=reason_body)],
        ("vouchers_api.suspend_provider", "POST"): [
            Case(admin_row(401, 200, hidden=False), target="provider:admitted", body=reason_body)],
        ("vouchers_api.object_to_provider", "POST"): [
            Case(row(anonymous=401, signed_in=201), target="provider:in_notice", body=objection_body),
            Case(row(anonymous=401, signed_in=403), target="provider:admitted", body=objection_body)],
        ("vouchers_api.dismiss_objection", "POST"): [
            Case(admin_row(401, 200, hidden=False), target="objection", body=reason_body)],
        ("vouchers_api.add_product", "POST"): [
            Case(row(anonymous=401, signed_in=403, provider=201), target="provider:admitted", body=product_json),
            Case(row(anonymous=401, members=404, pending_owner=404, admins=403), target="provider:applied",
                 body=product_json)],
        ("vouchers_api.update_product", "PATCH"): [
            Case(row(anonymous=401, signed_in=403, provider=200), target="product", body=product_json)],
    })
    return matrix


MATRIX = voucher_matrix()


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
