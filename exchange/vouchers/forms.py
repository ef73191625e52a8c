"""HTML forms of innovation vouchers. Amounts are typed in yuan and handed to the services in fen;
the services hold the rules and their messages land beside these fields (ServiceForm.show_errors)."""
from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from exchange.db import ENUM_LABELS
from exchange.forms import ServiceForm
from exchange.taxonomy.models import Region
from exchange.vouchers.models import (
    NAME_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    ProviderCategory,
    ProviderProfile,
    RedemptionMode,
    ServiceCategory,
    ServiceProduct,
    VoucherProgram,
)
from exchange.vouchers.money import BadAmount, parse_yuan, yuan_text

YUAN = {"inputmode": "decimal", "autocomplete": "off", "maxlength": 20}


class AmountRequired:
    """Marks an amount field required (its asterisk); the field itself explains an empty or bad amount."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class AmountField(StringField):
    """An amount typed in yuan ('12,500.50', '¥5000'): `data` is fen, or None when it cannot be read,
    in which case validation says why and the field shows back what was typed."""

    problem: Any = None
    raw_text: str | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw_text = str(valuelist[0]) if valuelist else ""
        try:
            self.data, self.problem = parse_yuan(self.raw_text), None
        except BadAmount as bad:
            self.data, self.problem = None, bad.message

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, [AmountRequired(), *(validators or [])], **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.problem is not None:
            raise ValidationError(str(self.problem))

    def _value(self) -> str:
        if self.raw_text is not None:
            return self.raw_text
        return yuan_text(self.data) if isinstance(self.data, int) else ""


def _checkboxes(label: Any, **kwargs: Any) -> SelectMultipleField:
    return SelectMultipleField(label, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                               validate_choice=False, **kwargs)


def lazy_label(member: Any) -> Any:
    """The label of an enum member, translated when rendered (choices of a form class are built once)."""
    return ENUM_LABELS[(type(member), member.value)]


def category_choices(values: list[str] | None = None) -> list[tuple[str, Any]]:
    return [(c.value, lazy_label(c)) for c in ServiceCategory if values is None or c.value in values]


def provider_choices(providers: list[ProviderProfile], empty: Any) -> list[tuple[str, Any]]:
    return [("", empty), *((str(p.organization_id), f"{p.organization.name}（{p.organization.region.name}）")
                           for p in providers)]


# Programmes -------------------------------------------------------------------------------------

class ProgramForm(ServiceForm):
    field_aliases = {"budget_fen": "budget", "unit_fen": "unit", "max_face_fen": "max_face",
                     "cap_per_org_fen": "cap_per_org"}

    name = StringField(_l("Name of the programme"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    year = IntegerField(_l("Year"), validators=[DataRequired()], default=lambda: date.today().year)
    budget = AmountField(_l("Total budget (yuan)"), render_kw=YUAN)
    unit = AmountField(_l("Voucher unit (yuan)"), render_kw=YUAN,
                       description=_l("Vouchers are issued in whole units, e.g. 5000."))
    max_face = AmountField(_l("Largest face value of one voucher (yuan)"), render_kw=YUAN,
                           description=_l("A whole number of units."))
    coverage_percent = IntegerField(_l("Share of a service fee a voucher may cover (%)"),
                                    validators=[DataRequired()], default=50,
                                    description=_l("The rest is the SME's co-payment; 50 per cent is most common."))
    cap_per_org = AmountField(_l("Cap per organisation in this programme (yuan)"), render_kw=YUAN)
    eligible_categories = _checkboxes(_l("Eligible service categories"), validators=[DataRequired()],
                                      choices=category_choices())
    validity_days = IntegerField(_l("Validity of a voucher (days)"), validators=[DataRequired()], default=365)
    accepting_regions = _checkboxes(_l("Regions whose providers accept the vouchers"), validators=[DataRequired()],
                                    default=["BJ", "TJ", "HE"],
                                    description=_l("通用通兑: all three regions by default."))
    redemption_mode = RadioField(_l("Redemption"), validators=[DataRequired()], validate_choice=False,
                                 default=RedemptionMode.DIRECT.value,
                                 choices=[(m.value, lazy_label(m)) for m in RedemptionMode])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=TEXT_MAX_LENGTH)],
                                render_kw={"rows": 4, "data-count": TEXT_MAX_LENGTH})

    def with_regions(self, regions: list[Region]) -> ProgramForm:
        self.accepting_regions.choices = [(region.code, region.name) for region in regions]
        return self

    @classmethod
    def of(cls, program: VoucherProgram) -> ProgramForm:
        return cls(data={
            "name": program.name, "year": program.year, "budget": program.budget_fen, "unit": program.unit_fen,
            "max_face": program.max_face_fen, "coverage_percent": program.coverage_percent,
            "cap_per_org": program.cap_per_org_fen, "eligible_categories": list(program.eligible_categories),
            "validity_days": program.validity_days, "accepting_regions": list(program.accepting_regions),
            "redemption_mode": program.redemption_mode.value, "description": program.description})


# Applications -----------------------------------------------------------------------------------

class ApplicationForm(ServiceForm):
    field_aliases = {"amount_fen": "amount", "provider_id": "provider"}

    service_category = SelectField(_l("Kind of service"), validators=[DataRequired()], validate_choice=False)
    planned_service = StringField(_l("Planned service"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)],
                                  description=_l("E.g. material composition testing of a new battery separator."))
    provider = SelectField(_l("Provider, if already known"), validate_choice=False)
    amount = AmountField(_l("Amount applied for (yuan)"), render_kw=YUAN)
    justification = TextAreaField(_l("Justification"), validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)],
                                  render_kw={"rows": 4, "data-count": TEXT_MAX_LENGTH},
                                  description=_l("What the service is for and why your enterprise needs it."))

    def for_program(self, program: VoucherProgram, providers: list[ProviderProfile]) -> ApplicationForm:
        self.service_category.choices = [("", _l("Choose a kind of service")),
                                         *category_choices(program.eligible_categories)]
        self.provider.choices = provider_choices(providers, _l("Not chosen yet"))
        self.amount.description = _l(
            "In units of %(unit)s yuan, at most %(max)s yuan per voucher.",
            unit=yuan_text(program.unit_fen), max=yuan_text(min(program.max_face_fen, program.cap_per_org_fen)))
        return self


class ReasonForm(ServiceForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)],
                           render_kw={"rows": 2, "data-count": TEXT_MAX_LENGTH})


class PaymentForm(ServiceForm):
    payment_reference = StringField(_l("Payment reference"), validators=[Optional(), Length(max=REFERENCE_MAX_LENGTH)],
                                    description=_l("E.g. the number of the bank transfer."))


# Providers --------------------------------------------------------------------------------------

class ProviderApplicationForm(ServiceForm):
    category = SelectField(_l("Kind of provider"), validators=[DataRequired()], validate_choice=False,
                           choices=[("", _l("Choose a kind")), *((c.value, lazy_label(c)) for c in ProviderCategory)])
    qualifications = TextAreaField(_l("Qualifications"), validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)],
                                   render_kw={"rows": 5, "data-count": TEXT_MAX_LENGTH},
                                   description=_l("Accreditations (CMA, CNAS), recognitions as key laboratory or "
                                                  "engineering centre, equipment and staff."))


class ObjectionForm(ServiceForm):
    text = TextAreaField(_l("Your objection"), validators=[DataRequired(), Length(max=TEXT_MAX_LENGTH)],
                         render_kw={"rows": 3, "data-count": TEXT_MAX_LENGTH},
                         description=_l("What is wrong with this application, with facts that can be checked."))


class ProductForm(ServiceForm):
    field_aliases = {"fee_fen": "published_fee"}

    name = StringField(_l("Service"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    category = SelectField(_l("Service category"), validators=[DataRequired()], validate_choice=False,
                           choices=[("", _l("Choose a category")), *category_choices()])
    published_fee = AmountField(_l("Published fee (yuan)"), render_kw=YUAN)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=TEXT_MAX_LENGTH)],
                                render_kw={"rows": 2, "data-count": TEXT_MAX_LENGTH})
    is_active = BooleanField(_l("Offered: vouchers can pay for it"), default=True)

    @classmethod
    def of(cls, product: ServiceProduct) -> ProductForm:
        return cls(data={"name": product.name, "category": product.category.value,
                         "published_fee": product.fee_fen, "description": product.description,
                         "is_active": product.is_active})


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


class OrderForm(ServiceForm):
    """A voucher-paid order; the key, made when the form is shown, makes a double submit record once."""

    field_aliases = {"fee_fen": "fee", "service_product_id": "service_product"}

    voucher_code = StringField(_l("Voucher code"), validators=[DataRequired(), Length(max=40)],
                               render_kw={"autocomplete": "off", "spellcheck": "false",
                                          "placeholder": "HE2026-XXXX-XXXX"})
    service_product = SelectField(_l("Service"), validators=[DataRequired()], validate_choice=False)
    fee = AmountField(_l("Fee of this order (yuan)"), render_kw=YUAN,
                      description=_l("At most the published fee of the service."))
    contract_reference = StringField(_l("Contract reference"),
                                     validators=[DataRequired(), Length(max=REFERENCE_MAX_LENGTH)])
    idempotency_key = HiddenField(default=new_idempotency_key)

    def with_products(self, products: list[ServiceProduct]) -> OrderForm:
        self.service_product.choices = [("", _l("Choose a service")), *(
            (str(p.id), f"{p.name} · {p.category.label}") for p in products if p.is_active)]
        return self


class ClaimForm(ServiceForm):
    field_aliases = {"fee_fen": "fee", "provider_id": "provider"}

    provider = SelectField(_l("Provider that did the work"), validators=[DataRequired()], validate_choice=False)
    service_description = StringField(_l("Service"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    fee = AmountField(_l("Fee paid (yuan)"), render_kw=YUAN)
    contract_reference = StringField(_l("Contract reference"),
                                     validators=[DataRequired(), Length(max=REFERENCE_MAX_LENGTH)])
    files = MultipleFileField(_l("Contract and receipts (PDF, PNG, JPEG or DOCX, at most 20 MB each)"),
                              render_kw={"accept": ".pdf,.png,.jpg,.jpeg,.docx"})

    def with_providers(self, providers: list[ProviderProfile]) -> ClaimForm:
        self.provider.choices = provider_choices(providers, _l("Choose the provider"))
        return self
