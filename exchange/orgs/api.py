"""API face of organisations: register, list, read, correct, review, invite."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _

from exchange.api import BEARER_SECURITY, Blueprint, login_required
from exchange.api.fields import REGIONS, Id, Text, values_of
from exchange.api.schemas import MessageSchema, PageQuerySchema, RequestSchema, page_body, page_of, page_request
from exchange.extensions import db, limiter
from exchange.orgs import services
from exchange.orgs.models import OrganizationKind
from exchange.web import request_actor

bp = Blueprint("organizations_api", __name__, url_prefix="/api/v1/organizations",
               description="Organisations and their regional review")


class RegistrationSchema(RequestSchema):
    # Text, not choices: the service says what is wrong with a kind, region or credit code.
    name = Text(required=True, metadata={"example": "天津海河先进制造研究院"})
    credit_code = Text(required=True, metadata={"description": "统一社会信用代码 (18 characters)"})
    kind = Text(required=True, metadata={"enum": values_of(OrganizationKind)})
    region = Text(required=True, metadata={"enum": REGIONS})
    # strict: 1.5 or "3" is refused, not quietly read as a district id
    district = Id(required=True, metadata={"description": "A district id from GET /api/v1/regions"})
    description = Text()
    website = Text()
    member_email = Text(required=True)
    member_name = Text(required=True)
    password = ma.fields.String(required=True)  # any character but NUL, which the input layer refuses


class ChangesSchema(RequestSchema):
    name = Text(required=True)
    district = Id(required=True)
    description = Text()
    website = Text()


class RejectionSchema(RequestSchema):
    reason = Text(required=True)


class InvitationRequestSchema(RequestSchema):
    email = Text(required=True)


class InvitationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


class ListQuerySchema(PageQuerySchema):
    region = Text()
    kind = Text()
    status = Text()
    q = Text()


class DistrictRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class OrganizationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    credit_code = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": values_of(OrganizationKind)})
    region = ma.fields.String(attribute="region_code", required=True)
    district = ma.fields.Nested(DistrictRefSchema, required=True)
    description = ma.fields.String()
    website = ma.fields.String()
    status = ma.fields.String(required=True)
    rejection_reason = ma.fields.String()
    created_at = ma.fields.AwareDateTime(required=True)
    reviewed_at = ma.fields.AwareDateTime(allow_none=True)


class MemberSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    is_org_owner = ma.fields.Boolean(required=True)


@bp.post("")
@limiter.limit("20 per hour", methods=["POST"])
@bp.arguments(RegistrationSchema)
@bp.response(202, MessageSchema)
def register(body: dict[str, Any]) -> Any:
    """Register an organisation and its first member; it starts pending review by its region's admin.

    The answer is the same whether or not the e-mail already has an account (that address is told
    by mail); log in and read GET /api/v1/me for the organisation's id and status.
    """
    services.register_organization(db.session, request_actor(), services.OrganizationApplication(
        **{key: value for key, value in body.items() if key != "district"}, district_id=body["district"]))
    return {"message": _("Registration received. Check your mailbox; you can log in with your e-mail address.")}


@bp.get("")
@bp.arguments(ListQuerySchema, location="query")
@bp.response(200, page_of(OrganizationSchema))
def list_organizations(args: dict[str, Any]) -> Any:
    """Organisations the caller may see: approved ones, their own, and all for administrators."""
    filters = services.OrganizationFilters(region=args.get("region"), kind=args.get("kind"),
                                           status=args.get("status"), q=args.get("q"))
    return page_body(services.list_organizations(db.session, request_actor(), filters, page_request(args)))


@bp.get("/<int:organization_id>")
@bp.response(200, OrganizationSchema)
def get_organization(organization_id: int) -> Any:
    return services.get_organization(db.session, request_actor(), organization_id)


@bp.patch("/<int:organization_id>")
@login_required
@bp.arguments(ChangesSchema)
@bp.response(200, OrganizationSchema)
@bp.doc(security=BEARER_SECURITY)
def update_organization(body: dict[str, Any], organization_id: int) -> Any:
    """The owner corrects an unapproved registration; a rejected one goes back to review."""
    changes = services.OrganizationChanges(name=body["name"], district_id=body["district"],
                                           description=body.get("description", ""), website=body.get("website", ""))
    return services.update_organization(db.session, request_actor(), organization_id, changes)


@bp.post("/<int:organization_id>/approve")
@login_required
@bp.response(200, OrganizationSchema)
@bp.doc(security=BEARER_SECURITY)
def approve(organization_id: int) -> Any:
    """Approve a pending organisation (an administrator of its region only)."""
    return services.approve_organization(db.session, request_actor(), organization_id)


@bp.post("/<int:organization_id>/reject")
@login_required
@bp.arguments(RejectionSchema)
@bp.response(200, OrganizationSchema)
@bp.doc(security=BEARER_SECURITY)
def reject(body: dict[str, Any], organization_id: int) -> Any:
    """Reject a pending organisation with a reason the applicant sees."""
    return services.reject_organization(db.session, request_actor(), organization_id, body["reason"])


@bp.get("/<int:organization_id>/members")
@login_required
@bp.response(200, MemberSchema(many=True))
@bp.doc(security=BEARER_SECURITY)
def members(organization_id: int) -> Any:
    return services.list_members(db.session, request_actor(), organization_id)


@bp.post("/<int:organization_id>/invitations")
@login_required
@bp.arguments(InvitationRequestSchema)
@bp.response(201, InvitationSchema)
@bp.doc(security=BEARER_SECURITY)
def invite(body: dict[str, Any], organization_id: int) -> Any:
    """The owner invites a colleague by e-mail."""
    return services.invite_member(db.session, request_actor(), organization_id, body["email"])
