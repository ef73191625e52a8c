"""The bridge from service errors back to the page: beside the fields of a WTForms form, or flashed."""
from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from exchange.errors import DomainError, ValidationFailed


def flash_error(error: DomainError) -> None:
    """A refusal of a button or a form without fields of its own, said above the next page in one line."""
    flash(" ".join(error.messages()), "error")


class ServiceForm(FlaskForm):
    # Service field names that the form calls differently.
    field_aliases: dict[str, str] = {}

    def show_errors(self, error: ValidationFailed, *, beside_others: bool = True) -> None:
        """Put each message beside its field; what no field owns is shown above the form.

        With beside_others=False a field that already shows a message keeps only that one.
        """
        if not error.fields:
            self.form_errors.append(str(error.message))
        for name, texts in error.field_messages().items():
            field = getattr(self, self.field_aliases.get(name, name), None)
            if field is not None and hasattr(field, "errors"):
                if beside_others or not field.errors:
                    field.errors = [*field.errors, *texts]
            else:
                self.form_errors.extend(texts)
