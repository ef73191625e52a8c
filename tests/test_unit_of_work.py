"""One unit of work per service: committed once if it succeeds, rolled back if it fails, with the effects
that wait for that outcome run after it; nothing else in the code commits or rolls back."""
from __future__ import annotations

import ast
import io
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from exchange import policy
from exchange.catalog.attachments import Upload, add_attachment, remove_attachment, upload_dir
from exchange.catalog.models import Attachment, EntryKind
from exchange.errors import Conflict
from exchange.notifications.models import OutboxMessage
from exchange.notifications.services import WAKE_KEY, enqueue_mail
from exchange.unit_of_work import (
    UnitOfWorkFailed,
    after_commit,
    after_rollback,
    begin_immediate,
    savepoint,
    service,
    unit_of_work,
)
from tests import factories

EXCHANGE = Path(__file__).resolve().parents[1] / "exchange"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def topics(session) -> list[str]:
    return list(session.scalars(sa.select(OutboxMessage.topic).order_by(OutboxMessage.id)))


def stage(session, topic: str) -> None:
    session.add(OutboxMessage(topic=topic, payload={}))
    session.flush()


@pytest.fixture
def commits(db) -> list[int]:
    """One item per transaction the session commits (savepoints released are not commits)."""
    seen: list[int] = []

    def count(session) -> None:
        seen.append(1)

    event.listen(db, "after_commit", count)
    yield seen
    event.remove(db, "after_commit", count)


@service
def write(session, topic: str, *, fail: bool = False, action=None, undo=None) -> None:
    policy.mark_checked()
    stage(session, topic)
    if action is not None:
        after_commit(session, action)
    if undo is not None:
        after_rollback(session, undo)
    if fail:
        raise Conflict("refused")


def test_a_service_that_succeeds_commits_what_it_staged(db, app_db, commits):
    write(db, "kept")

    assert len(commits) == 1
    with app_db() as other:
        assert topics(other) == ["kept"]


def test_a_service_that_fails_keeps_nothing(db, app_db):
    with pytest.raises(Conflict):
        write(db, "lost", fail=True)

    assert topics(db) == []
    with app_db() as other:
        assert topics(other) == []


def test_a_service_that_only_reads_commits_nothing(db, commits):
    @service
    def read(session) -> list[str]:
        policy.mark_checked()
        return topics(session)

    assert read(db) == []
    assert commits == []


def test_a_service_that_never_asked_the_policy_keeps_nothing(db):
    @service
    def careless(session) -> None:
        stage(session, "unchecked")

    with pytest.raises(policy.PolicyNotChecked):
        careless(db)
    assert topics(db) == []


def test_after_commit_actions_run_after_the_commit_and_only_then(db, app_db):
    seen_by_the_action: list[list[str]] = []

    def look() -> None:
        with app_db() as other:  # another connection sees only what is committed
            seen_by_the_action.append(topics(other))

    write(db, "kept", action=look)
    with pytest.raises(Conflict):
        write(db, "lost", fail=True, action=look)

    assert seen_by_the_action == [["kept"]]


def test_after_rollback_actions_run_after_a_failure_and_only_then(db):
    undone: list[list[str]] = []

    def undo() -> None:
        undone.append(topics(db))

    write(db, "kept", undo=undo)
    with pytest.raises(Conflict):
        write(db, "lost", fail=True, undo=undo)

    assert undone == [["kept"]]  # run once, after the rollback took "lost" away


def test_a_failing_action_is_logged_and_the_outcome_stands(db, caplog):
    def broken() -> None:
        raise OSError("disk gone")

    write(db, "kept", action=broken)

    assert topics(db) == ["kept"]
    assert "disk gone" in caplog.text


def test_nested_services_are_one_unit_committed_once_by_the_outermost(db, app_db, commits):
    order: list[str] = []

    @service
    def outer(session) -> None:
        policy.mark_checked()
        write(session, "first", action=lambda: order.append("inner's action"))
        assert commits == []  # the inner service did not commit
        write(session, "second")
        after_commit(session, lambda: order.append("outer's action"))

    outer(db)

    assert len(commits) == 1
    assert order == ["inner's action", "outer's action"]
    with app_db() as other:
        assert topics(other) == ["first", "second"]


def test_an_error_in_a_nested_service_rolls_back_the_whole(db):
    undone: list[str] = []

    @service
    def outer(session) -> None:
        policy.mark_checked()
        write(session, "first", undo=lambda: undone.append("first"))
        write(session, "second", fail=True)

    with pytest.raises(Conflict):
        outer(db)

    assert topics(db) == []
    assert undone == ["first"]


def test_a_caller_that_swallows_a_nested_failure_cannot_commit_half_of_it(db):
    @service
    def outer(session) -> None:
        policy.mark_checked()
        stage(session, "first")
        try:
            write(session, "second", fail=True)
        except Conflict:
            pass

    with pytest.raises(UnitOfWorkFailed):
        outer(db)
    assert topics(db) == []


def test_a_savepoint_takes_back_only_the_part_that_failed(db, app_db):
    undone: list[str] = []
    actions: list[str] = []

    @service
    def outer(session) -> None:
        policy.mark_checked()
        stage(session, "kept")
        with pytest.raises(Conflict), savepoint(session):
            write(session, "lost", fail=True, action=lambda: actions.append("lost"),
                  undo=lambda: undone.append("lost"))
        assert undone == ["lost"]  # at once, not at the end of the unit

    outer(db)

    assert actions == []
    with app_db() as other:
        assert topics(other) == ["kept"]


def test_code_outside_a_service_opens_a_unit_itself(db, app_db):
    with unit_of_work(db):
        stage(db, "kept")
    with pytest.raises(ZeroDivisionError), unit_of_work(db):
        stage(db, "lost")
        1 / 0  # noqa: B018

    with app_db() as other:
        assert topics(other) == ["kept"]


def test_a_money_transaction_must_begin_before_its_unit_writes(db):
    with pytest.raises(RuntimeError, match="before the unit of work writes"), unit_of_work(db):
        stage(db, "written first")
        begin_immediate(db)
    assert topics(db) == []


def test_a_commit_that_staged_outbox_messages_wakes_the_in_process_worker(app, db):
    wake = app.extensions[WAKE_KEY] = threading.Event()

    @service
    def mail(session, *, fail: bool) -> None:
        policy.mark_checked()
        enqueue_mail(session, "someone@example.cn", "主题", "正文")
        session.flush()
        if fail:
            raise Conflict("refused")

    with pytest.raises(Conflict):
        mail(db, fail=True)
    assert not wake.is_set()
    mail(db, fail=False)
    assert wake.is_set()


# The stored files of attachments follow the fate of their rows ------------------------------------

@pytest.fixture
def draft_and_owner(db):
    owner = factories.organization(db, kind="institute", region="TJ").owner
    return factories.entry(db, "achievement", status="draft", owner=owner), owner


def test_the_file_of_an_attachment_that_is_not_saved_is_removed(db, draft_and_owner, monkeypatch):
    draft, owner = draft_and_owner

    def failing_audit(*args, **kwargs) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr("exchange.catalog.attachments.record", failing_audit)
    with pytest.raises(RuntimeError):
        add_attachment(db, owner, EntryKind.ACHIEVEMENT, draft.id, Upload("报告.pdf", io.BytesIO(PDF)))

    assert list(upload_dir().iterdir()) == []
    assert db.scalars(sa.select(Attachment)).all() == []


def test_the_file_of_a_removed_attachment_is_deleted_once_the_removal_is_committed(db, draft_and_owner):
    draft, owner = draft_and_owner
    attachment = add_attachment(db, owner, EntryKind.ACHIEVEMENT, draft.id, Upload("报告.pdf", io.BytesIO(PDF)))
    stored = upload_dir() / attachment.stored_name
    assert stored.read_bytes() == PDF

    remove_attachment(db, owner, EntryKind.ACHIEVEMENT, draft.id, attachment.id)

    assert not stored.exists()


# The rule stays kept ------------------------------------------------------------------------------

def test_nothing_but_the_unit_of_work_commits_or_rolls_back():
    offenders = []
    for path in sorted(EXCHANGE.rglob("*.py")):
        if path.name == "unit_of_work.py" and path.parent == EXCHANGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("commit", "rollback")):
                offenders.append(f"{path.relative_to(EXCHANGE.parent)}:{node.lineno} .{node.func.attr}()")
    assert offenders == []
