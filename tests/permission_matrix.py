"""Every route × every role, through real HTTP: the permission matrix (deny by default).

The specification is the `MATRIX` of each feature, in tests/<feature>/test_permission_matrix.py. For
each route (endpoint and method) of `app.url_map` it lists one or more cases (which object the request targets, what it sends) and, for every
role, the outcome that route must give:

* an HTTP status (200, 201, 403, 404, ...);
* ``LOGIN``: a redirect to the login page carrying ``next=`` (``login_required``);
* ``to("endpoint")``: a redirect to that page (the success path of a form).

A route of the app that the table does not cover fails as "new route without a permission
rule"; a rule for a route that no longer exists fails as stale. Any difference between the
table and the app fails, listed role by role.

Pages are called with a session (``Browser.login``), the API with a bearer token; unsafe
methods carry a valid CSRF token, so what is tested is authorisation, not CSRF. For each
role a fresh world is built through the services (`World`, lazily: only what a case
needs), so that one role's successful action (an approval, a password change) never changes
what the next role meets.

This module holds what the feature tables share: the roles, the world each role meets, the cases, and
the run of one route (`check_route`); tests/test_permission_matrix.py checks that every route has a rule."""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from exchange.accounts import services as account_services
from exchange.accounts.models import User, Visitor
from exchange.catalog.attachments import add_attachment
from exchange.catalog.models import EntryKind
from exchange.catalog.services import change_status, create_entry
from exchange.demo.entries import PATHS
from exchange.extensions import db as extension_db
from exchange.notifications.models import OutboxMessage
from exchange.orgs import services as org_services
from exchange.orgs.models import Organization
from exchange.storage import Upload
from exchange.vouchers import providers as voucher_providers
from exchange.vouchers import services as voucher_services
from exchange.vouchers.models import ProviderObjection, ProviderProfile, Voucher, VoucherProgram
from tests import factories
from tests.conftest import make_app

PASSWORD = factories.PASSWORD
NEW_PASSWORD = "a brand new passphrase 新密码"

# The roles, in the order they are tried. The four member roles are owners of approved BJ
# organisations; "institute" owns the approved target organisation and "colleague" is a
# plain (not owner) member of it, so the owner-only rights show against a member.
ROLES = ("anonymous", "enterprise", "sme", "institute", "provider", "colleague",
         "pending_owner", "admin_bj", "admin_tj", "platform")
GROUPS: dict[str, tuple[str, ...]] = {
    "everyone": ROLES,
    "signed_in": ROLES[1:],
    "members": ("enterprise", "sme", "institute", "provider", "colleague"),
    "admins": ("admin_bj", "admin_tj", "platform"),
}

LOGIN = "302→login"
Outcome = int | str


def to(endpoint: str) -> str:
    return f"302→{endpoint}"


def row(**given: Outcome) -> dict[str, Outcome]:
    """Outcomes per role; a group ("everyone", "signed_in", "members", "admins") first, then roles override.

    Every role must end up with an outcome: nothing is allowed by omission.
    """
    expanded: dict[str, Outcome] = {}
    for key in sorted(given, key=lambda name: -len(GROUPS.get(name, (name,)))):
        roles = GROUPS.get(key, (key,))
        unknown = set(roles) - set(ROLES)
        assert not unknown, f"unknown role(s) in the matrix: {unknown}"
        for role in roles:
            expanded[role] = given[key]
    missing = [role for role in ROLES if role not in expanded]
    assert not missing, f"the matrix gives no outcome for {missing}"
    return expanded


# --- the world each role meets ---------------------------------------------------------

class World:
    """What one role meets, built lazily through the services and cached.

    Only plain values (ids, e-mails, secrets) leave the app context each piece is built in:
    the requests run outside it. (A request made while a test holds an app context would
    share its `g`, and so one cached CSRF token and user for every browser.)

    * ``approved``: an approved BJ institute; "institute" owns it, "colleague" is a member.
    * ``firm``: an approved BJ enterprise; "enterprise" owns it (it publishes needs).
    * ``pending``: a pending BJ enterprise; "pending_owner" owns it.
    * ``bystander``: a HE admin whose token and password some cases touch.
    * entries of every kind and state, of the organisation that may publish them.
    * innovation vouchers of BJ: programmes, the holder SME's application, vouchers and claim, the
      admitted provider's product, order and settlement, providers at each step of admission.
    """

    def __init__(self, app: Any, role: str) -> None:
        self.app, self.role = app, role
        self._cache: dict[Any, Any] = {}

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.app.test_request_context():
            yield extension_db.session

    def _cached(self, key: Any, make: Callable[[Any], Any]) -> Any:
        if key not in self._cache:
            with self.session() as db:
                self._cache[key] = make(db)
        return self._cache[key]

    # organisations and people
    def _organization(self, name: str, **kwargs: Any) -> tuple[int, int]:
        def make(db: Any) -> tuple[int, int]:
            registered = factories.organization(db, region="BJ", **kwargs)
            return registered.organization.id, registered.owner.id
        return self._cached(name, make)

    @property
    def approved_id(self) -> int:
        return self._organization("approved", kind="institute")[0]

    @property
    def firm_id(self) -> int:
        return self._organization("firm", kind="enterprise")[0]

    @property
    def pending_id(self) -> int:
        return self._organization("pending", kind="enterprise", status="pending")[0]

    def _user_id(self) -> int | None:
        role = self.role
        if role == "anonymous":
            return None
        if role == "institute":
            return self._organization("approved", kind="institute")[1]
        if role == "enterprise":
            return self._organization("firm", kind="enterprise")[1]
        if role == "pending_owner":
            return self._organization("pending", kind="enterprise", status="pending")[1]
        if role in ("sme", "provider"):
            return self._organization("own", kind=role)[1]
        approved_id = self.approved_id if role == "colleague" else None
        return self._cached("user", lambda db: {
            "colleague": lambda: factories.member(db, db.get(Organization, approved_id)),
            "admin_bj": lambda: factories.admin(db, "BJ"),
            "admin_tj": lambda: factories.admin(db, "TJ"),
            "platform": lambda: factories.platform_admin(db),
        }[role]().id)

    @property
    def email(self) -> str | None:
        user_id = self._user_id()
        if user_id is None:
            return None
        return self._cached("email", lambda db: db.get(User, user_id).email)

    def _token(self, key: str, user_id: int | None) -> tuple[str, int] | None:
        if user_id is None:
            return None

        def make(db: Any) -> tuple[str, int]:
            secret = factories.api_token(db, db.get(User, user_id))
            return secret, factories.token_row(db, secret).id
        return self._cached(key, make)

    @property
    def bearer(self) -> str | None:
        token = self._token("bearer", self._user_id())
        return token[0] if token else None

    @property
    def bystander(self) -> tuple[int, str]:
        return self._cached("bystander", lambda db: (lambda user: (user.id, user.email))(factories.admin(db, "HE")))

    @property
    def bystander_email(self) -> str:
        return self.bystander[1]

    @property
    def bj_district_id(self) -> int:
        return self._cached("district", lambda db: factories.district_of(db, "BJ").id)

    def url_values(self, target: str | None, kind: str | None) -> dict[str, Any]:
        if target is None:
            return {}
        if target in ("approved", "pending"):
            return {"organization_id": getattr(self, f"{target}_id")}
        if target == "missing":
            return {name: 987654 for name in ("organization_id", "entry_id", "program_id", "application_id",
                                               "redemption_id", "settlement_id", "org_id")} | {"code": "BJ2026-XXXX-XXXX"}
        if target == "own_token":  # a second token of the user's own: the bearer stays valid
            own = self._token("own_token", self._user_id())
            return {"token_id": own[1] if own else self._token("foreign", self.bystander[0])[1]}
        if target == "foreign_token":
            return {"token_id": self._token("foreign", self.bystander[0])[1]}
        if target == "invitation":
            return {"token": self._invitation_secret()}
        if target == "reset":
            return {"token": self._reset_secret()}
        if target == "bogus":
            return {"token": "not-a-token-that-was-ever-issued"}
        if target.startswith("entry:"):
            status, _, extra = target.removeprefix("entry:").partition("+")
            assert kind is not None, f"{target} needs a kind"
            entry_id, attachment_id = self.entry(kind, status, with_file=extra == "file")
            return {"entry_id": entry_id, "attachment_id": attachment_id}
        if target.partition(":")[0] in VOUCHER_TARGETS:
            return self.voucher_values(target)
        raise AssertionError(f"unknown target {target}")

    def _invitation_secret(self) -> str:
        approved_id = self.approved_id
        owner_id = self._organization("approved", kind="institute")[1]

        def make(db: Any) -> str:
            invitee = factories.unique_email("invitee-")
            org_services.invite_member(db, db.get(User, owner_id), approved_id, invitee)
            return secret_from_outbox(db, invitee, "/invitations/")
        return self._cached("invitation", make)

    def _reset_secret(self) -> str:
        email = self.bystander_email

        def make(db: Any) -> str:
            account_services.request_password_reset(db, Visitor(), email)
            return secret_from_outbox(db, email, "/password/reset/")
        return self._cached("reset", make)

    # entries of the libraries
    def next_case(self) -> None:
        """Each case meets entries and voucher objects of its own: an earlier case may have moved the
        cached ones on. (Organisations, people and the role's own provider admission stay.)"""
        for key in [key for key in self._cache if isinstance(key, tuple) and key[0] in ("entry", "voucher")]:
            del self._cache[key]

    def entry_owner_id(self, kind: str) -> int:
        if kind == "need":
            return self._organization("firm", kind="enterprise")[1]
        return self._organization("approved", kind="institute")[1]

    def entry(self, kind: str, status: str, with_file: bool = False) -> tuple[int, int | None]:
        owner_id = self.entry_owner_id(kind)

        def make(db: Any) -> tuple[int, int | None]:
            owner = db.get(User, owner_id)
            entry_kind = EntryKind(kind)
            created = create_entry(db, owner, entry_kind, entry_data(kind, owner.organization.district_id))
            attachment_id = None
            if with_file:
                attachment_id = add_attachment(db, owner, entry_kind, created.id,
                                               Upload("报告.pdf", io.BytesIO(PDF))).id
            for action, who in PATHS[status]:
                actor = owner if who == "owner" else factories.region_admin(db, "BJ")
                change_status(db, actor, entry_kind, created.id, action, "资料不完整，请补充检测报告。")
            return created.id, attachment_id
        return self._cached(("entry", kind, status, with_file), make)

    # innovation vouchers (BJ): fresh objects for each case, built by their real actors
    def _voucher(self, name: str, make: Callable[[Any], Any]) -> Any:
        return self._cached(("voucher", name), make)

    @property
    def holder(self) -> tuple[int, int]:
        """(organisation, owner) of the SME holding the vouchers: the role's own when it is "sme"."""
        if self.role == "sme":
            return self._organization("own", kind="sme")
        return self._organization("holder", kind="sme")

    def provider(self, status: str = "admitted", region: str = "BJ") -> tuple[int, int]:
        """(organisation, owner) of a provider in `status`. The admitted BJ provider serves the vouchers:
        when the role is "provider" it is the role's own organisation, admitted the first time a case
        needs it (until then it is an approved provider organisation that has not applied)."""
        if (status, region) == ("admitted", "BJ") and self.role == "provider":
            org_id, owner_id = self._organization("own", kind="provider")
            self._cached("own admission", lambda db: factories.provider(db, owner=db.get(User, owner_id)).owner.id)
            return org_id, owner_id

        def make(db: Any) -> tuple[int, int]:
            registered = factories.provider(db, region, status=status)
            return registered.organization.id, registered.owner.id
        return self._voucher(f"provider:{status}:{region}", make)

    def product(self, status: str = "admitted") -> int:
        org_id = self.provider(status)[0]
        return self._voucher(f"product:{status}", lambda db: factories.product_of(db, org_id).id)

    def program(self, name: str = "open") -> int:
        return self._voucher(f"program:{name}", lambda db: factories.program(db, **PROGRAMS[name]).id)

    def application(self) -> int:
        request, owner_id = voucher_services.ApplicationRequest(**application_json("open")(self)), self.holder[1]
        return self._voucher("application", lambda db: voucher_services.apply_for_voucher(
            db, db.get(User, owner_id), request).id)

    def voucher_code(self, program: str = "open") -> str:
        program_id, owner_id = self.program(program), self.holder[1]
        return self._voucher(f"voucher:{program}", lambda db: factories.voucher(db, db.get(User, owner_id),
                                                                                program_id).code)

    def redemption(self, region: str = "BJ") -> int:
        """An order the provider of `region` recorded on the holder's voucher (通兑; "BJ": the provider's)."""
        code, (provider_id, owner_id) = self.voucher_code(), self.provider("admitted", region)

        def make(db: Any) -> int:
            product = factories.product_of(db, provider_id)
            return voucher_services.record_redemption(db, db.get(User, owner_id), voucher_services.OrderRequest(
                code, product.id, product.fee_fen, "HT-矩阵-001")).id
        return self._voucher(f"redemption:{region}", make)

    def claim(self) -> tuple[int, int]:
        """(redemption, attachment) of the holder's claim on a 通用 voucher, for the BJ provider's work."""
        code, provider_id, owner_id = self.voucher_code("reimbursement"), self.provider()[0], self.holder[1]

        def make(db: Any) -> tuple[int, int]:
            claimed = voucher_services.submit_claim(db, db.get(User, owner_id), voucher_services.ClaimRequest(
                code, provider_id, "失效分析", 1_000_000, "HT-矩阵-002"), [Upload("合同.pdf", io.BytesIO(PDF))])
            return claimed.id, claimed.attachments[0].id
        return self._voucher("claim", make)

    def settlement(self) -> int:
        """What the provider asked the programme to pay for its order."""
        self.redemption()
        program_id, owner_id = self.program(), self.provider()[1]
        return self._voucher("settlement", lambda db: voucher_services.request_settlement(
            db, db.get(User, owner_id), program_id).id)

    def objection(self) -> tuple[int, int]:
        """(provider, objection) of the holder's objection to the provider in notice."""
        org_id, author_id = self.provider("in_notice")[0], self.holder[1]
        return org_id, self._voucher("objection", lambda db: voucher_providers.object_to_provider(
            db, db.get(User, author_id), org_id, "资质证书已过期。").id)

    def voucher_values(self, target: str) -> dict[str, Any]:
        kind, _, variant = target.partition(":")
        if kind == "program":
            return {"program_id": self.program(variant)}
        if kind == "application":
            return {"application_id": self.application()}
        if kind == "voucher":
            return {"code": self.voucher_code(variant or "open")}
        if kind == "redemption":
            return {"redemption_id": self.redemption({"": "BJ", "cross": "TJ"}[variant])}
        if kind == "claim":
            redemption_id, attachment_id = self.claim()
            return {"redemption_id": redemption_id, "attachment_id": attachment_id}
        if kind == "settlement":
            return {"settlement_id": self.settlement()}
        if kind == "provider":
            org_id = self.provider(variant)[0]
            return {"organization_id": org_id, "org_id": org_id}
        if kind == "objection":
            org_id, objection_id = self.objection()
            return {"organization_id": org_id, "org_id": org_id, "objection_id": objection_id}
        assert kind == "product", target
        return {"product_id": self.product(variant or "admitted")}

    def status_of(self, target: str) -> str:
        """The state of a target now, as the database says (for the checks after a request)."""
        values = self.voucher_values(target)  # cached: what the request met
        with self.session() as db:
            if "program_id" in values:
                return db.get(VoucherProgram, values["program_id"]).status.value
            if "code" in values:
                return db.scalar(sa.select(Voucher).where(Voucher.code == values["code"])).status.value
            if "objection_id" in values:
                return "dismissed" if db.get(ProviderObjection, values["objection_id"]).dismissed_at else "open"
            return db.get(ProviderProfile, values["org_id"]).status.value

    def objections_to(self, target: str) -> int:
        org_id = self.voucher_values(target)["org_id"]
        with self.session() as db:
            return db.scalar(sa.select(sa.func.count()).where(ProviderObjection.provider_id == org_id))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ENTRY_DATA = {"achievement": factories.achievement_data, "need": factories.need_data,
              "expert": factories.expert_data, "talent": factories.talent_data, "project": factories.project_data}


def entry_data(kind: str, district_id: int) -> dict[str, Any]:
    """A valid body for creating or changing an entry (the factories' data, as the API takes it)."""
    return ENTRY_DATA[kind](None, SimpleNamespace(district_id=district_id))


def secret_from_outbox(db: Any, address: str, path: str) -> str:
    """The secret of the newest link to `path` mailed to `address` (the services only mail it)."""
    for payload in db.scalars(sa.select(OutboxMessage.payload).order_by(OutboxMessage.id.desc())):
        if payload.get("to") == address:
            match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", payload.get("body", ""))
            if match:
                return match.group(1)
    raise AssertionError(f"no mail to {address} with a link to {path}")


# --- request bodies (valid ones: the matrix tests who may, not what is valid) ----------------

def registration_form(w: World) -> dict[str, Any]:
    number = factories.unique_number()
    return {"name": f"矩阵测试机构{number}", "credit_code": factories.valid_credit_code(number),
            "kind": "sme", "region": "BJ", "district": str(w.bj_district_id), "description": "",
            "website": "", "member_name": "矩阵", "member_email": factories.unique_email("reg-"),
            "password": PASSWORD, "confirm": PASSWORD}


def registration_json(w: World) -> dict[str, Any]:
    form = registration_form(w)
    del form["confirm"]
    return {**form, "district": w.bj_district_id}


def edit_form(w: World) -> dict[str, Any]:
    return {"name": "更正后的名称", "district": str(w.bj_district_id), "description": "更正", "website": ""}


def edit_json(w: World) -> dict[str, Any]:
    return {"name": "更正后的名称", "district": w.bj_district_id}


def new_password_form(w: World) -> dict[str, Any]:
    return {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


@dataclass(frozen=True)
class Case:
    expect: dict[str, Outcome]
    target: str | None = None
    body: Callable[[World], dict[str, Any]] | None = None
    kind: str | None = None                                 # the entry kind of an "entry:..." target
    values: dict[str, Any] = field(default_factory=dict)    # fixed URL values (kind, action, fmt)
    files: str = ""                                         # send the body as multipart, a PDF in this field
    check: Callable[[World, str], str | None] | None = None  # a look at the database after the request
    query: dict[str, str] = field(default_factory=dict)      # a query string
    note: str = ""


# What the world builds for the voucher cases.
PROGRAMS: dict[str, dict[str, Any]] = {
    "open": {}, "closed": {"status": "closed"}, "draft": {"status": "draft"},
    "reimbursement": {"redemption_mode": "reimbursement"},  # 通用: the holder pays in full and claims
    "tj": {"region": "TJ"},                                 # another region's: a BJ SME may not apply
}
VOUCHER_TARGETS = ("program", "application", "voucher", "redemption", "claim", "settlement", "provider", "objection",
                   "product")


def application_json(program: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"program_id": w.program(program), "service_category": "testing",
                      "planned_service": "材料成分检测与失效分析", "amount_fen": 5_000_000,
                      "justification": "新产品研发需要第三方检测。"}


IGNORED_ENDPOINTS = {"static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes_of_the_app() -> dict[tuple[str, str], str]:
    app = make_app("sqlite://")
    return {(rule.endpoint, method): rule.rule
            for rule in app.url_map.iter_rules() if rule.endpoint not in IGNORED_ENDPOINTS
            for method in sorted((rule.methods or set()) - IGNORED_METHODS)}


APP_ROUTES = _routes_of_the_app()


# --- running one request ------------------------------------------------------------------

def observed(app: Any, response: Any) -> Outcome:
    status = response.status_code
    if status not in (301, 302, 303, 307, 308):
        return status
    parts = urlsplit(response.location)
    if parts.netloc and parts.netloc not in ("localhost", "localhost:80"):
        return f"{status}→offsite {response.location}"
    try:
        endpoint, _ = app.url_map.bind("localhost").match(parts.path, method="GET")
    except Exception:  # noqa: BLE001 - an unroutable target is reported as such
        return f"{status}→unroutable {parts.path}"
    if endpoint == "accounts.login" and "next" in parse_qs(parts.query):
        return f"{status}→login"
    return f"{status}→{endpoint}"


def url_of(app: Any, endpoint: str, values: dict[str, Any]) -> str:
    arguments = {name for rule in app.url_map.iter_rules(endpoint) for name in rule.arguments}
    with app.test_request_context():
        return url_for(endpoint, **{name: value for name, value in values.items() if name in arguments})


def perform(new_browser: Any, world: World, url: str, method: str, case: Case) -> Any:
    browser = new_browser()
    body = case.body(world) if case.body else None
    if case.files:
        body = {**(body or {}), case.files: (io.BytesIO(PDF), "检测报告.pdf")}
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {world.bearer}"} if world.bearer else {}
        if case.files:
            return browser.api(method, url, data=body, content_type="multipart/form-data", headers=headers)
        return browser.api(method, url, json=body, headers=headers)
    if world.email is not None:
        browser.login(world.email, PASSWORD)
    if method == "GET":
        return browser.get(url)
    assert method == "POST", f"no page helper for {method} {url}"
    return browser.post(url, body or {})


def _check_api_error_shape(url: str, response: Any) -> str | None:
    if not url.startswith("/api/") or response.status_code < 400:
        return None
    payload = response.get_json(silent=True)
    if not (isinstance(payload, dict) and isinstance(payload.get("error"), dict)
            and {"code", "message"} <= set(payload["error"])):
        return f"not the error shape: {response.get_data(as_text=True)[:200]!r}"
    return None


def check_route(route: tuple[str, str], cases: list[Case], app: Any, new_browser: Any) -> None:
    """Every role, in a fresh world of its own, through every case of one route: the outcome the table gives,
    the API's error shape, and the case's own look at the database."""
    endpoint, method = route
    if route not in APP_ROUTES:
        pytest.fail(f"stale permission rule: {method} {endpoint} is no longer a route of the app")

    failures: list[str] = []
    for role in ROLES:
        world = World(app, role)
        for case in cases:
            world.next_case()
            expected = case.expect[role]
            url = url_of(app, endpoint, {**case.values, **world.url_values(case.target, case.kind)})
            url += f"?{urlencode(case.query)}" if case.query else ""
            response = perform(new_browser, world, url, method, case)
            got = observed(app, response)
            label = f"{role:14} target={case.target or '-':18}"
            if got != expected:
                detail = response.get_data(as_text=True)[:160].replace("\n", " ") if isinstance(got, int) else ""
                failures.append(f"{label} expected {expected!s:26} got {got!s:26} {detail}")
            problem = _check_api_error_shape(url, response)
            if problem:
                failures.append(f"{label} {problem}")
            problem = case.check(world, role) if case.check else None
            if problem:
                failures.append(f"{label} {problem}")
    assert not failures, f"{method} {APP_ROUTES[route]} ({endpoint}):\n" + "\n".join(failures)
