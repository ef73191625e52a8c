"""The JSON API at /api/v1: request authentication, the error shape, OpenAPI by flask-smorest."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, g, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from flask_login import current_user
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.datastructures import CombinedMultiDict

from exchange.api.schemas import ErrorSchema
from exchange.errors import NotAuthenticated
from exchange.inputs import load_json

# Marshmallow's own messages, listed so that they are extracted into the catalogs and
# answered in the caller's language.
SCHEMA_MESSAGES = (
    _l("Missing data for required field."),
    _l("Field may not be null."),
    _l("Not a valid string."),
    _l("Not a valid utf-8 string."),
    _l("Not a valid integer."),
    _l("Not a valid number."),
    _l("Not a valid boolean."),
    _l("Not a valid list."),
    _l("Not a valid mapping type."),
    _l("Unknown field."),
    _l("Invalid input type."),
    _l("Invalid value."),
    _l("Invalid JSON body."),
)


def translate_schema_errors(messages: Any) -> dict[str, list[str]]:
    """Flatten webargs' {location: {field: [messages]}} into {field: [translated messages]}."""
    fields: dict[str, list[str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, (list, tuple)) and all(isinstance(item, str) for item in node):
            fields.setdefault(path or "_schema", []).extend(gettext(item) for item in node)
        elif isinstance(node, (list, tuple)):
            for index, item in enumerate(node):
                walk(item, f"{path}.{index}")
        else:
            fields.setdefault(path or "_schema", []).append(gettext(str(node)))

    for location_errors in (messages or {}).values():
        walk(location_errors, "")
    return fields


class ExchangeApi(Api):
    ERROR_SCHEMA = ErrorSchema  # every error response documented, and the `default` one, has the one shape

    def _register_error_handlers(self) -> None:
        """The app's own handlers answer every error in the one error shape."""


class ErrorResponsesPlugin(BasePlugin):
    """Each operation lists the errors it can answer (all in the one shape; `default` covers the rare rest).

    Every call may be refused as a bad request (400: malformed JSON or query), for a bad bearer token
    (401) or for a query no column can hold (422); a path with an id may name nothing the caller can
    see (404); a call that needs a user may be forbidden to this one (403); a change may conflict with
    the current state (409); a body may be too large (413) or not JSON (415).
    """

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            statuses = {400, 401, 422}
            if "{" in (path or ""):
                statuses.add(404)
            if operation.get("security"):
                statuses.add(403)
            if method in ("post", "put", "patch", "delete"):
                statuses.add(409)
            if "requestBody" in operation:
                statuses |= {413, 415}
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                if status not in responses and str(status) not in responses:
                    responses[status] = HTTPStatus(status).name  # the error response component of that status


api = ExchangeApi()


class ArgumentsParser(FlaskParser):
    """webargs' parser, with one more location (`form_and_files`: a multipart body's fields and
    files together), and answers of its own for a JSON body.

    A body that is not JSON is 415 (webargs would read it as an empty object and answer that
    every field is missing), a body nested too deep for Python's JSON parser (RecursionError) is
    invalid JSON like any other: 400, not a 500, and a field no column can hold (NUL, a lone
    surrogate, a number of absurd length) is 422 before any schema sees it.
    """

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def load_form_and_files(self, req: Any, schema: ma.Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            if req.content_length or req.get_data(cache=True):
                abort(415)
            return missing
        try:
            return load_json(req.get_data(cache=True).decode("utf-8"))
        except RecursionError:
            self._handle_invalid_json_error(json.JSONDecodeError("JSON nested too deeply", "", 0), req)


class Blueprint(flask_smorest.Blueprint):
    """The blueprint of every API feature (use it instead of flask_smorest's)."""

    ARGUMENTS_PARSER = ArgumentsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form_and_files": "multipart/form-data"}


BEARER_SECURITY = [{"bearerAuth": []}]


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The API's `login_required`: an anonymous caller is told 401, whatever the object.

    Place it right under the route decorator, so that it runs before the body is parsed.
    Without it an anonymous call answered 404 or 401 depending on whether the object was
    visible, unlike the page, which sends every anonymous visitor to the login form.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from exchange.web import request_actor

        if not request_actor().is_authenticated:
            raise NotAuthenticated()
        return view(*args, **kwargs)

    return wrapper


def authenticate_api_request() -> None:
    """A bearer token, if given, is the only identity of the request: the cookie is ignored."""
    from exchange.accounts.services import user_for_api_token
    from exchange.extensions import csrf, db

    if not request.path.startswith("/api/"):
        return
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        user = user_for_api_token(db.session, secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise NotAuthenticated(_l("The token is missing, invalid, expired or revoked."), code="invalid_token")
        g.api_actor = user
        return
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_user.is_authenticated:
        csrf.protect()  # a browser session acting through the API needs its CSRF token


def init_api(app: Flask, blueprints: Iterable[flask_smorest.Blueprint]) -> None:
    """Serve the API of `blueprints` (each feature's api.py; create_app names them)."""
    from exchange.extensions import csrf

    api.init_app(app, spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()]})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # unsafe calls of a browser session are checked in authenticate_api_request
    app.before_request(authenticate_api_request)
