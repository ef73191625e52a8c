"""Use cases of the in-app inbox: read one's own messages."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.db import utcnow
from exchange.notifications.models import Notification
from exchange.pagination import Page, PageRequest, paginate
from exchange.policy import Action, Actor, authorize
from exchange.unit_of_work import service


@service
def list_notifications(session: Session, actor: Actor, page: PageRequest) -> Page[Notification]:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    return paginate(session, sa.select(Notification).where(Notification.user_id == actor.id)
                    .order_by(Notification.id.desc()), page)


@service
def unread_count(session: Session, actor: Actor) -> int:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


@service
def mark_all_read(session: Session, actor: Actor) -> None:
    authorize(actor, Action.ACCOUNT_MANAGE_OWN)
    session.execute(sa.update(Notification).where(Notification.user_id == actor.id,
                                                   Notification.read_at.is_(None)).values(read_at=utcnow()))
