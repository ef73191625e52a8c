from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from exchange.accounts.models import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH
from exchange.accounts.services import TOKEN_NAME_MAX_LENGTH
from exchange.forms import ServiceForm


class LoginForm(ServiceForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Remember me on this device"))
    next = HiddenField()


class ReauthenticateForm(ServiceForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class NewPasswordMixin:
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class PasswordChangeForm(NewPasswordMixin, ServiceForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})


class PasswordResetRequestForm(ServiceForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)],
                       render_kw={"autocomplete": "email"})


class PasswordResetForm(NewPasswordMixin, ServiceForm):
    field_aliases = {"password": "new_password"}  # field names, not a password  # nosec B105


class TokenForm(ServiceForm):
    name = StringField(_l("Token name"), validators=[Length(max=TOKEN_NAME_MAX_LENGTH)])
