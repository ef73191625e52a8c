"""Pages of organisations: registration, directory, detail, correction, review, invitations."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from exchange.errors import ValidationFailed
from exchange.extensions import db, limiter
from exchange.forms import flash_error
from exchange.orgs import services
from exchange.orgs.forms import AcceptInvitationForm, InvitationForm, OrganizationEditForm, RegistrationForm, RejectionForm
from exchange.orgs.models import KIND_LABELS
from exchange.pagination import PageRequest
from exchange.taxonomy.services import list_regions
from exchange.web import request_actor

bp = Blueprint("orgs", __name__)


@bp.route("/organizations/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> Any:
    regions = list_regions(db.session)
    form = RegistrationForm().with_choices(regions)
    if form.validate_on_submit():
        application = services.OrganizationApplication(
            name=form.name.data, credit_code=form.credit_code.data, kind=form.kind.data, region=form.region.data,
            district_id=form.district.data, description=form.description.data or "",
            website=form.website.data or "", member_email=form.member_email.data,
            member_name=form.member_name.data, password=form.password.data)
        try:
            services.register_organization(db.session, request_actor(), application)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            return redirect(url_for("orgs.registered"))
    return render_template("orgs/register.html", form=form), 422 if form.errors or form.form_errors else 200


@bp.get("/organizations/registered")
def registered() -> Any:
    return render_template("orgs/registered.html")


@bp.get("/organizations")
def directory() -> Any:
    filters = services.OrganizationFilters.from_args(request.args, "region", "kind", "q")
    page = services.list_organizations(db.session, request_actor(), filters, PageRequest.from_args(request.args))
    return render_template("orgs/directory.html", page=page, filters=filters, regions=list_regions(db.session),
                           kinds=KIND_LABELS)


@bp.get("/organizations/<int:organization_id>")
def detail(organization_id: int) -> Any:
    from exchange.catalog.services import organization_entries

    actor = request_actor()
    profile = services.organization_profile(db.session, actor, organization_id)
    return render_template("orgs/detail.html", organization=profile.organization, members=profile.members,
                           entries=organization_entries(db.session, actor, organization_id),
                           invitation_form=InvitationForm(), rejection_form=RejectionForm())


@bp.route("/organizations/<int:organization_id>/edit", methods=["GET", "POST"])
@login_required
def edit(organization_id: int) -> Any:
    actor = request_actor()
    organization = services.organization_for_edit(db.session, actor, organization_id)
    form = OrganizationEditForm(obj=organization if request.method == "GET" else None,
                                district=str(organization.district_id)).with_choices(organization.region)
    if form.validate_on_submit():
        changes = services.OrganizationChanges(name=form.name.data, district_id=form.district.data,
                                               description=form.description.data or "",
                                               website=form.website.data or "")
        try:
            services.update_organization(db.session, actor, organization_id, changes)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("orgs.detail", organization_id=organization_id))
    return render_template("orgs/edit.html", form=form, organization=organization), 422 if form.errors else 200


@bp.post("/organizations/<int:organization_id>/invitations")
@login_required
def invite(organization_id: int) -> Any:
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            services.invite_member(db.session, request_actor(), organization_id, form.email.data)
        except ValidationFailed as error:
            flash_error(error)
        else:
            flash(_("The invitation has been sent."), "success")
    else:
        flash(" ".join(m for messages in form.errors.values() for m in messages), "error")
    return redirect(url_for("orgs.detail", organization_id=organization_id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    invitation = services.find_invitation(db.session, request_actor(), token)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(db.session, request_actor(), token, form.display_name.data, form.password.data)
        except ValidationFailed as error:
            form.show_errors(error)
        else:
            flash(_("Your account has been created. Please log in."), "success")
            return redirect(url_for("accounts.login"))
    return (render_template("orgs/accept_invitation.html", form=form, invitation=invitation),
            422 if form.errors else 200)


@bp.get("/review/organizations")
@login_required
def review_queue() -> Any:
    page = services.review_queue(db.session, request_actor(), PageRequest.from_args(request.args))
    return render_template("orgs/review_queue.html", page=page, rejection_form=RejectionForm())


@bp.post("/organizations/<int:organization_id>/approve")
@login_required
def approve(organization_id: int) -> Any:
    organization = services.approve_organization(db.session, request_actor(), organization_id)
    flash(_("%(name)s has been approved.", name=organization.name), "success")
    return redirect(url_for("orgs.review_queue"))


@bp.post("/organizations/<int:organization_id>/reject")
@login_required
def reject(organization_id: int) -> Any:
    form = RejectionForm()
    try:
        organization = services.reject_organization(db.session, request_actor(), organization_id, form.reason.data)
    except ValidationFailed as error:
        flash_error(error)
        return redirect(url_for("orgs.detail", organization_id=organization_id))
    flash(_("%(name)s has been rejected.", name=organization.name), "success")
    return redirect(url_for("orgs.review_queue"))
