"""The permission matrix of accounts (logging in and out, passwords, tokens; pages and API): every route × every
role, through real HTTP. See tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    LOGIN,
    NEW_PASSWORD,
    PASSWORD,
    Case,
    check_route,
    new_password_form,
    row,
    to,
)

MATRIX: dict[tuple[str, str], list[Case]] = {
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
    ("auth_api.create_token", "POST"): [Case(row(everyone=201),
                                             body=lambda w: {"email": w.bystander_email, "password": PASSWORD})],
    # API: the caller's own account
    ("me_api.me", "GET"): [Case(row(anonymous=401, signed_in=200))],
    ("auth_api.list_tokens", "GET"): [Case(row(anonymous=401, signed_in=200))],
    ("auth_api.revoke_token", "DELETE"): [
        Case(row(anonymous=401, signed_in=204), target="own_token"),
        Case(row(anonymous=401, signed_in=404), target="foreign_token")],
}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
