"""The unit of work: one transaction per use case, committed once if it succeeds and rolled back if it
fails, with the effects that must wait for that outcome run after it.

A service (`@service`) is a unit of work. A service called by another joins the caller's unit: the
outermost call commits once, and an error anywhere rolls back the whole, even if a caller catches it
(a part that may fail on its own runs in a `savepoint`). Code that is not a service but changes data
(the worker, the command line, seeding, the web layer's audit of refusals) opens a unit itself with
`with unit_of_work(session):`. Nothing else in `exchange/` commits or rolls back.

Effects that must not happen unless the data they belong to is kept (deleting a removed attachment's
file, waking the worker) are `after_commit` actions; undoing what a failed call did outside the database
(a stored upload) is an `after_rollback` action. A failing action is logged: the outcome stands.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from exchange import policy

log = logging.getLogger(__name__)

_KEY = "unit_of_work"
Effect = Callable[[], object]


class UnitOfWorkFailed(RuntimeError):
    """A service inside the unit failed and its caller carried on: nothing of the unit is kept."""


class UnitOfWork:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.wrote = False  # something was flushed or a statement other than a SELECT ran
        self.failed = False  # a service inside raised and no savepoint took the error back
        self._after_commit: list[Effect] = []
        self._after_rollback: list[Effect] = []

    def after_commit(self, action: Effect) -> None:
        if action not in self._after_commit:
            self._after_commit.append(action)

    def after_rollback(self, action: Effect) -> None:
        if action not in self._after_rollback:
            self._after_rollback.append(action)

    def _commit(self) -> list[Effect]:
        if self.failed:
            raise UnitOfWorkFailed("a service of this unit of work failed; its changes are not kept")
        s = self.session
        # A unit that only read leaves its transaction open: a commit would expire every object the
        # caller is about to show, and reload each one.
        if self.wrote or s.new or s.dirty or s.deleted:
            s.commit()
        return self._after_commit

    def _rollback(self) -> list[Effect]:
        self.session.rollback()
        return self._after_rollback


def _run(actions: list[Effect], outcome: str) -> None:
    for action in actions:
        try:
            action()
        except Exception:  # the outcome is decided; one failing effect must not hide it or stop the others
            log.exception("%s action %r failed", outcome, action)


@contextmanager
def unit_of_work(session: Session) -> Iterator[UnitOfWork]:
    """The unit of work of the session: a new one, or the one already running (which commits it)."""
    running: UnitOfWork | None = session.info.get(_KEY)
    if running is not None:
        try:
            yield running
        except BaseException:
            running.failed = True
            raise
        return
    unit = session.info[_KEY] = UnitOfWork(session)
    try:
        yield unit
        actions = unit._commit()
    except BaseException:
        del session.info[_KEY]  # before the actions: they may open a unit of their own
        _run(unit._rollback(), "after-rollback")
        raise
    del session.info[_KEY]
    _run(actions, "after-commit")


def unit_of_work_running(session: Session) -> bool:
    return _KEY in session.info


def current(session: Session) -> UnitOfWork:
    unit: UnitOfWork | None = session.info.get(_KEY)
    if unit is None:
        raise RuntimeError("no unit of work is running on this session")
    return unit


def after_commit(session: Session, action: Effect) -> None:
    """Run the action once the running unit of work has committed (never if it rolls back)."""
    current(session).after_commit(action)


def after_rollback(session: Session, action: Effect) -> None:
    """Run the action once the running unit of work has rolled back (never if it commits)."""
    current(session).after_rollback(action)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A part of the unit of work that may fail on its own: its error undoes only what the part did
    (its after-rollback actions run at once) and propagates; the rest of the unit stands."""
    unit = current(session)
    failed, commit_mark, rollback_mark = unit.failed, len(unit._after_commit), len(unit._after_rollback)
    nested: SessionTransaction = session.begin_nested()
    try:
        yield
        session.flush()  # a constraint the part breaks fails here, inside it
    except BaseException:
        nested.rollback()
        undo = unit._after_rollback[rollback_mark:]
        del unit._after_commit[commit_mark:], unit._after_rollback[rollback_mark:]
        unit.failed = failed
        _run(undo, "after-rollback")
        raise
    nested.commit()


def begin_immediate(session: Session) -> None:
    """Make the running unit of work a writer from its first read on SQLite (BEGIN IMMEDIATE takes the
    database's write lock), so that what it reads is still true when it writes; nothing elsewhere.

    SQLite has no row locks and silently drops FOR UPDATE. The unit must not have written yet: the
    transaction it has (a read snapshot, e.g. of the request's user) is ended first.
    """
    if current(session).wrote:
        raise RuntimeError("BEGIN IMMEDIATE must come before the unit of work writes anything")
    if session.get_bind().dialect.name != "sqlite":
        return
    session.commit()
    session.execute(sa.text("BEGIN IMMEDIATE"))


def abandon(session: Session) -> None:
    """Roll back what a failed request left in the session outside any unit of work (it read, or it broke
    off mid-statement), so that its error page can still read and its refusal can be recorded."""
    if session.info.get(_KEY) is not None:
        raise RuntimeError("a unit of work is running: it rolls back itself")
    session.rollback()


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, flush_context: Any) -> None:
    unit = session.info.get(_KEY)
    if unit is not None:
        unit.wrote = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        unit = state.session.info.get(_KEY)
        if unit is not None:
            unit.wrote = True


P = ParamSpec("P")
R = TypeVar("R")


def service(function: Callable[P, R]) -> Callable[P, R]:
    """A use case, called with the session first: one unit of work that must consult the policy before
    it returns (a service that never asked fails, and nothing of it is kept)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = args[0] if args else kwargs.get("session")
        if not isinstance(session, Session):
            raise TypeError(f"{function.__qualname__} must be called with the database session first")
        with unit_of_work(session), policy.checked_by(function.__qualname__):
            return function(*args, **kwargs)

    return wrapper
