"""The bridge from service validation errors back to the fields of a WTForms form."""
from __future__ import annotations

from flask_wtf import FlaskForm

from exchange.errors import ValidationFailed


class ServiceForm(FlaskForm):
    # Service field names that the form calls differently.
    field_aliases: dict[str, str] = {}

    def show_errors(self, error: ValidationFailed, *, beside_others: bool = True) -> None:
        """Put each message beside its field; what no field owns is shown above the form.

        With beside_others=False a field that already shows a message keeps only that one.
        """
        if not error.fields:
            self.form_errors.append(str(error.message))
        for name, messages in error.fields.items():
            field = getattr(self, self.field_aliases.get(name, name), None)
            texts = [str(m) for m in (messages if isinstance(messages, (list, tuple)) else [messages])]
            if field is not None and hasattr(field, "errors"):
                if beside_others or not field.errors:
                    field.errors = [*field.errors, *texts]
            else:
                self.form_errors.extend(texts)
