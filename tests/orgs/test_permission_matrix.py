"""The permission matrix of organisations (registration, the directory, review, members, invitations; pages and
API): every route × every role, through real HTTP. See tests/permission_matrix.py for how a case reads and
runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.permission_matrix import (
    LOGIN,
    PASSWORD,
    Case,
    check_route,
    edit_form,
    edit_json,
    registration_form,
    registration_json,
    row,
    to,
)

MATRIX: dict[tuple[str, str], list[Case]] = {
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
    ("organizations_api.register", "POST"): [Case(row(everyone=202), body=registration_json)],
    ("organizations_api.list_organizations", "GET"): [Case(row(everyone=200))],
    ("organizations_api.get_organization", "GET"): [
        Case(row(everyone=200), target="approved"),
        Case(row(anonymous=404, members=404, pending_owner=200, admins=200), target="pending"),
        Case(row(everyone=404), target="missing")],
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


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
