"""What the members of an organisation are told about its vouchers, claims and settlements."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from exchange.accounts.models import User
from exchange.links import site_path
from exchange.notifications.services import notify
from exchange.vouchers.money import format_fen

# event → (subject, body, (endpoint, value names)); texts are built in each recipient's language.
MESSAGES: dict[str, tuple[Callable[[Any], str], Callable[[Any], str], Callable[[Any], tuple[str, dict]]]] = {
    "voucher.issued": (
        lambda v: _("Voucher issued: %(code)s", code=v.code),
        lambda v: _("Your application was approved: voucher %(code)s of %(face)s, valid until %(date)s.",
                    code=v.code, face=format_fen(v.face_fen), date=v.expires_at.date().isoformat()),
        lambda v: ("vouchers.voucher_detail", {"code": v.code})),
    "voucher.application_rejected": (
        lambda a: _("Voucher application not approved"),
        lambda a: _("Your application for “%(service)s” was not approved. Reason: %(reason)s",
                    service=a.planned_service, reason=a.rejection_reason),
        lambda a: ("vouchers.wallet", {})),
    "voucher.revoked": (
        lambda v: _("Voucher revoked: %(code)s", code=v.code),
        lambda v: _("Voucher %(code)s has been revoked. Reason: %(reason)s", code=v.code,
                    reason=v.revocation_reason),
        lambda v: ("vouchers.voucher_detail", {"code": v.code})),
    "voucher.expiring": (
        lambda v: _("Voucher expires soon: %(code)s", code=v.code),
        lambda v: _("Voucher %(code)s expires on %(date)s; what is left on it then returns to the programme.",
                    code=v.code, date=v.expires_at.date().isoformat()),
        lambda v: ("vouchers.voucher_detail", {"code": v.code})),
    "voucher.claim_approved": (
        lambda r: _("Reimbursement approved"),
        lambda r: _("Your claim for “%(service)s” was approved: the voucher covers %(covered)s.",
                    service=r.service_description, covered=format_fen(r.covered_fen)),
        lambda r: ("vouchers.redemption_detail", {"redemption_id": r.id})),
    "voucher.claim_rejected": (
        lambda r: _("Reimbursement claim not approved"),
        lambda r: _("Your claim for “%(service)s” was not approved. Reason: %(reason)s",
                    service=r.service_description, reason=r.rejection_reason),
        lambda r: ("vouchers.redemption_detail", {"redemption_id": r.id})),
    "settlement.paid": (
        lambda s: _("Settlement paid: %(amount)s", amount=format_fen(s.amount_fen)),
        lambda s: _("Settlement request %(id)s of %(amount)s has been approved for payment.",
                    id=s.id, amount=format_fen(s.amount_fen)),
        lambda s: ("vouchers.settlement_detail", {"settlement_id": s.id})),
    "settlement.rejected": (
        lambda s: _("Settlement request not approved"),
        lambda s: _("Settlement request %(id)s was not approved. Reason: %(reason)s", id=s.id,
                    reason=s.rejection_reason),
        lambda s: ("vouchers.settlement_detail", {"settlement_id": s.id})),
}


def notify_organization(session: Session, organization_id: int, event: str, subject_object: Any) -> None:
    subject, body, target = MESSAGES[event]
    endpoint, values = target(subject_object)
    link = site_path(endpoint, **values)
    member_ids = session.scalars(sa.select(User.id).where(User.organization_id == organization_id,
                                                          User.is_disabled.is_(False)))
    for user_id in member_ids:
        notify(session, user_id, lambda: subject(subject_object), lambda: body(subject_object), link)
