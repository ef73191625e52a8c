from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from exchange.accounts.models import DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH
from exchange.forms import ServiceForm
from exchange.orgs.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    WEBSITE_MAX_LENGTH,
    KIND_LABELS,
)
from exchange.taxonomy.models import Region


def region_choices(regions: list[Region]) -> list[tuple[str, str]]:
    return [("", _l("Choose a region")), *((region.code, region.name) for region in regions)]


def district_choices(regions: list[Region]) -> dict[str, list[tuple[str, str]]]:
    """Districts grouped by region, rendered as <optgroup>s."""
    return {region.name: [(str(d.id), d.name) for d in region.districts] for region in regions}


class OrganizationDetailsForm(ServiceForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    district = SelectField(_l("District or city"), validators=[DataRequired()], validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX_LENGTH)],
                                render_kw={"rows": 4, "data-count": DESCRIPTION_MAX_LENGTH})
    website = StringField(_l("Website"), validators=[Optional(), Length(max=WEBSITE_MAX_LENGTH)],
                          render_kw={"placeholder": "https://"})


class RegistrationForm(OrganizationDetailsForm):
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=18)],
                              render_kw={"maxlength": 18, "autocomplete": "off", "spellcheck": "false"},
                              description=_l("18 characters, as on the business licence."))
    kind = SelectField(_l("Kind of organisation"), validators=[DataRequired()], validate_choice=False,
                       choices=[("", _l("Choose a kind")), *((k.value, label) for k, label in KIND_LABELS.items())])
    region = SelectField(_l("Region"), validators=[DataRequired()], validate_choice=False)
    member_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX_LENGTH)],
                              render_kw={"autocomplete": "name"})
    member_email = EmailField(_l("Your e-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)],
                              render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("At least 10 characters; a phrase you remember is best."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})

    def with_choices(self, regions: list[Region]) -> RegistrationForm:
        self.region.choices = region_choices(regions)
        self.district.choices = district_choices(regions)
        return self


class OrganizationEditForm(OrganizationDetailsForm):
    def with_choices(self, region: Region) -> OrganizationEditForm:
        self.district.choices = [(str(d.id), d.name) for d in region.districts]
        return self


class RejectionForm(ServiceForm):
    reason = TextAreaField(_l("Reason for the applicant"), validators=[DataRequired(), Length(max=REASON_MAX_LENGTH)],
                           render_kw={"rows": 3, "data-count": REASON_MAX_LENGTH})


class InvitationForm(ServiceForm):
    email = EmailField(_l("Colleague's e-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)])


class AcceptInvitationForm(ServiceForm):
    field_aliases = {"email": "display_name"}
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX_LENGTH)],
                               render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})
