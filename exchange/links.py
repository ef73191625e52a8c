"""Absolute links for mail, from the configured PUBLIC_URL: never from the Host header of a request,
which anyone can set (a reset link on evil.example would hand its token to whoever runs it)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of an endpoint; works in a request, the worker and the command line alike."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def site_path(endpoint: str, **values: Any) -> str:
    """The path of an endpoint (`/achievements/7`), as stored with an inbox message; needs no request."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT", "/"))
    return adapter.build(endpoint, values)


def public_link(path: str) -> str:
    """The absolute address of a site path such as `/achievements/7`."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
