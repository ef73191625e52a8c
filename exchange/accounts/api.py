"""API faces of accounts: bearer tokens and the caller's own profile."""
from __future__ import annotations

from typing import Any

import marshmallow as ma

from exchange import policy
from exchange.accounts import services
from exchange.accounts.limits import login_limits
from exchange.accounts.models import Visitor
from exchange.api import BEARER_SECURITY, Blueprint
from exchange.api.fields import Text
from exchange.api.schemas import RequestSchema
from exchange.extensions import db
from exchange.web import request_actor

auth_bp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="Bearer tokens")
me_bp = Blueprint("me_api", __name__, url_prefix="/api/v1/me", description="The caller's own account")


class TokenRequestSchema(RequestSchema):
    # E-mail and password as sent: the login answers the same for every address it does not know.
    email = ma.fields.String(required=True, metadata={"example": "institute.bj@demo.jjj-exchange.cn"})
    password = ma.fields.String(required=True)
    name = Text(metadata={"description": "A label to recognise the token by"})


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True, metadata={"description": "The first characters of the token"})
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = ma.fields.String(required=True, metadata={"description": "Shown once: send as 'Authorization: Bearer <token>'"})


class OrganizationSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    region = ma.fields.String(attribute="region_code", required=True)


class ProfileSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    region = ma.fields.String(attribute="region_code", allow_none=True)
    is_org_owner = ma.fields.Boolean(required=True)
    organization = ma.fields.Nested(OrganizationSummarySchema, allow_none=True)
    can_publish = ma.fields.Method("get_can_publish", dump_only=True)

    def get_can_publish(self, user: Any) -> bool:
        return user.organization is not None and policy.can(user, policy.Action.ORGANIZATION_PUBLISH,
                                                            user.organization)


@auth_bp.post("/tokens")
@login_limits
@auth_bp.arguments(TokenRequestSchema)
@auth_bp.response(201, IssuedTokenSchema)
def create_token(body: dict[str, Any]) -> Any:
    """Exchange an e-mail and password for a bearer token."""
    user = services.authenticate(db.session, Visitor(), body["email"], body["password"])
    issued = services.create_api_token(db.session, user, body.get("name"))
    return {**{name: getattr(issued.token, name) for name in TokenSchema().fields}, "token": issued.secret}


@auth_bp.get("/tokens")
@auth_bp.response(200, TokenSchema(many=True))
@auth_bp.doc(security=BEARER_SECURITY)
def list_tokens() -> Any:
    """The caller's tokens, newest first (never the secrets)."""
    return services.list_api_tokens(db.session, request_actor())


@auth_bp.delete("/tokens/<int:token_id>")
@auth_bp.response(204)
@auth_bp.doc(security=BEARER_SECURITY)
def revoke_token(token_id: int) -> Any:
    """Revoke one of the caller's tokens; it stops working at once."""
    services.revoke_api_token(db.session, request_actor(), token_id)
    return ""


@me_bp.get("")
@me_bp.response(200, ProfileSchema)
@me_bp.doc(security=BEARER_SECURITY)
def me() -> Any:
    """Who the caller is, their organisation and whether they may publish."""
    return services.own_profile(db.session, request_actor())
