"""The permission matrix of the five libraries (catalog), each kind by the same rules: every route × every role,
through real HTTP. See tests/permission_matrix.py for how a case reads and runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    LOGIN,
    Case,
    Outcome,
    World,
    check_route,
    entry_data,
    row,
    to,
)

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


MATRIX = catalog_matrix()


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda route: " ".join(route))
def test_permission_matrix(route: tuple[str, str], app: Any, new_browser: Any) -> None:
    check_route(route, MATRIX[route], app, new_browser)
