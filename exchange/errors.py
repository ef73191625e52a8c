"""Domain errors, their HTTP statuses, and the one error shape of the API and pages."""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = _l("The request could not be processed.")

    def __init__(self, message: Any = None, *, code: str | None = None,
                 fields: Mapping[str, Any] | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.fields = dict(fields or {})
        super().__init__(str(self.code))

    def field_messages(self) -> dict[str, list[str]]:
        """Each field's messages, as text in the user's language."""
        return {name: [str(m) for m in _as_list(msgs)] for name, msgs in self.fields.items()}

    def messages(self) -> list[str]:
        """Every message as text, field by field; the general message when no field has one."""
        return [text for texts in self.field_messages().values() for text in texts] or [str(self.message)]

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = self.field_messages()
        return {"error": body}


def _as_list(messages: Any) -> list[Any]:
    if isinstance(messages, (list, tuple)):
        return list(messages)
    return [messages]


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    default_message = _l("Some fields are not valid.")


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    default_message = _l("Please log in first.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state.")


HTTP_ERROR_MESSAGES = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("not_authenticated", _l("Please log in first.")),
    403: ("forbidden", _l("You are not allowed to do this.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    409: ("conflict", _l("This conflicts with the current state.")),
    413: ("too_large", _l("The request is too large.")),
    415: ("unsupported_media_type", _l("Send JSON with Content-Type: application/json.")),
    422: ("validation_failed", _l("Some fields are not valid.")),
    429: ("rate_limited", _l("Too many attempts. Please wait a moment and try again.")),
    500: ("internal_error", _l("Something went wrong on our side. Please try again later.")),
}


def error_for_status(status: int, fields: Mapping[str, Any] | None = None) -> DomainError:
    code, message = HTTP_ERROR_MESSAGES.get(status, HTTP_ERROR_MESSAGES[400])
    error = DomainError(message, code=code, fields=fields)
    error.status = status
    return error
