"""Every route × every role, through real HTTP: the permission matrix (deny by default).

`MATRIX` below is the specification. For each route (endpoint and method) of `app.url_map`
it lists one or more cases (which object the request targets, what it sends) and, for every
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
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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


# --- THE MATRIX ------------------------------------------------------------------------------
# Key: (endpoint, method). Every route of app.url_map except `static` must be here.

MATRIX: dict[tuple[str, str], list[Case]] = {
    # Public pages
    ("site.home", "GET"): [Case(row(everyone=200))],
    ("site.set_language", "POST"): [Case(row(everyone=to("orgs.directory")),
                                         body=lambda w: {"locale": "en", "next": "/organizations"})],
    ("accounts.login", "GET"): [Case(row(everyone=200))],
    ("accounts.login", "POST"): [Case(row(everyone=to("site.home")),
                                      body=lambda w: {"email": w.bystander_email, "password": PASSWORD})],
    ("accounts.forgot_password", "GET"): [Case(row(everyone=200))],
    ("accounts.forgot_password", "POST"): [Case(row(everyone=200), body=lambda w: {"email": w.bystander_email})],
    ("accounts.reset_password", "GET"): [Case(row(everyone=200), target="reset"),
                                         Case(row(everyone=404), target="bogus")],
    ("accounts.reset_password", "POST"): [Case(row(everyone=to("accounts.login")), target="reset",
                                               body=new_password_form),
                                          Case(row(everyone=404), target="bogus", body=new_password_form)],
    ("orgs.register", "GET"): [Case(row(everyone=200))],
    ("orgs.register", "POST"): [Case(row(everyone=to("orgs.registered")), body=registration_form)],
    ("orgs.registered", "GET"): [Case(row(everyone=200))],
    ("orgs.directory", "GET"): [Case(row(everyone=200))],
    ("orgs.accept_invitation", "GET"): [Case(row(everyone=200), target="invitation"),
                                        Case(row(everyone=404), target="bogus")],
    ("orgs.accept_invitation", "POST"): [
        Case(row(everyone=to("accounts.login")), target="invitation",
             body=lambda w: {"display_name": "新同事", "password": PASSWORD, "confirm": PASSWORD}),
        Case(row(everyone=404), target="bogus",
             body=lambda w: {"display_name": "新同事", "password": PASSWORD, "confirm": PASSWORD})],

    # One's own account (session)
    ("accounts.reauthenticate", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
    ("accounts.reauthenticate", "POST"): [Case(row(anonymous=LOGIN, signed_in=to("accounts.account")),
                                               body=lambda w: {"password": PASSWORD})],
    ("accounts.logout", "POST"): [Case(row(anonymous=LOGIN, signed_in=to("site.home")))],
    ("accounts.account", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
    ("accounts.change_password", "POST"): [
        Case(row(anonymous=LOGIN, signed_in=to("accounts.account")),
             body=lambda w: {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})],
    ("accounts.create_token", "POST"): [Case(row(anonymous=LOGIN, signed_in=200), body=lambda w: {"name": "矩阵"})],
    ("accounts.revoke_token", "POST"): [
        Case(row(anonymous=LOGIN, signed_in=to("accounts.account")), target="own_token"),
        Case(row(anonymous=LOGIN, signed_in=404), target="foreign_token", note="another user's token is not found")],

    # Organisation pages
    ("orgs.detail", "GET"): [
        Case(row(everyone=200), target="approved"),
        Case(row(anonymous=404, members=404, pending_owner=200, admins=200), target="pending",
             note="a pending organisation is hidden from all but its members and the administrators"),
        Case(row(everyone=404), target="missing")],
    ("orgs.edit", "GET"): [
        Case(row(anonymous=LOGIN, members=404, pending_owner=200, admins=403), target="pending"),
        Case(row(anonymous=LOGIN, signed_in=403), target="approved",
             note="approved details are what the admin vouched for: nobody edits them, the owner neither")],
    ("orgs.edit", "POST"): [
        Case(row(anonymous=LOGIN, members=404, pending_owner=to("orgs.detail"), admins=403), target="pending",
             body=edit_form),
        Case(row(anonymous=LOGIN, signed_in=403), target="approved", body=edit_form)],
    ("orgs.invite", "POST"): [
        Case(row(anonymous=LOGIN, signed_in=403, institute=to("orgs.detail")), target="approved",
             body=lambda w: {"email": factories.unique_email("inv-")}, note="owner only; a colleague may not"),
        Case(row(anonymous=LOGIN, members=404, pending_owner=to("orgs.detail"), admins=403), target="pending",
             body=lambda w: {"email": factories.unique_email("inv-")})],
    ("orgs.review_queue", "GET"): [
        Case(row(anonymous=LOGIN, members=403, pending_owner=403, admin_bj=200, admin_tj=200, platform=403),
             note="regional administrators only (each sees the queue of their own region)")],
    ("orgs.approve", "POST"): [
        Case(row(anonymous=LOGIN, members=404, pending_owner=403, admin_bj=to("orgs.review_queue"),
                 admin_tj=403, platform=403), target="pending"),
        Case(row(anonymous=LOGIN, members=403, pending_owner=403, admin_bj=409, admin_tj=403, platform=403),
             target="approved", note="already reviewed: a conflict for the one who may review it"),
        Case(row(anonymous=LOGIN, signed_in=404), target="missing")],
    ("orgs.reject", "POST"): [
        Case(row(anonymous=LOGIN, members=404, pending_owner=403, admin_bj=to("orgs.review_queue"),
                 admin_tj=403, platform=403), target="pending", body=lambda w: {"reason": "材料不全"}),
        Case(row(anonymous=LOGIN, members=403, pending_owner=403, admin_bj=409, admin_tj=403, platform=403),
             target="approved", body=lambda w: {"reason": "材料不全"})],

    # The in-app inbox
    ("notifications.index", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
    ("notifications.mark_all_read", "POST"): [Case(row(anonymous=LOGIN, signed_in=to("notifications.index")))],

    # Search across the libraries: public (what each caller may see is the search's own test)
    ("search.page", "GET"): [Case(row(everyone=200), query={"q": "电池"}), Case(row(everyone=200))],
    ("search_api.search_api", "GET"): [Case(row(everyone=200), query={"q": "电池", "region": "BJ"})],
    ("search_api.suggest", "GET"): [Case(row(everyone=200), query={"q": "dian"})],

    # API: public
    ("taxonomy_api.regions", "GET"): [Case(row(everyone=200))],
    ("taxonomy_api.fields", "GET"): [Case(row(everyone=200))],
    ("api-docs.openapi_json", "GET"): [Case(row(everyone=200))],
    ("auth_api.create_token", "POST"): [Case(row(everyone=201),
                                             body=lambda w: {"email": w.bystander_email, "password": PASSWORD})],
    ("organizations_api.register", "POST"): [Case(row(everyone=202), body=registration_json)],
    ("organizations_api.list_organizations", "GET"): [Case(row(everyone=200))],
    ("organizations_api.get_organization", "GET"): [
        Case(row(everyone=200), target="approved"),
        Case(row(anonymous=404, members=404, pending_owner=200, admins=200), target="pending"),
        Case(row(everyone=404), target="missing")],

    # API: the caller's own account
    ("me_api.me", "GET"): [Case(row(anonymous=401, signed_in=200))],
    ("auth_api.list_tokens", "GET"): [Case(row(anonymous=401, signed_in=200))],
    ("auth_api.revoke_token", "DELETE"): [
        Case(row(anonymous=401, signed_in=204), target="own_token"),
        Case(row(anonymous=401, signed_in=404), target="foreign_token")],

    # API: organisations (an anonymous caller is asked to authenticate, whatever the object)
    ("organizations_api.update_organization", "PATCH"): [
        Case(row(anonymous=401, members=404, pending_owner=200, admins=403), target="pending", body=edit_json),
        Case(row(anonymous=401, signed_in=403), target="approved", body=edit_json),
        Case(row(anonymous=401, signed_in=404), target="missing", body=edit_json)],
    ("organizations_api.approve", "POST"): [
        Case(row(anonymous=401, members=404, pending_owner=403, admin_bj=200, admin_tj=403, platform=403),
             target="pending"),
        Case(row(anonymous=401, members=403, pending_owner=403, admin_bj=409, admin_tj=403, platform=403),
             target="approved"),
        Case(row(anonymous=401, signed_in=404), target="missing")],
    ("organizations_api.reject", "POST"): [
        Case(row(anonymous=401, members=404, pending_owner=403, admin_bj=200, admin_tj=403, platform=403),
             target="pending", body=lambda w: {"reason": "材料不全"}),
        Case(row(anonymous=401, members=403, pending_owner=403, admin_bj=409, admin_tj=403, platform=403),
             target="approved", body=lambda w: {"reason": "材料不全"})],
    ("organizations_api.members", "GET"): [
        Case(row(anonymous=401, members=403, institute=200, colleague=200, pending_owner=403,
                 admin_bj=200, admin_tj=403, platform=200), target="approved"),
        Case(row(anonymous=401, members=404, pending_owner=200, admin_bj=200, admin_tj=403, platform=200),
             target="pending")],
    ("organizations_api.invite", "POST"): [
        Case(row(anonymous=401, signed_in=403, institute=201), target="approved",
             body=lambda w: {"email": factories.unique_email("inv-")}),
        Case(row(anonymous=401, members=404, pending_owner=201, admins=403), target="pending",
             body=lambda w: {"email": factories.unique_email("inv-")})],
}

# --- the libraries (catalog): the same rules for each of the five kinds ------------------------

KINDS = ("achievement", "need", "expert", "talent", "project")
PLURAL = {"achievement": "achievements", "need": "needs", "expert": "experts", "talent": "talents",
          "project": "projects"}
# Who may publish each kind: members of approved organisations of these kinds.
PUBLISHERS = {"achievement": ("institute", "colleague"), "need": ("enterprise", "sme"),
              "expert": ("institute", "colleague", "provider"),
              "talent": ("enterprise", "sme", "institute", "colleague"),
              "project": ("enterprise", "sme", "institute", "colleague")}


def owners(kind: str) -> tuple[str, ...]:
    """The roles whose organisation owns the entries the world builds (see World.entry_owner_id)."""
    return ("enterprise",) if kind == "need" else ("institute", "colleague")


def entry_row(kind: str, *, anonymous: Outcome, owner: Outcome, others: Outcome, admin_bj: Outcome,
              admin_tj: Outcome, platform: Outcome) -> dict[str, Outcome]:
    """Outcomes for an entry of `kind`: its organisation's members, other members (and the pending
    organisation's owner), and the three administrators."""
    given: dict[str, Outcome] = {"anonymous": anonymous, "members": others, "pending_owner": others,
                                 "admin_bj": admin_bj, "admin_tj": admin_tj, "platform": platform}
    return row(**given, **{role: owner for role in owners(kind)})


def publisher_row(kind: str, *, anonymous: Outcome, allowed: Outcome, denied: Outcome) -> dict[str, Outcome]:
    return row(anonymous=anonymous, signed_in=denied, **{role: allowed for role in PUBLISHERS[kind]})


def view_rows(kind: str, ok: Outcome = 200) -> dict[str, dict[str, Outcome]]:
    """Who sees an entry in each state: a draft stays with its organisation (and the platform);
    the region's admin sees it once submitted; another region's admin never before approval."""
    return {
        "approved": row(everyone=ok),
        "draft": entry_row(kind, anonymous=404, owner=ok, others=404, admin_bj=404, admin_tj=404, platform=ok),
        "submitted": entry_row(kind, anonymous=404, owner=ok, others=404, admin_bj=ok, admin_tj=404, platform=ok),
    }


def manage_row(kind: str, *, anonymous: Outcome, owner: Outcome, hidden: bool) -> dict[str, Outcome]:
    """An owner's action (edit, delete, submit, withdraw, revise, attachments) on an entry that the
    other members cannot see (`hidden`: 404) or can (403); administrators are told 403."""
    return entry_row(kind, anonymous=anonymous, owner=owner, others=404 if hidden else 403,
                     admin_bj=403, admin_tj=403, platform=403)


def review_row(kind: str, *, anonymous: Outcome, success: Outcome) -> dict[str, Outcome]:
    """Approve or reject a submitted entry: its region's admin only."""
    return entry_row(kind, anonymous=anonymous, owner=403, others=404, admin_bj=success, admin_tj=403,
                     platform=403)


def _entry_status(world: World, kind: str, status: str) -> str:
    from exchange.catalog.models import Entry

    entry_id, _ = world.entry(kind, status)
    with world.session() as db:
        return db.get(Entry, entry_id).status.value


def _bulk_approval_check(world: World, role: str) -> str | None:
    status = _entry_status(world, "achievement", "submitted")
    expected = "approved" if role == "admin_bj" else "submitted"
    return None if status == expected else f"bulk approval left the entry {status}, expected {expected}"


def catalog_matrix() -> dict[tuple[str, str], list[Case]]:
    pages = "achievement"  # the page routes take the kind in the path: one kind, and its rules
    page = {"kind": PLURAL[pages]}
    reason = {"reason": "资料不完整，请补充检测报告。"}
    views = view_rows(pages)
    matrix: dict[tuple[str, str], list[Case]] = {
        ("catalog.index", "GET"): [Case(row(everyone=200), values={"kind": PLURAL[k]}) for k in KINDS],
        ("catalog.export", "GET"): [Case(row(everyone=200), values={**page, "fmt": fmt}) for fmt in ("csv", "xlsx")],
        ("catalog.create", "GET"): [
            Case(publisher_row(k, anonymous=LOGIN, allowed=200, denied=403), values={"kind": PLURAL[k]})
            for k in KINDS],
        ("catalog.create", "POST"): [
            Case(publisher_row(k, anonymous=LOGIN, allowed=422, denied=403), values={"kind": PLURAL[k]},
                 note="an empty form: 422 (refused as invalid) means the writer was let in")
            for k in ("achievement", "need")],
        ("catalog.detail", "GET"): [
            *(Case(views[status], target=f"entry:{status}", kind=pages, values=page) for status in views),
            Case(view_rows("need")["draft"], target="entry:draft", kind="need", values={"kind": "needs"}),
            Case(row(everyone=404), target="missing", values=page)],
        ("catalog.edit", "GET"): [
            Case(manage_row(pages, anonymous=LOGIN, owner=200, hidden=True), target="entry:draft", kind=pages,
                 values=page),
            Case(row(anonymous=LOGIN, signed_in=403), target="entry:approved", kind=pages, values=page,
                 note="a published entry is withdrawn before it is changed")],
        ("catalog.edit", "POST"): [
            Case(manage_row(pages, anonymous=LOGIN, owner=422, hidden=True), target="entry:draft", kind=pages,
                 values=page, note="an empty form: 422 means the writer was let in"),
            Case(row(anonymous=LOGIN, signed_in=403), target="entry:approved", kind=pages, values=page)],
        ("catalog.delete", "POST"): [
            Case(manage_row(pages, anonymous=LOGIN, owner=to("catalog.mine"), hidden=True), target="entry:draft",
                 kind=pages, values=page),
            Case(row(anonymous=LOGIN, signed_in=403), target="entry:approved", kind=pages, values=page,
                 note="only a draft is deleted")],
        ("catalog.transition", "POST"): [
            Case(manage_row(pages, anonymous=LOGIN, owner=to("catalog.detail"), hidden=True), target="entry:draft",
                 kind=pages, values={**page, "action": "submit"}),
            Case(review_row(pages, anonymous=LOGIN, success=to("catalog.review_queue")), target="entry:submitted",
                 kind=pages, values={**page, "action": "approve"}),
            Case(review_row(pages, anonymous=LOGIN, success=to("catalog.review_queue")), target="entry:submitted",
                 kind=pages, values={**page, "action": "reject"}, body=lambda w: reason),
            Case(manage_row(pages, anonymous=LOGIN, owner=to("catalog.detail"), hidden=False),
                 target="entry:approved", kind=pages, values={**page, "action": "withdraw"}),
            Case(entry_row(pages, anonymous=LOGIN, owner=to("catalog.detail"), others=404, admin_bj=403,
                           admin_tj=403, platform=403),
                 target="entry:withdrawn", kind=pages, values={**page, "action": "revise"}),
            Case(entry_row(pages, anonymous=LOGIN, owner=to("catalog.detail"), others=403,
                           admin_bj=to("catalog.detail"), admin_tj=403, platform=403),
                 target="entry:approved", kind=pages, values={**page, "action": "archive"},
                 note="its organisation or its region's admin")],
        ("catalog.upload", "POST"): [
            Case(manage_row(pages, anonymous=LOGIN, owner=to("catalog.detail"), hidden=True), target="entry:draft",
                 kind=pages, values=page, files="file"),
            Case(row(anonymous=LOGIN, signed_in=403), target="entry:approved", kind=pages, values=page,
                 files="file")],
        ("catalog.remove_upload", "POST"): [
            Case(manage_row(pages, anonymous=LOGIN, owner=to("catalog.detail"), hidden=True),
                 target="entry:draft+file", kind=pages, values=page),
            Case(row(anonymous=LOGIN, signed_in=403), target="entry:approved+file", kind=pages, values=page)],
        ("catalog.download", "GET"): [
            Case(views["approved"], target="entry:approved+file", kind=pages, values=page),
            Case(views["draft"], target="entry:draft+file", kind=pages, values=page)],
        ("catalog.mine", "GET"): [Case(row(anonymous=LOGIN, signed_in=200))],
        ("catalog.review_queue", "GET"): [
            Case(row(anonymous=LOGIN, signed_in=403, admin_bj=200, admin_tj=200))],
        ("catalog.bulk_approve", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, admin_bj=to("catalog.review_queue"),
                     admin_tj=to("catalog.review_queue")),
                 target="entry:submitted", kind="achievement",
                 body=lambda w: {"entry": str(w.entry("achievement", "submitted")[0])}, check=_bulk_approval_check,
                 note="another region's admin gets the page back with the entry refused (checked in the database)")],
        ("catalog.import_library", "GET"): [Case(row(anonymous=LOGIN, signed_in=403, admin_bj=200, admin_tj=200))],
        ("catalog.import_library", "POST"): [
            Case(row(anonymous=LOGIN, signed_in=403, admin_bj=422, admin_tj=422),
                 note="an empty form: 422 means the administrator was let in")],
    }
    for kind in KINDS:
        api = f"catalog_api.{kind}"
        views = view_rows(kind)
        body = (lambda k: lambda w: entry_data(k, w.bj_district_id))(kind)
        matrix.update({
            (f"{api}_list", "GET"): [Case(row(everyone=200))],
            (f"{api}_create", "POST"): [Case(publisher_row(kind, anonymous=401, allowed=201, denied=403), body=body)],
            (f"{api}_get", "GET"): [
                *(Case(views[status], target=f"entry:{status}", kind=kind) for status in views),
                Case(row(everyone=404), target="missing")],
            (f"{api}_history", "GET"): [
                *(Case(views[status], target=f"entry:{status}", kind=kind) for status in ("approved", "draft"))],
            (f"{api}_update", "PATCH"): [
                Case(manage_row(kind, anonymous=401, owner=200, hidden=True), target="entry:draft", kind=kind,
                     body=body),
                Case(row(anonymous=401, signed_in=403), target="entry:approved", kind=kind, body=body)],
            (f"{api}_delete", "DELETE"): [
                Case(manage_row(kind, anonymous=401, owner=204, hidden=True), target="entry:draft", kind=kind),
                Case(row(anonymous=401, signed_in=403), target="entry:approved", kind=kind)],
            (f"{api}_submit", "POST"): [
                Case(manage_row(kind, anonymous=401, owner=200, hidden=True), target="entry:draft", kind=kind)],
            (f"{api}_approve", "POST"): [
                Case(review_row(kind, anonymous=401, success=200), target="entry:submitted", kind=kind)],
            (f"{api}_reject", "POST"): [
                Case(review_row(kind, anonymous=401, success=200), target="entry:submitted", kind=kind,
                     body=lambda w: reason)],
            (f"{api}_withdraw", "POST"): [
                Case(manage_row(kind, anonymous=401, owner=200, hidden=False), target="entry:approved", kind=kind)],
            (f"{api}_revise", "POST"): [
                Case(entry_row(kind, anonymous=401, owner=200, others=404, admin_bj=403, admin_tj=403, platform=403),
                     target="entry:withdrawn", kind=kind)],
            (f"{api}_archive", "POST"): [
                Case(entry_row(kind, anonymous=401, owner=200, others=403, admin_bj=200, admin_tj=403, platform=403),
                     target="entry:approved", kind=kind)],
        })
    return matrix


MATRIX.update(catalog_matrix())


# --- innovation vouchers (BJ): "sme" holds the vouchers, "provider" is the admitted provider --------------

PROGRAMS: dict[str, dict[str, Any]] = {
    "open": {}, "closed": {"status": "closed"}, "draft": {"status": "draft"},
    "reimbursement": {"redemption_mode": "reimbursement"},  # 通用: the holder pays in full and claims
    "tj": {"region": "TJ"},                                 # another region's: a BJ SME may not apply
}
VOUCHER_TARGETS = ("program", "application", "voucher", "redemption", "claim", "settlement", "provider", "objection",
                   "product")


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


def application_json(program: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"program_id": w.program(program), "service_category": "testing",
                      "planned_service": "材料成分检测与失效分析", "amount_fen": 5_000_000,
                      "justification": "新产品研发需要第三方检测。"}


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


MATRIX.update(voucher_matrix())

IGNORED_ENDPOINTS = {"static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _routes_of_the_app() -> dict[tuple[str, str], str]:
    app = make_app("sqlite://")
    return {(rule.endpoint, method): rule.rule
            for rule in app.url_map.iter_rules() if rule.endpoint not in IGNORED_ENDPOINTS
            for method in sorted((rule.methods or set()) - IGNORED_METHODS)}


APP_ROUTES = _routes_of_the_app()
ALL_ROUTES = sorted(set(APP_ROUTES) | set(MATRIX))


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


@pytest.mark.parametrize("route", ALL_ROUTES, ids=[f"{endpoint} {method}" for endpoint, method in ALL_ROUTES])
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    endpoint, method = route
    if route not in MATRIX:
        pytest.fail(f"new route without a permission rule: {method} {APP_ROUTES[route]} ({endpoint}); "
                    f"add it to MATRIX in {__name__} with the outcome for every role")
    if route not in APP_ROUTES:
        pytest.fail(f"stale permission rule: {method} {endpoint} is no longer a route of the app")

    failures: list[str] = []
    for role in ROLES:
        world = World(app, role)
        for case in MATRIX[route]:
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
