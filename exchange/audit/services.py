"""Recording audit events; the same line also goes to the log, with CR/LF escaped."""
from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy.orm import Session

from exchange.audit.models import AuditEvent

log = logging.getLogger("exchange.audit")

SECRET_KEYS = frozenset({"password", "token", "secret", "password_hash", "new_password"})


# The address of the client whose request is being served, set by the web layer for the request's
# duration (exchange.web.init_security); empty in the worker and on the command line.
_client_address: ContextVar[str] = ContextVar("audit_client_address", default="")


def set_client_address(address: str | None) -> Token[str]:
    return _client_address.set((address or "")[:45])


def reset_client_address(token: Token[str]) -> None:
    _client_address.reset(token)


def client_address() -> str:
    return _client_address.get()


def escape_for_log(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def record(session: Session, action: str, actor_id: int | None, target: Any = None,
           **details: Any) -> AuditEvent:
    """Stage an audit event in the caller's transaction; secrets are never recorded."""
    clean = {key: value for key, value in details.items() if key not in SECRET_KEYS}
    audit_event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "id", "") or "") if target is not None else "",
        ip_address=client_address(),
        details=clean,
    )
    session.add(audit_event)
    log.info(escape_for_log(
        f"audit action={action} actor={actor_id} target={audit_event.target_type}:{audit_event.target_id} "
        f"ip={audit_event.ip_address} details={json.dumps(clean, ensure_ascii=False, default=str)}"
    ))
    return audit_event
