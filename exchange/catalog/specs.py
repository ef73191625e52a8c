"""What each kind of entry holds, declared once: the same declaration validates input for the
service, builds the HTML form and the API schema, and renders the detail page.

A FieldSpec turns raw input (from a form or JSON) into a value for the model, or raises
`Invalid` with a message in the user's language.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
import wtforms
from email_validator import EmailNotValidError, validate_email
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from wtforms import validators as wtv

from exchange.catalog import validators
from exchange.inputs import is_id
from exchange.catalog.models import (
    SUMMARY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Achievement,
    CooperationMode,
    Education,
    Entry,
    EntryKind,
    EntryStatus,
    IpStatus,
    IpType,
    LabelledEnum,
    PUBLISHERS,
    Maturity,
    ProjectStatus,
    TitleRank,
    WantedRegion,
)
from exchange.orgs.models import Organization, OrganizationKind, OrganizationStatus
from exchange.taxonomy.models import District, TechnologyField

MAX_FEN = 10**15  # ten trillion yuan: far above any real figure, far below BIGINT


class Invalid(Exception):
    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


@dataclass
class Context:
    """What a field may need to check its value: the session and the owner organisation."""

    session: Session
    organization: Organization
    entry: Entry | None = None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    required: bool = True
    help: Any = None
    attribute: str | None = None
    private: bool = False  # personal data: never shown to the public

    @property
    def target(self) -> str:
        return self.attribute or self.name

    def is_empty(self, raw: Any) -> bool:
        return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []

    def clean(self, raw: Any, context: Context) -> Any:
        if self.is_empty(raw):
            if self.required:
                raise Invalid(_l("This field is required."))
            return self.empty_value()
        return self.parse(raw, context)

    def empty_value(self) -> Any:
        return None

    def parse(self, raw: Any, context: Context) -> Any:
        raise NotImplementedError  # each kind of field says how it reads input

    def read(self, entry: Entry) -> Any:
        return getattr(entry, self.target)

    def write(self, entry: Entry, value: Any) -> None:
        setattr(entry, self.target, value)

    def snapshot(self, entry: Entry) -> Any:
        """A JSON-able value, for the review diff and exports."""
        value = self.read(entry)
        return value.value if isinstance(value, LabelledEnum) else value

    def display(self, entry: Entry) -> str:
        value = self.read(entry)
        return "" if value is None else str(value)

    # The two faces --------------------------------------------------------------------
    def form_validators(self) -> list[Any]:
        return [wtv.InputRequired() if self.required else wtv.Optional()]

    def form_field(self, context: Context) -> Any:
        return wtforms.StringField(self.label, validators=self.form_validators(), description=self.help or "")

    def form_value(self, entry: Entry) -> Any:
        return self.read(entry)

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.String(required=False, allow_none=not self.required,
                                metadata={"description": str(self.label)})


def _as_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise Invalid(_l("Must be text."))
    return raw


@dataclass(frozen=True)
class Text(FieldSpec):
    max_length: int = 200
    multiline: bool = False

    def empty_value(self) -> Any:
        return ""

    def parse(self, raw: Any, context: Context) -> str:
        value = _as_text(raw).strip()
        if "\x00" in value:
            raise Invalid(_l("Contains characters that are not allowed."))
        if len(value) > self.max_length:
            raise Invalid(_l("Use at most %(max)s characters.", max=self.max_length))
        return value

    def form_field(self, context: Context) -> Any:
        kind = wtforms.TextAreaField if self.multiline else wtforms.StringField
        render = {"data-count": self.max_length, "maxlength": self.max_length}
        if self.multiline:
            render["rows"] = 6
        return kind(self.label, validators=self.form_validators(), description=self.help or "", render_kw=render)


@dataclass(frozen=True)
class Choice(FieldSpec):
    enum: type[LabelledEnum] = LabelledEnum

    def parse(self, raw: Any, context: Context) -> Any:
        try:
            return self.enum(raw)
        except ValueError:
            raise Invalid(_l("Please choose one of the offered values.")) from None

    def display(self, entry: Entry) -> str:
        value = self.read(entry)
        return value.label if value is not None else ""

    def form_field(self, context: Context) -> Any:
        choices = [("", _l("Please choose"))] + [(member.value, member.label) for member in self.enum]
        return wtforms.SelectField(self.label, choices=choices, validators=self.form_validators(),
                                   description=self.help or "", validate_choice=False)

    def form_value(self, entry: Entry) -> Any:
        value = self.read(entry)
        return value.value if value is not None else ""

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.String(allow_none=not self.required, metadata={
            "enum": [member.value for member in self.enum], "description": str(self.label)})


@dataclass(frozen=True)
class Modes(FieldSpec):
    """Several cooperation modes; stored as rows so that lists can filter on them."""

    def parse(self, raw: Any, context: Context) -> list[CooperationMode]:
        values = raw if isinstance(raw, list) else [raw]
        try:
            return list(dict.fromkeys(CooperationMode(_as_text(value)) for value in values))
        except ValueError:
            raise Invalid(_l("Please choose one of the offered values.")) from None

    def empty_value(self) -> Any:
        return []

    def read(self, entry: Entry) -> Any:
        return entry.mode_values

    def write(self, entry: Entry, value: Any) -> None:
        entry.mode_values = value

    def snapshot(self, entry: Entry) -> Any:
        return [mode.value for mode in entry.mode_values]

    def display(self, entry: Entry) -> str:
        return "、".join(mode.label for mode in entry.mode_values)

    def form_field(self, context: Context) -> Any:
        return wtforms.SelectMultipleField(
            self.label, choices=[(m.value, m.label) for m in CooperationMode], validate_choice=False,
            validators=self.form_validators(), widget=wtforms.widgets.ListWidget(prefix_label=False),
            option_widget=wtforms.widgets.CheckboxInput(), description=self.help or "")

    def form_value(self, entry: Entry) -> Any:
        return self.snapshot(entry)

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.List(ma.fields.String(metadata={"enum": [m.value for m in CooperationMode]}),
                              metadata={"description": str(self.label)})


_LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")


@dataclass(frozen=True)
class Words(FieldSpec):
    """Keywords or skills: 1 to `most` short phrases, from a list or a comma-separated text."""

    most: int = 10
    longest: int = 30

    def empty_value(self) -> Any:
        return []

    def parse(self, raw: Any, context: Context) -> list[str]:
        items = raw if isinstance(raw, list) else _LIST_SEPARATORS.split(_as_text(raw))
        words = list(dict.fromkeys(" ".join(_as_text(item).split()) for item in items))
        words = [word for word in words if word]
        if not words and self.required:
            raise Invalid(_l("This field is required."))
        if len(words) > self.most:
            raise Invalid(_l("Give at most %(max)s.", max=self.most))
        if any(len(word) > self.longest or "\x00" in word for word in words):
            raise Invalid(_l("Each one may have at most %(max)s characters.", max=self.longest))
        return words

    def display(self, entry: Entry) -> str:
        return "、".join(self.read(entry))

    def form_field(self, context: Context) -> Any:
        return wtforms.StringField(self.label, validators=self.form_validators(),
                                   description=self.help or _l("Separate them with commas."))

    def form_value(self, entry: Entry) -> Any:
        return "，".join(self.read(entry))

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.List(ma.fields.String(), metadata={"description": str(self.label)})


@dataclass(frozen=True)
class Whole(FieldSpec):
    low: int = 0
    high: int = 100

    def parse(self, raw: Any, context: Context) -> int:
        if isinstance(raw, bool):
            raise Invalid(_l("Must be a whole number."))
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            raise Invalid(_l("Must be a whole number.")) from None
        if not self.low <= value <= self.high:
            raise Invalid(_l("Must be between %(low)s and %(high)s.", low=self.low, high=self.high))
        return value

    def form_field(self, context: Context) -> Any:
        return wtforms.StringField(self.label, validators=self.form_validators(), description=self.help or "",
                                   render_kw={"inputmode": "numeric"})

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.Raw(metadata={"type": "integer", "minimum": self.low, "maximum": self.high,
                                       "description": str(self.label)})


@dataclass(frozen=True)
class Money(FieldSpec):
    """An amount in fen. The API sends fen; the form takes yuan (up to two decimals)."""

    def parse(self, raw: Any, context: Context) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise Invalid(_l("Must be a whole number of fen."))
        if not 0 <= raw <= MAX_FEN:
            raise Invalid(_l("Must be between 0 and %(max)s yuan.", max=MAX_FEN // 100))
        return raw

    def display(self, entry: Entry) -> str:
        return format_yuan(self.read(entry))

    def form_field(self, context: Context) -> Any:
        return YuanField(self.label, validators=[wtv.Optional()], description=self.help or "",
                         render_kw={"inputmode": "decimal"})

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.Raw(allow_none=True, metadata={"type": "integer", "description": f"{self.label} (fen)"})


def format_yuan(fen: int | None) -> str:
    if fen is None:
        return str(_l("Negotiable (面议)"))
    yuan = Decimal(fen) / 100
    locale = get_locale()
    if locale is not None and locale.language == "zh" and yuan >= 10000 and yuan % 100 == 0:
        return str(_l("%(amount)s ten-thousand yuan", amount=f"{yuan / 10000:,f}".rstrip("0").rstrip(".")))
    return str(_l("%(amount)s yuan", amount=f"{yuan:,.2f}".removesuffix(".00")))


class YuanField(wtforms.StringField):
    """Reads yuan like '12.5' or '1,200' and hands the service fen; empty means 面议."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = (valuelist[0] if valuelist else "").strip().replace(",", "").replace("，", "")
        self.raw_text = raw
        if not raw or raw in {"面议", "negotiable"}:
            self.data = None
            return
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            self.data = raw  # the service explains what is wrong with it
            return
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            self.data = raw
            return
        self.data = int(amount * 100)

    def _value(self) -> str:
        if getattr(self, "raw_text", None) is not None:
            return self.raw_text
        return "" if self.data is None else f"{Decimal(self.data) / 100:f}".removesuffix(".00")


@dataclass(frozen=True)
class Day(FieldSpec):
    future: bool = False

    def parse(self, raw: Any, context: Context) -> date:
        if isinstance(raw, date):
            value = raw
        else:
            try:
                value = date.fromisoformat(_as_text(raw).strip())
            except ValueError:
                raise Invalid(_l("Use a date like 2027-06-30.")) from None
        if not date(1950, 1, 1) <= value <= date(2100, 12, 31):
            raise Invalid(_l("Use a date between 1950 and 2100."))
        if self.future and value <= date.today():
            raise Invalid(_l("The date must be in the future."))
        return value

    def snapshot(self, entry: Entry) -> Any:
        value = self.read(entry)
        return value.isoformat() if value else None

    def display(self, entry: Entry) -> str:
        value = self.read(entry)
        return format_date(value) if value else ""

    def form_field(self, context: Context) -> Any:
        return wtforms.StringField(self.label, validators=self.form_validators(), description=self.help or "",
                                   render_kw={"type": "date"})

    def form_value(self, entry: Entry) -> Any:
        return self.snapshot(entry)

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.String(allow_none=not self.required, metadata={"format": "date",
                                                                        "description": str(self.label)})


@dataclass(frozen=True)
class Flag(FieldSpec):
    required: bool = False

    def clean(self, raw: Any, context: Context) -> bool:
        if raw in (None, "", False, "false", "0", "n", "no", "off"):
            return False
        if raw in (True, "true", "1", "y", "yes", "on"):
            return True
        raise Invalid(_l("Must be yes or no."))

    def display(self, entry: Entry) -> str:
        return str(_l("Yes") if self.read(entry) else _l("No"))

    def form_field(self, context: Context) -> Any:
        return wtforms.BooleanField(self.label, description=self.help or "")

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.Raw(metadata={"type": "boolean", "description": str(self.label)})


@dataclass(frozen=True)
class Patents(FieldSpec):
    required: bool = False

    def empty_value(self) -> Any:
        return []

    def parse(self, raw: Any, context: Context) -> list[str]:
        items = raw if isinstance(raw, list) else _LIST_SEPARATORS.split(_as_text(raw))
        numbers = []
        for item in (_as_text(i).strip() for i in items):
            if not item:
                continue
            number = validators.normalize_patent(item)
            if number is None:
                raise Invalid(_l("%(number)s is not a valid Chinese patent number (e.g. ZL202110123456.7).",
                                 number=item[:40]))
            numbers.append(number)
        if len(numbers) > 20:
            raise Invalid(_l("Give at most %(max)s.", max=20))
        return list(dict.fromkeys(numbers))

    def display(self, entry: Entry) -> str:
        return "、".join(self.read(entry))

    def form_field(self, context: Context) -> Any:
        return wtforms.StringField(self.label, validators=[wtv.Optional()],
                                   description=_l("For example ZL202110123456.7; separate several with commas."))

    def form_value(self, entry: Entry) -> Any:
        return "，".join(self.read(entry))

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.List(ma.fields.String(), metadata={"description": str(self.label)})


@dataclass(frozen=True)
class FieldCode(FieldSpec):
    """A technology sub-field (level 2), or a list of them with `many`."""

    many: bool = False

    def empty_value(self) -> Any:
        return [] if self.many else None

    def parse(self, raw: Any, context: Context) -> Any:
        codes = (raw if isinstance(raw, list) else [raw]) if self.many else [raw]
        codes = [_as_text(code).strip() for code in codes]
        if any("\x00" in code for code in codes):  # PostgreSQL cannot even compare such a string
            raise Invalid(_l("Please choose a technology sub-field from the list."))
        known = set(context.session.scalars(
            sa.select(TechnologyField.code).where(TechnologyField.code.in_(codes),
                                                  TechnologyField.parent_code.is_not(None))))
        if any(code not in known for code in codes):
            raise Invalid(_l("Please choose a technology sub-field from the list."))
        if len(codes) > 5:
            raise Invalid(_l("Give at most %(max)s.", max=5))
        return list(dict.fromkeys(codes)) if self.many else codes[0]

    def display(self, entry: Entry) -> str:
        if self.many:
            return "、".join(self.read(entry))
        return f"{entry.field.name}"

    def form_field(self, context: Context) -> Any:
        from exchange.taxonomy.services import list_fields

        choices = {parent.name: [(child.code, child.name) for child in parent.children]
                   for parent in list_fields(context.session)}
        if self.many:
            return wtforms.SelectMultipleField(self.label, choices=choices, validate_choice=False,
                                               validators=self.form_validators(), description=self.help or "")
        return wtforms.SelectField(self.label, choices={"": [("", _l("Please choose"))], **choices},
                                   validators=self.form_validators(), validate_choice=False,
                                   description=self.help or "")

    def schema_field(self) -> ma.fields.Field:
        if self.many:
            return ma.fields.List(ma.fields.String(), metadata={"description": str(self.label)})
        return ma.fields.String(metadata={"description": f"{self.label}: a sub-field code from GET /api/v1/fields"})


@dataclass(frozen=True)
class DistrictRef(FieldSpec):
    """A district of the owner's region (the region itself is the organisation's)."""

    def parse(self, raw: Any, context: Context) -> int:
        try:
            number = None if isinstance(raw, bool) else int(raw)
        except (TypeError, ValueError, OverflowError):
            number = None
        district = context.session.get(District, number) if is_id(number) else None
        if district is None or district.region_code != context.organization.region_code:
            raise Invalid(_l("Please choose a district of your region."))
        return district.id

    def display(self, entry: Entry) -> str:
        return entry.district.name

    def form_field(self, context: Context) -> Any:
        return wtforms.SelectField(self.label, validators=self.form_validators(), validate_choice=False,
                                   choices=[(str(d.id), d.name) for d in context.organization.region.districts])

    def form_value(self, entry: Entry) -> Any:
        return str(entry.district_id)

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.Raw(metadata={"type": "integer", "description": "A district id of your region"})


@dataclass(frozen=True)
class Contact(FieldSpec):
    """A phone number or e-mail address of a person: private."""

    channel: str = "phone"
    private: bool = True
    required: bool = False

    def empty_value(self) -> Any:
        return ""

    def parse(self, raw: Any, context: Context) -> str:
        text = _as_text(raw).strip()
        if self.channel == "phone":
            phone = validators.normalize_phone(text)
            if phone is None:
                raise Invalid(_l("Use a mainland mobile number (11 digits) or a landline with area code."))
            return phone
        if self.channel == "id_number":
            number = text.upper()
            if not validators.is_valid_id_number(number):
                raise Invalid(_l("This is not a valid resident ID number."))
            return number
        try:
            return validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise Invalid(_l("This is not a valid e-mail address.")) from None


@dataclass(frozen=True)
class OrganizationRefs(FieldSpec):
    """Partner organisations: approved organisations other than the owner."""

    required: bool = False

    def empty_value(self) -> Any:
        return []

    def parse(self, raw: Any, context: Context) -> list[Organization]:
        ids = _ids(raw)
        partners = list(context.session.scalars(sa.select(Organization).where(
            Organization.id.in_(ids), Organization.status == OrganizationStatus.APPROVED,
            Organization.id != context.organization.id)))
        if len(partners) != len(set(ids)):
            raise Invalid(_l("Choose approved organisations other than your own."))
        return partners

    def snapshot(self, entry: Entry) -> Any:
        return [org.name for org in self.read(entry)]

    def display(self, entry: Entry) -> str:
        return "、".join(f"{org.name}（{org.region.name}）" for org in self.read(entry))

    def form_field(self, context: Context) -> Any:
        organizations = context.session.scalars(sa.select(Organization).where(
            Organization.status == OrganizationStatus.APPROVED, Organization.id != context.organization.id,
            Organization.kind != OrganizationKind.PROVIDER).order_by(Organization.region_code, Organization.name))
        return wtforms.SelectMultipleField(self.label, validate_choice=False, coerce=str,
                                           choices=[(str(o.id), f"{o.name}（{o.region_code}）") for o in organizations],
                                           description=self.help or "", render_kw={"size": 8})

    def form_value(self, entry: Entry) -> Any:
        return [str(org.id) for org in self.read(entry)]

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.List(ma.fields.Integer(), metadata={"description": "Organisation ids"})


@dataclass(frozen=True)
class OutcomeRefs(FieldSpec):
    """Achievements a project produced: approved ones of the lead or a partner organisation."""

    required: bool = False

    def empty_value(self) -> Any:
        return []

    def parse(self, raw: Any, context: Context) -> list[Achievement]:
        ids = _ids(raw)
        achievements = list(context.session.scalars(sa.select(Achievement).where(Achievement.id.in_(ids))))
        if len(achievements) != len(set(ids)) or any(
                a.organization_id != context.organization.id and a.status is not EntryStatus.APPROVED
                for a in achievements):
            raise Invalid(_l("Choose published achievements, or your organisation's own."))
        return achievements

    def snapshot(self, entry: Entry) -> Any:
        return [achievement.title for achievement in self.read(entry)]

    def display(self, entry: Entry) -> str:
        return "、".join(achievement.title for achievement in self.read(entry))

    def form_field(self, context: Context) -> Any:
        own = context.session.scalars(sa.select(Achievement).where(
            Achievement.organization_id == context.organization.id).order_by(Achievement.title))
        return wtforms.SelectMultipleField(self.label, validate_choice=False, coerce=str,
                                           choices=[(str(a.id), a.title) for a in own], description=self.help or "")

    def form_value(self, entry: Entry) -> Any:
        return [str(a.id) for a in self.read(entry)]

    def schema_field(self) -> ma.fields.Field:
        return ma.fields.List(ma.fields.Integer(), metadata={"description": "Achievement ids"})


def _ids(raw: Any) -> list[int]:
    values = raw if isinstance(raw, list) else [raw]
    try:
        ids = [int(value) for value in values if not isinstance(value, bool)]
    except (TypeError, ValueError, OverflowError):
        raise Invalid(_l("Must be a list of ids.")) from None
    if not all(is_id(number) for number in ids):  # no such id; the database cannot compare it
        raise Invalid(_l("Must be a list of ids."))
    return ids


# Cross-field rules -----------------------------------------------------------------------

Rule = Callable[[dict[str, Any]], dict[str, Any]]


def budget_in_order(values: dict[str, Any]) -> dict[str, Any]:
    low, high = values.get("budget_min_fen"), values.get("budget_max_fen")
    if low is not None and high is not None and low > high:
        return {"budget_max_fen": _l("The upper end of the budget must not be below the lower end.")}
    return {}


def patents_fit_ip(values: dict[str, Any]) -> dict[str, Any]:
    ip_type, patents = values.get("ip_type"), values.get("patents") or []
    if ip_type is IpType.NONE and patents:
        return {"patents": _l("Remove the patent numbers, or choose the kind of patent.")}
    if ip_type not in (None, IpType.NONE) and not patents:
        return {"patents": _l("Give at least one patent number for this kind of patent.")}
    wrong = [number for number in patents if ip_type and ip_type is not IpType.NONE
             and validators.patent_type(number) != ip_type.value]
    if wrong:
        return {"patents": _l("%(number)s is not a number of this kind of patent.", number=wrong[0])}
    return {}


def period_in_order(values: dict[str, Any]) -> dict[str, Any]:
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end <= start:
        return {"end_date": _l("The end must come after the start.")}
    return {}


# The kinds ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindSpec:
    kind: EntryKind
    fields: Sequence[FieldSpec]
    rules: Sequence[Rule] = field(default_factory=tuple)
    title_label: Any = _l("Title")
    summary_label: Any = _l("Summary")

    @property
    def publishers(self) -> frozenset[OrganizationKind]:
        return PUBLISHERS[self.kind]

    def all_fields(self) -> list[FieldSpec]:
        return [
            Text("title", self.title_label, max_length=TITLE_MAX_LENGTH),
            Text("summary", self.summary_label, max_length=SUMMARY_MAX_LENGTH, multiline=True),
            FieldCode("field", _l("Technology field"), attribute="field_code"),
            DistrictRef("district", _l("District or city"), attribute="district_id"),
            Words("keywords", _l("Keywords"), help=_l("1 to 10 keywords, separated by commas.")),
            *self.fields,
        ]


COMMON_NAMES = ("title", "summary", "field", "district", "keywords")

KINDS: dict[EntryKind, KindSpec] = {
    EntryKind.ACHIEVEMENT: KindSpec(EntryKind.ACHIEVEMENT, (
        Choice("maturity", _l("Maturity"), enum=Maturity),
        Whole("trl", _l("Technology readiness level (TRL 1–9)"), required=False, low=1, high=9),
        Choice("ip_type", _l("Intellectual property"), enum=IpType),
        Patents("patents", _l("Patent numbers")),
        Choice("ip_status", _l("Patent status"), enum=IpStatus),
        Modes("modes", _l("Transfer modes")),
        Money("price_fen", _l("Asking price (yuan; leave empty for 面议)"), required=False),
        Text("application_scenarios", _l("Application scenarios"), required=False, max_length=2000, multiline=True),
    ), rules=(patents_fit_ip,)),
    EntryKind.NEED: KindSpec(EntryKind.NEED, (
        Money("budget_min_fen", _l("Budget from (yuan)"), required=False),
        Money("budget_max_fen", _l("Budget up to (yuan; both empty for 面议)"), required=False),
        Day("deadline", _l("Deadline"), future=True),
        Modes("modes", _l("Wanted cooperation modes")),
        Choice("required_maturity", _l("Required maturity"), enum=Maturity),
    ), rules=(budget_in_order,), summary_label=_l("Description of the need")),
    EntryKind.EXPERT: KindSpec(EntryKind.EXPERT, (
        Choice("title_rank", _l("Professional title"), enum=TitleRank),
        Text("position", _l("Position"), required=False, max_length=100),
        FieldCode("other_fields", _l("Other fields"), required=False, many=True),
        Flag("available_for_consulting", _l("Available for consulting")),
        Flag("available_for_review", _l("Available for project review")),
        Contact("phone", _l("Phone (private)"), channel="phone"),
        Contact("email", _l("E-mail (private)"), channel="email"),
        Contact("id_number", _l("Resident ID number (private)"), channel="id_number"),
    ), title_label=_l("Expert's name"), summary_label=_l("Expertise")),
    EntryKind.TALENT: KindSpec(EntryKind.TALENT, (
        Text("person_name", _l("Name of the person or team"), max_length=100),
        Flag("is_team", _l("This is a team")),
        Words("skills", _l("Skills"), help=_l("1 to 10 skills, separated by commas.")),
        Choice("education", _l("Education"), enum=Education),
        Whole("experience_years", _l("Years of experience"), low=0, high=70),
        Choice("wanted_region", _l("Wanted region"), enum=WantedRegion),
        Text("wanted_role", _l("Wanted role"), required=False, max_length=100),
        Contact("phone", _l("Phone (private)"), channel="phone"),
        Contact("email", _l("E-mail (private)"), channel="email"),
    ), title_label=_l("Headline")),
    EntryKind.PROJECT: KindSpec(EntryKind.PROJECT, (
        Text("programme", _l("Programme"), max_length=200),
        Money("budget_fen", _l("Budget (yuan)"), required=False),
        Day("start_date", _l("Start")),
        Day("end_date", _l("End")),
        Choice("project_status", _l("Project status"), enum=ProjectStatus),
        OrganizationRefs("partners", _l("Partner organisations")),
        OutcomeRefs("outcomes", _l("Outcomes (achievements)")),
    ), rules=(period_in_order,)),
}
