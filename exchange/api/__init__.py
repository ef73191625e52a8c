"""The JSON API at /api/v1: request authentication, the error shape, OpenAPI by flask-smorest."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import Flask, g, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from flask_login import current_user
from webargs.flaskparser import FlaskParser, abort, is_json_request

from exchange.errors import NotAuthenticated

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
    def _register_error_handlers(self) -> None:
        """The app's own handlers answer every error in the one error shape."""


api = ExchangeApi()


class ArgumentsParser(FlaskParser):
    """webargs' parser, with two answers of its own for a JSON body.

    A body that is not JSON is 415 (webargs would read it as an empty object and answer that
    every field is missing), and a body nested too deep for Python's JSON parser
    (RecursionError) is invalid JSON like any other: 400, not a 500.
    """

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req) and (req.content_length or req.get_data(cache=True)):
            abort(415)
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            import json

            self._handle_invalid_json_error(json.JSONDecodeError("JSON nested too deeply", "", 0), req)


class Blueprint(flask_smorest.Blueprint):
    """The blueprint of every API feature (use it instead of flask_smorest's)."""

    ARGUMENTS_PARSER = ArgumentsParser()

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


def init_api(app: Flask) -> None:
    from exchange.accounts.api import auth_bp, me_bp
    from exchange.catalog.api import bp as catalog_bp
    from exchange.search.views import api_bp as search_bp
    from exchange.extensions import csrf
    from exchange.orgs.api import bp as organizations_bp
    from exchange.taxonomy.api import bp as taxonomy_bp
    from exchange.vouchers.api import bp as vouchers_bp

    api.init_app(app)
    for blueprint in (auth_bp, me_bp, organizations_bp, taxonomy_bp, catalog_bp, search_bp, vouchers_bp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.before_request(authenticate_api_request)
