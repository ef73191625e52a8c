"""The audit trail: append-only rows of who did what, when and from where."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from exchange.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40), default="")
    target_id: Mapped[str] = mapped_column(sa.String(40), default="")
    ip_address: Mapped[str] = mapped_column(sa.String(45), default="")
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class AuditTrailIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: object, instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditTrailIsAppendOnly("audit events are never changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    # session.execute(update(AuditEvent)) / delete(AuditEvent) bypass the flush above.
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, AuditEvent):
        raise AuditTrailIsAppendOnly("audit events are never changed or deleted")
