"""A refusal of a service, as the page and the API say it."""
from __future__ import annotations

from exchange.errors import ValidationFailed


def test_a_refusal_reads_as_its_messages_field_by_field_or_as_its_general_message():
    error = ValidationFailed(fields={"name": "Too long.", "email": ["Taken.", "Not an address."]})
    assert error.messages() == ["Too long.", "Taken.", "Not an address."]
    assert error.field_messages() == {"name": ["Too long."], "email": ["Taken.", "Not an address."]}
    assert ValidationFailed("Nothing to do.").messages() == ["Nothing to do."]
