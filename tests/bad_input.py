"""Malformed, oversized, wrong-typed and hostile input to every form and every API endpoint.

For every value sent the answer must be:

* never a 5xx;
* API: a 4xx in the one error shape ``{"error": {"code", "message", "fields"?}}``, or the
  ordinary success answer when the value is acceptable (an organisation may be called
  ``' OR 1=1 --``: it is stored as text and shown escaped);
* HTML forms: the form again with an error message in the user's language (default zh_CN),
  or the ordinary success redirect;
* nothing half-saved: the rows of organisations, users, invitations and tokens change by
  exactly what a success creates, and not at all on a refusal;
* hostile HTML never comes back raw in a page;
* fields that are not part of a request (``status``, ``region``, ``org_id``, ``role``, ...)
  are never mass-assigned.

Each test loops over its values and reports every failure at once, labelled with the form,
field and value. The login limits are raised and each request comes from an address of its
own, so that the limits (tested elsewhere) do not hide what validation answers.

The helpers shared by the bad-input tests of each feature (tests/<feature>/test_bad_input.py)."""
from __future__ import annotations

import html as html_lib
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, gettext

from exchange.accounts import services as account_services
from exchange.accounts.models import ApiToken, Invitation, User, Visitor
from exchange.extensions import db as extension_db
from exchange.notifications.models import OutboxMessage
from exchange.orgs import services as org_services
from exchange.orgs.models import Organization
from exchange.vouchers.models import (
    IdempotencyRecord,
    LedgerEntry,
    ProviderObjection,
    ProviderProfile,
    Redemption,
    ServiceProduct,
    Settlement,
    Voucher,
    VoucherApplication,
    VoucherProgram,
)
from tests import factories
from tests.conftest import Browser

PASSWORD = factories.PASSWORD
CATALOG = Path(__file__).resolve().parents[1] / "exchange" / "translations" / "messages.pot"

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Values for HTML forms (everything a form sends is text; a list is a repeated key).
FORM_VALUES: dict[str, Any] = {
    "script": SCRIPT,
    "sql": "' OR 1=1 --",
    "emoji": "🚀🔥",
    "long": "a" * 10_000,
    "nul": "ab\x00cd",
    "control": "a\u202eb\u0007c",
    "number": "12345",
    "blank": "   ",
    "empty": "",
    "list": [SCRIPT, "12345"],
}
# Values for JSON bodies: the same strings, and every other JSON type where a string belongs.
JSON_VALUES: dict[str, Any] = {
    **{key: value for key, value in FORM_VALUES.items() if key != "list"},
    "int": 12345,
    "huge_int": 10**30,
    "float": 1.5,
    "true": True,
    "null": None,
    "list": ["a", "b"],
    "object": {"$ne": None},
}
TEXT_TYPES = {"script", "sql", "emoji", "control", "number", "list"}  # may be acceptable text
NOT_STRINGS = {"int", "huge_int", "float", "true", "null", "list", "object"}
EVERYTHING = set(FORM_VALUES) | set(JSON_VALUES)
# What a required text field must refuse, whatever the form.
REQUIRED_TEXT = {"long", "nul", "blank", "empty"}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"}


# --- the database, seen from outside the requests ------------------------------------------

COUNTED = {"organizations": Organization, "users": User, "invitations": Invitation, "api_tokens": ApiToken,
           "voucher_programs": VoucherProgram, "voucher_applications": VoucherApplication, "vouchers": Voucher,
           "voucher_redemptions": Redemption, "voucher_settlements": Settlement, "ledger_entries": LedgerEntry,
           "voucher_providers": ProviderProfile, "voucher_products": ServiceProduct,
           "voucher_objections": ProviderObjection, "idempotency_records": IdempotencyRecord}


@dataclass
class World:
    app: Flask
    admin_email: str = ""
    approved_id: int = 0
    approved_owner_email: str = ""
    pending_id: int = 0
    pending_owner_email: str = ""
    pending_credit_code: str = ""
    bj_district_id: int = 0
    tj_district_id: int = 0

    @contextmanager
    def session(self) -> Iterator[Any]:
        """A session in an app context of its own: never the one the requests use."""
        with self.app.test_request_context():
            yield extension_db.session

    def counts(self) -> dict[str, int]:
        with self.session() as db:
            return {name: db.scalar(sa.select(sa.func.count()).select_from(model)) or 0
                    for name, model in COUNTED.items()}

    def organization(self, organization_id: int) -> dict[str, Any]:
        with self.session() as db:
            org = db.get(Organization, organization_id)
            return {"name": org.name, "status": org.status, "region_code": org.region_code,
                    "credit_code": org.credit_code, "kind": org.kind, "district_id": org.district_id,
                    "description": org.description, "website": org.website,
                    "rejection_reason": org.rejection_reason, "reviewed_by_id": org.reviewed_by_id}

    def user(self, email: str) -> dict[str, Any] | None:
        with self.session() as db:
            user = db.scalar(sa.select(User).where(User.email == email))
            if user is None:
                return None
            return {"id": user.id, "role": user.role, "region_code": user.region_code,
                    "organization_id": user.organization_id, "is_org_owner": user.is_org_owner,
                    "is_disabled": user.is_disabled, "email": user.email, "display_name": user.display_name}

    def new_pending(self) -> int:
        with self.session() as db:
            return factories.organization(db, kind="enterprise", region="BJ", status="pending").organization.id

    def invitation_secret(self) -> str:
        with self.session() as db:
            invitee = factories.unique_email("invitee-")
            owner = db.scalar(sa.select(User).where(User.email == self.approved_owner_email))
            org_services.invite_member(db, owner, self.approved_id, invitee)
            return secret_from_outbox(db, invitee, "/invitations/")

    def reset_secret(self, email: str) -> str:
        with self.session() as db:
            account_services.request_password_reset(db, Visitor(), email)
            return secret_from_outbox(db, email, "/password/reset/")

    def token_for(self, email: str) -> str:
        with self.session() as db:
            return factories.api_token(db, db.scalar(sa.select(User).where(User.email == email)))


def secret_from_outbox(db: Any, address: str, path: str) -> str:
    for payload in db.scalars(sa.select(OutboxMessage.payload).order_by(OutboxMessage.id.desc())):
        if payload.get("to") == address:
            match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", payload.get("body", ""))
            if match:
                return match.group(1)
    raise AssertionError(f"no mail to {address} with a link to {path}")


@pytest.fixture
def world(app: Flask) -> World:
    world = World(app)
    with world.session() as db:
        admin = factories.admin(db, "BJ")
        approved = factories.organization(db, kind="institute", region="BJ")
        pending = factories.organization(db, kind="enterprise", region="BJ", status="pending")
        world.admin_email = admin.email
        world.approved_id, world.approved_owner_email = approved.organization.id, approved.owner.email
        world.pending_id, world.pending_owner_email = pending.organization.id, pending.owner.email
        world.pending_credit_code = pending.organization.credit_code
        world.bj_district_id = factories.district_of(db, "BJ").id
        world.tj_district_id = factories.district_of(db, "TJ").id
    return world


# --- what every answer must satisfy -------------------------------------------------------------

_addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), range(256), range(1, 255)))


class Client:
    """A browser (with CSRF tokens) whose every request comes from an address of its own."""

    def __init__(self, app: Flask, login: str | None = None, password: str = PASSWORD) -> None:
        self.browser = Browser(app.test_client())
        # A signed-in browser keeps its address: Flask-Login's session protection would
        # otherwise take a moved session for a stolen one and make it non-fresh.
        self.rotate = login is None
        if login:
            self.browser.login(login, password)

    def _fresh_address(self) -> None:
        if self.rotate:
            self.browser.client.environ_base["REMOTE_ADDR"] = next(_addresses)

    def post(self, url: str, data: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        self._fresh_address()
        return self.browser.post(url, data, headers=headers or {})

    def get(self, url: str, headers: dict[str, str] | None = None) -> Any:
        self._fresh_address()
        return self.browser.get(url, headers=headers or {})

    def api(self, method: str, url: str, token: str | None = None, **kwargs: Any) -> Any:
        self._fresh_address()
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.browser.client.open(url, method=method, headers=headers, **kwargs)


class Findings:
    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, ok: bool, label: str, message: str) -> bool:
        if not ok:
            self.items.append(f"{label}: {message}")
        return ok

    def assert_none(self) -> None:
        assert not self.items, f"{len(self.items)} problem(s):\n" + "\n".join(self.items)


def text_of(response: Any) -> str:
    return response.get_data(as_text=True)


def check_page(findings: Findings, label: str, response: Any) -> None:
    findings.check(response.status_code < 500, label, f"server error {response.status_code}")
    if response.mimetype == "text/html":
        findings.check(SCRIPT not in text_of(response), label, "hostile HTML came back unescaped")


def check_api_error(findings: Findings, label: str, response: Any,
                    allowed: tuple[int, ...] = (400, 401, 403, 404, 409, 413, 415, 422, 429)) -> None:
    if not findings.check(response.status_code in allowed, label,
                          f"status {response.status_code}, expected one of {allowed}: {text_of(response)[:200]!r}"):
        return
    payload = response.get_json(silent=True)
    shape_ok = (isinstance(payload, dict) and set(payload) == {"error"} and isinstance(payload["error"], dict)
                and {"code", "message"} <= set(payload["error"]) <= {"code", "message", "fields"}
                and isinstance(payload["error"]["code"], str) and payload["error"]["code"]
                and isinstance(payload["error"]["message"], str) and payload["error"]["message"])
    if shape_ok and "fields" in payload["error"]:
        fields = payload["error"]["fields"]
        shape_ok = isinstance(fields, dict) and all(
            isinstance(name, str) and isinstance(messages, list) and messages
            and all(isinstance(m, str) and m for m in messages) for name, messages in fields.items())
    findings.check(bool(shape_ok), label, f"not the one error shape: {text_of(response)[:300]!r}")


# --- the user's language ---------------------------------------------------------------------

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,.'’-]+[A-Za-z]{2,}){2,}")


def error_texts(page: str) -> list[str]:
    found = re.findall(r'class="field-error"[^>]*>(.*?)</small>', page, re.S)
    found += re.findall(r'class="flash flash-error"[^>]*>(.*?)</(?:div|p)>', page, re.S)
    return [html_lib.unescape(text).strip() for text in found if text.strip()]


@cache
def _catalog_msgids() -> tuple[str, ...]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    return tuple(message.id for message in catalog if isinstance(message.id, str) and message.id)


def untranslated_patterns(app: Flask) -> list[re.Pattern[str]]:
    """Messages of our catalog that zh_CN does not translate yet (the translator is at work)."""
    patterns = []
    with app.test_request_context(), force_locale("zh_CN"):
        for msgid in _catalog_msgids():
            if gettext(msgid) != msgid:
                continue
            literal = re.sub(r"%\(\w+\)s", "", msgid)
            if len(literal.strip()) < 8:  # too short to recognise safely
                continue
            patterns.append(re.compile(re.sub(r"%\\\(\w+\\\)s", ".+?", re.escape(msgid))))
    return patterns


def check_language(findings: Findings, label: str, app: Flask, response: Any,
                   resend: Callable[[dict[str, str]], Any]) -> None:
    """The error shown is in the user's language: zh_CN here, the default.

    A message may still be English only because the zh_CN catalog has no translation for it
    yet (a translator is filling exchange/translations/zh_CN while these tests are written).
    For such a message — recognised as a msgid of messages.pot that zh_CN leaves untranslated —
    the check moves to `Accept-Language: en`: the same request must show the English message.
    Once the translation exists, the same message must appear in Chinese, or this fails.
    An English text that is not a catalog message (a string never marked for translation)
    always fails.
    """
    texts = error_texts(text_of(response))
    if not findings.check(bool(texts), label, f"no error message in the page ({response.status_code})"):
        return
    shown = " ".join(texts)
    remainder = shown
    for pattern in untranslated_patterns(app):
        remainder = pattern.sub("", remainder)
    pending = remainder != shown
    if ENGLISH_RUN.search(remainder) or not (CJK.search(remainder) or pending):
        findings.check(False, label, f"error message not in the user's language (zh_CN): {shown!r}")
        return
    if pending:
        # TRANSLATION PENDING: zh_CN has no translation for (part of) this message yet, so the
        # assertion checks the English page instead. It turns into a Chinese check by itself
        # as soon as exchange/translations/zh_CN translates the message.
        english = resend({"Accept-Language": "en"})
        english_texts = error_texts(text_of(english))
        findings.check(bool(english_texts) and not any(CJK.search(text) for text in english_texts), label,
                       f"with Accept-Language: en the error is not shown in English: {english_texts!r}")


# --- one probe of a form ------------------------------------------------------------------------

def mutations(fields: dict[str, set[str]], values: dict[str, Any]) -> Iterator[tuple[str, str, Any, bool]]:
    """(field, value name, value, must be refused) for every field and value."""
    for name, refused in fields.items():
        for key, value in values.items():
            yield name, key, value, key in refused


def is_redirect_to(response: Any, path_prefix: str) -> bool:
    return response.status_code in (302, 303) and urlsplit(response.location).path.startswith(path_prefix)


def probe_form(findings: Findings, app: Flask, world: World, label: str, response: Any, *,
               succeeded: bool, must_refuse: bool, before: dict[str, int], created: dict[str, int],
               resend: Callable[[dict[str, str]], Any], refusal_statuses: tuple[int, ...] = (422,)) -> None:
    """The checks every form answer gets; `resend(headers)` repeats the request (refusals only)."""
    check_page(findings, label, response)
    after = world.counts()
    if succeeded:
        findings.check(not must_refuse, label, "accepted a value that must be refused")
        expected = {name: before[name] + created.get(name, 0) for name in before}
        findings.check(after == expected, label, f"rows {before} → {after}, a success creates {created}")
        return
    findings.check(response.status_code in refusal_statuses, label,
                   f"refused with status {response.status_code}, expected {refusal_statuses}")
    findings.check(after == before, label, f"half-saved: rows {before} → {after}")
    check_language(findings, label, app, response, resend)


# === HTML forms =====================================================================================

def registration_form(world: World) -> dict[str, Any]:
    number = factories.unique_number()
    return {"name": f"输入测试机构{number}", "credit_code": factories.valid_credit_code(number), "kind": "sme",
            "region": "BJ", "district": str(world.bj_district_id), "description": "简介",
            "website": "https://example.cn", "member_name": "测试者",
            "member_email": factories.unique_email("bad-input-"), "password": PASSWORD, "confirm": PASSWORD}


# === the JSON API ===================================================================================
def registration_json(world: World) -> dict[str, Any]:
    data = registration_form(world)
    del data["confirm"]
    return {**data, "district": world.bj_district_id}


def api_probe(findings: Findings, world: World, label: str, response: Any, *, success_status: int,
               must_refuse: bool, before: dict[str, int], created: dict[str, int]) -> bool:
    after = world.counts()
    if response.status_code == success_status:
        findings.check(not must_refuse, label, "accepted a value that must be refused")
        expected = {name: before[name] + created.get(name, 0) for name in before}
        findings.check(after == expected, label, f"rows {before} → {after}, a success creates {created}")
        return True
    check_api_error(findings, label, response)
    findings.check(after == before, label, f"half-saved: rows {before} → {after}")
    return False


def query_mutations() -> Iterator[tuple[str, str, Any]]:
    values: dict[str, Any] = {
        **{key: value for key, value in FORM_VALUES.items()},
        "zero": "0", "negative": "-1", "abc": "abc", "float": "1.5", "huge": "1" * 40, "per_page_1000": "1000",
        "max_int": str(2**63), "exponent": "1e3", "unicode digits": "１２", "space padded": " 2 ",
    }
    for name in ("page", "per_page", "region", "kind", "status", "q"):
        for key, value in values.items():
            yield name, key, value


# === the JSON API of innovation vouchers ===========================================================
@dataclass
class VoucherData:
    """Voucher objects to aim the API at, each in the state its endpoint needs (ids, codes, tokens)."""

    admin_token: str
    sme_token: str
    provider_token: str
    applicant_token: str
    program_id: int
    draft_program_id: int
    claim_program_id: int
    voucher_code: str
    revoke_code: str
    claim_code: str
    application_id: int
    product_id: int
    provider_id: int
    applied_provider_id: int
    admitted_provider_id: int
    in_notice_provider_id: int
    objection_id: int
    settlement_ids: tuple[int, int]


def voucher_data(world: World) -> VoucherData:
    from exchange.vouchers import providers as provider_services
    from exchange.vouchers import services as voucher_services

    with world.session() as db:
        admin = db.scalar(sa.select(User).where(User.email == world.admin_email))  # BJ's first admin
        program = factories.program(db, "BJ", budget_fen=1_000_000_000, cap_per_org_fen=100_000_000)
        claim_program = factories.program(db, "BJ", redemption_mode="reimbursement")
        sme = factories.organization(db, kind="sme", region="BJ").owner
        provider = factories.provider(db, "BJ").owner
        product = factories.product_of(db, provider.organization_id)
        voucher = factories.voucher(db, sme, program.id, 20_000_000)
        settlements = []
        for reference in ("HT-A", "HT-B"):
            voucher_services.record_redemption(db, provider, voucher_services.OrderRequest(
                voucher.code, product.id, 1_000_000, reference))
            settlements.append(voucher_services.request_settlement(db, provider, program.id).id)
        application = voucher_services.apply_for_voucher(db, sme, voucher_services.ApplicationRequest(
            program_id=program.id, service_category="testing", planned_service="检测", amount_fen=500_000,
            justification="需要检测。"))
        in_notice = factories.provider(db, "BJ", status="in_notice").owner.organization_id
        objection = provider_services.object_to_provider(db, sme, in_notice, "资质证书已过期")
        return VoucherData(
            admin_token=factories.api_token(db, admin), sme_token=factories.api_token(db, sme),
            provider_token=factories.api_token(db, provider),
            applicant_token=factories.api_token(db, factories.organization(db, kind="provider", region="BJ").owner),
            program_id=program.id, draft_program_id=factories.program(db, "BJ", status="draft").id,
            claim_program_id=claim_program.id, voucher_code=voucher.code,
            revoke_code=factories.voucher(db, sme, program.id, 5_000_000).code,
            claim_code=factories.voucher(db, sme, claim_program.id, 5_000_000).code,
            application_id=application.id, product_id=product.id, provider_id=provider.organization_id,
            applied_provider_id=factories.provider(db, "BJ", status="applied").owner.organization_id,
            admitted_provider_id=factories.provider(db, "BJ").owner.organization_id,
            in_notice_provider_id=in_notice, objection_id=objection.id, settlement_ids=(settlements[0], settlements[1]))


@dataclass
class EndpointSpec:
    method: str
    url: str
    token: str
    valid: Callable[[], dict[str, Any]]
    success: int
    fields: dict[str, set[str]]  # field → the values it must refuse
    created: dict[str, int]  # what one success adds
    body_required: bool = True


TEXT_REQUIRED = REQUIRED_TEXT | NOT_STRINGS
TEXT_OPTIONAL = {"long", "nul"} | NOT_STRINGS
WHOLE = EVERYTHING - {"int"}  # only a JSON integer can be a number of fen or an id
REASON = {"reason": TEXT_REQUIRED}


def voucher_endpoints(world: World) -> list[EndpointSpec]:
    """Every voucher endpoint that takes a JSON body, with a valid body and what each field must refuse."""
    data = voucher_data(world)
    rules = {"name": "2026年创新券", "year": 2026, "budget_fen": 100_000_000, "unit_fen": 500_000,
             "max_face_fen": 20_000_000, "coverage_percent": 50, "cap_per_org_fen": 20_000_000,
             "eligible_categories": ["testing"], "validity_days": 365, "accepting_regions": ["BJ", "TJ", "HE"],
             "redemption_mode": "direct", "description": "说明"}
    rule_fields = {"name": TEXT_REQUIRED, "year": WHOLE, "budget_fen": WHOLE, "unit_fen": WHOLE, "max_face_fen": WHOLE,
                   "coverage_percent": WHOLE, "cap_per_org_fen": WHOLE, "eligible_categories": EVERYTHING,
                   "validity_days": WHOLE, "accepting_regions": EVERYTHING, "redemption_mode": EVERYTHING,
                   "description": TEXT_OPTIONAL}
    product = {"name": "扫描电镜分析", "category": "testing", "fee_fen": 2_000_000, "description": "SEM", "is_active": True}
    product_fields = {"name": TEXT_REQUIRED, "category": EVERYTHING, "fee_fen": WHOLE, "description": TEXT_OPTIONAL,
                      "is_active": EVERYTHING - {"true"}}
    reason = lambda: {"reason": "材料不全"}
    admin, sme, provider = data.admin_token, data.sme_token, data.provider_token
    settle_a, settle_b = data.settlement_ids
    return [
        EndpointSpec("POST", "/api/v1/voucher-programs", admin, lambda: dict(rules), 201, rule_fields,
                     {"voucher_programs": 1}),
        EndpointSpec("PATCH", f"/api/v1/voucher-programs/{data.draft_program_id}", admin, lambda: dict(rules), 200,
                     rule_fields, {}),
        EndpointSpec("POST", "/api/v1/voucher-applications", sme, lambda: {
            "program_id": data.program_id, "service_category": "testing", "planned_service": "检测",
            "amount_fen": 500_000, "justification": "需要检测。", "provider_id": data.provider_id}, 201,
            {"program_id": WHOLE, "service_category": EVERYTHING, "planned_service": TEXT_REQUIRED, "amount_fen": WHOLE,
             "justification": TEXT_REQUIRED, "provider_id": EVERYTHING - {"int", "null"}}, {"voucher_applications": 1}),
        EndpointSpec("POST", f"/api/v1/voucher-applications/{data.application_id}/reject", admin, reason, 200,
                     REASON, {}),
        EndpointSpec("POST", "/api/v1/redemptions", provider, lambda: {
            "voucher_code": data.voucher_code, "service_product_id": data.product_id, "fee_fen": 1_000_000,
            "contract_reference": "HT-2026-7"}, 201,
            {"voucher_code": EVERYTHING, "service_product_id": WHOLE, "fee_fen": WHOLE,
             "contract_reference": TEXT_REQUIRED}, {"voucher_redemptions": 1, "ledger_entries": 2}),
        EndpointSpec("POST", "/api/v1/settlements", provider, lambda: {"program_id": data.program_id}, 201,
                     {"program_id": WHOLE}, {"voucher_settlements": 1}),
        EndpointSpec("POST", f"/api/v1/settlements/{settle_a}/approve", admin, lambda: {"payment_reference": "付-1"},
                     200, {"payment_reference": TEXT_OPTIONAL}, {"ledger_entries": 2}, body_required=False),
        EndpointSpec("POST", f"/api/v1/settlements/{settle_b}/reject", admin, reason, 200, REASON, {}),
        EndpointSpec("POST", f"/api/v1/vouchers/{data.revoke_code}/revoke", admin, reason, 200, REASON,
                     {"ledger_entries": 2}),
        EndpointSpec("POST", "/api/v1/voucher-providers", data.applicant_token,
                     lambda: {"category": "key_lab", "qualifications": "国家重点实验室"}, 201,
                     {"category": EVERYTHING, "qualifications": TEXT_REQUIRED}, {"voucher_providers": 1}),
        EndpointSpec("POST", f"/api/v1/voucher-providers/{data.applied_provider_id}/reject", admin, reason, 200,
                     REASON, {}),
        EndpointSpec("POST", f"/api/v1/voucher-providers/{data.admitted_provider_id}/suspend", admin, reason, 200,
                     REASON, {}),
        EndpointSpec("POST", f"/api/v1/voucher-providers/{data.in_notice_provider_id}/objections", sme,
                     lambda: {"text": "资质存疑"}, 201, {"text": TEXT_REQUIRED}, {"voucher_objections": 1}),
        EndpointSpec("POST", f"/api/v1/voucher-providers/objections/{data.objection_id}/dismiss", admin, reason,
                     200, REASON, {}),
        EndpointSpec("POST", f"/api/v1/voucher-providers/{data.provider_id}/products", provider, lambda: dict(product),
                     201, product_fields, {"voucher_products": 1}),
        EndpointSpec("PATCH", f"/api/v1/voucher-products/{data.product_id}", provider, lambda: dict(product), 200,
                     product_fields, {}),
    ]
