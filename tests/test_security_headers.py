"""Headers on every answer, generic errors, CSRF, safe redirects, no inline script, safe start-up.

quality.md, security checks "headers", "errors", "CSRF", "redirects" and "output".
"""
from __future__ import annotations

import importlib
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from exchange import PROJECT_ROOT, create_app
from tests import factories

SECRET_DETAIL = "kaboom: the database password is hunter2"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with two test-only routes that fail unexpectedly, one page and one API call."""
    def fail() -> Any:
        raise RuntimeError(SECRET_DETAIL)

    app.add_url_rule("/test-only/failure", "test_only_failure", fail)
    app.add_url_rule("/api/v1/test-only/failure", "test_only_api_failure", fail)
    return app


@pytest.fixture
def member(app_db: Any) -> dict[str, Any]:
    with app_db() as session:
        user = factories.organization(session).owner
        return {"id": user.id, "email": user.email}


def policy_of(response: Any) -> dict[str, str]:
    directives = (part.strip() for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: value for name, _, value in (d.partition(" ") for d in directives if d)}


ANSWERS = {
    "a page": ("/", 200),
    "a missing page": ("/no-such-page", 404),
    "a page behind login": ("/account", 302),
    "a wrong method": ("/logout", 405),
    "an API answer": ("/api/v1/regions", 200),
    "an API error": ("/api/v1/me", 401),
    "a missing API resource": ("/api/v1/no-such-thing", 404),
    "a failing page": ("/test-only/failure", 500),
    "a failing API call": ("/api/v1/test-only/failure", 500),
    "a static file": ("/static/css/app.css", 200),
    "the OpenAPI document": ("/api/v1/openapi.json", 200),
}


@pytest.mark.parametrize("path, status", ANSWERS.values(), ids=ANSWERS.keys())
def test_every_answer_carries_the_security_headers(failing_app, path, status):
    response = failing_app.test_client().get(path, base_url="https://localhost")
    assert response.status_code == status

    policy = policy_of(response)
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    script_sources = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in script_sources and "'unsafe-eval'" not in script_sources
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer",
                                                   "same-origin", "strict-origin")


def test_the_headers_are_there_for_a_refused_form_too(browser):
    response = browser.client.post("/login", data={"email": "x@example.cn", "password": "whatever"})
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# Errors --------------------------------------------------------------------------------------

def test_an_unexpected_failure_shows_a_generic_page_without_details(failing_app, caplog):
    response = failing_app.test_client().get("/test-only/failure")

    assert response.status_code == 500 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    for leak in (SECRET_DETAIL, "hunter2", "Traceback", "RuntimeError", 'File "', "exchange/"):
        assert leak not in body
    assert SECRET_DETAIL in caplog.text  # the operators still learn what happened, from the log


def test_an_unexpected_failure_in_the_api_answers_the_generic_error_shape(failing_app):
    response = failing_app.test_client().get("/api/v1/test-only/failure")

    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": response.get_json()["error"]["message"]}}
    body = response.get_data(as_text=True)
    for leak in (SECRET_DETAIL, "hunter2", "Traceback", "RuntimeError"):
        assert leak not in body


# CSRF and safe methods ------------------------------------------------------------------------

def test_csrf_protection_is_on_in_the_tests_too(app):
    assert app.config["WTF_CSRF_ENABLED"] is True


@pytest.mark.parametrize("path", ["/login", "/logout", "/language", "/password/forgot", "/organizations/register",
                                  "/account/password", "/account/tokens"])
def test_a_form_post_without_a_csrf_token_is_refused(member, browser, path):
    browser.login(member["email"], factories.PASSWORD)

    response = browser.client.post(path, data={"email": member["email"], "password": factories.PASSWORD,
                                               "locale": "en", "name": "x"})

    assert response.status_code == 400
    assert browser.get("/account").status_code == 200  # still logged in: nothing happened


def test_a_form_post_with_a_token_from_another_session_is_refused(member, browser, new_browser):
    foreign_token = new_browser().csrf_token()
    browser.login(member["email"], factories.PASSWORD)

    response = browser.client.post("/logout", data={"csrf_token": foreign_token})

    assert response.status_code == 400
    assert browser.get("/account").status_code == 200


def test_logging_out_by_get_is_not_possible(member, browser):
    browser.login(member["email"], factories.PASSWORD)

    assert browser.get("/logout").status_code == 405
    assert browser.get("/account").status_code == 200


# Redirects after login -----------------------------------------------------------------------

OFF_SITE = ["https://evil.example", "http://evil.example/organizations", "//evil.example", "///evil.example",
            "/\\evil.example", "\\\\evil.example", "/\t/evil.example", " //evil.example", "/%09/evil.example",
            "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
            "https:evil.example", "http://localhost@evil.example", "evil.example"]


def assert_stays_on_site(location: str) -> None:
    parts = urlsplit(location)
    assert parts.scheme in ("", "http", "https") and parts.netloc in ("", "localhost"), location
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and not any(ord(char) < 33 for char in location), location


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_site_after_login(member, new_browser, target):
    in_form = new_browser().post("/login", {"email": member["email"], "password": factories.PASSWORD, "next": target})
    in_query = new_browser().post("/login", {"email": member["email"], "password": factories.PASSWORD},
                                  query_string={"next": target})

    for response in (in_form, in_query):
        assert response.status_code == 302
        assert_stays_on_site(response.headers["Location"])


def test_next_leads_to_a_page_of_the_site_after_login(member, new_browser):
    response = new_browser().post("/login", {"email": member["email"], "password": factories.PASSWORD,
                                             "next": "/organizations?region=BJ"})

    assert response.headers["Location"] == "/organizations?region=BJ"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_leads_off_site(browser, target):
    response = browser.post("/language", {"locale": "en", "next": target})

    assert response.status_code == 302
    assert_stays_on_site(response.headers["Location"])


# Templates -------------------------------------------------------------------------------------

TEMPLATES = sorted((PROJECT_ROOT / "templates").rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 5


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(PROJECT_ROOT / "templates")))
def test_templates_have_no_inline_script_and_mark_nothing_safe(template: Path):
    text = template.read_text(encoding="utf-8")

    assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", text, re.IGNORECASE), "inline <script>"
    assert not re.search(r"\|\s*safe\b", text), "|safe turns escaping off"
    assert "autoescape false" not in text.replace(" ", " ").lower()
    assert not re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE), "inline event handler"
    assert "javascript:" not in text.lower()
    assert not re.search(r"<style\b|\sstyle\s*=", text, re.IGNORECASE), "inline style (CSP style-src 'self')"


# The search highlighter is the one place that builds markup: it escapes the text first and adds
# only its own <mark> tags (quality.md: Meilisearch's highlights are not escaped, so we do it).
MARKUP_BUILDERS = {PROJECT_ROOT / "exchange" / "search" / "highlight.py"}


def test_python_code_marks_no_markup_safe():
    sources = (PROJECT_ROOT / "exchange").rglob("*.py")
    offenders = [str(path) for path in sources if path not in MARKUP_BUILDERS
                 and re.search(r"\bMarkup\(|\|safe", path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_highlighter_escapes_before_it_marks():
    from exchange.search.highlight import highlight

    marked = str(highlight('<img src=x onerror="alert(1)">锂电池', ["锂电池", "img"]))
    assert marked == '&lt;<mark>img</mark> src=x onerror=&#34;alert(1)&#34;&gt;<mark>锂电池</mark>'


def test_autoescape_is_on_for_html_templates(app):
    from flask import render_template

    from exchange.errors import DomainError

    assert app.jinja_env.autoescape("page.html") is True
    with app.test_request_context():
        page = render_template("errors/error.html", error=DomainError("<script>alert(1)</script>"))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


# Start-up in production ----------------------------------------------------------------------

GOOD_SECRET = secrets.token_urlsafe(48)


@pytest.fixture
def start_in_production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Start the app as a production process would: the environment is read when config is imported."""
    import config

    def start(**environment: str) -> Flask:
        for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FLASK_DEBUG", "EXCHANGE_ENV", "FORCE_HTTPS",
                     "PUBLIC_URL", "SERVER_NAME", "TRUSTED_HOSTS", "MAIL_SERVER", "MAIL_BACKEND"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite'}")
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
        monkeypatch.setenv("PUBLIC_URL", "https://localhost")  # the test client's host
        monkeypatch.setenv("MAIL_SERVER", "smtp.example.cn")
        for name, value in environment.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        importlib.reload(config)
        return create_app(environment="production")

    yield start
    monkeypatch.undo()
    importlib.reload(config)


@pytest.mark.parametrize("secret", [None, "", "development-only-secret-do-not-use-in-production", "short-secret",
                                    "x" * 31], ids=["unset", "empty", "the development secret", "short", "31 chars"])
def test_production_refuses_to_start_without_a_real_secret_key(start_in_production, secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        start_in_production(SECRET_KEY=secret)


def test_production_refuses_to_start_in_debug_mode(start_in_production):
    with pytest.raises(RuntimeError, match="debug"):
        start_in_production(SECRET_KEY=GOOD_SECRET, FLASK_DEBUG="1")


def test_production_starts_with_a_real_secret_and_debug_off(start_in_production):
    app = start_in_production(SECRET_KEY=GOOD_SECRET)

    assert app.debug is False and app.testing is False
    assert app.config["SECRET_KEY"] == GOOD_SECRET
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_production_sends_plain_http_to_https(start_in_production):
    app = start_in_production(SECRET_KEY=GOOD_SECRET)

    response = app.test_client().get("/organizations")

    assert response.status_code in (301, 302)
    assert response.headers["Location"].startswith("https://")


@pytest.mark.parametrize("public_url", [None, "", "exchange.example.cn", "ftp://exchange.example.cn",
                                        "https://exchange.example.cn/portal"],
                         ids=["unset", "empty", "no scheme", "not http", "with a path"])
def test_production_refuses_to_start_without_a_public_address_for_links_in_mail(start_in_production, public_url):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        start_in_production(SECRET_KEY=GOOD_SECRET, PUBLIC_URL=public_url)


def test_production_takes_the_public_address_from_server_name_too(start_in_production):
    app = start_in_production(SECRET_KEY=GOOD_SECRET, PUBLIC_URL=None, SERVER_NAME="exchange.example.cn")

    assert app.config["PUBLIC_URL"] == "https://exchange.example.cn"


def test_production_answers_only_requests_for_its_own_host(start_in_production):
    client = start_in_production(SECRET_KEY=GOOD_SECRET, PUBLIC_URL="https://exchange.example.cn").test_client()

    forged = client.get("/login", base_url="https://evil.example")
    real = client.get("/login", base_url="https://exchange.example.cn")

    assert forged.status_code == 400
    assert "evil.example" not in forged.get_data(as_text=True)
    assert forged.headers["X-Content-Type-Options"] == "nosniff"
    assert real.status_code == 200


def test_production_trusts_the_hosts_it_is_told_to(start_in_production):
    client = start_in_production(SECRET_KEY=GOOD_SECRET, PUBLIC_URL="https://exchange.example.cn",
                                 TRUSTED_HOSTS="exchange.example.cn, 10.0.0.5").test_client()

    assert client.get("/login", base_url="https://10.0.0.5").status_code == 200
    assert client.get("/login", base_url="https://evil.example").status_code == 400


def test_production_refuses_to_start_without_a_mail_server(start_in_production):
    with pytest.raises(RuntimeError, match="MAIL_SERVER"):
        start_in_production(SECRET_KEY=GOOD_SECRET, MAIL_SERVER=None)


def test_production_writes_mail_to_the_log_only_when_told_so_explicitly(start_in_production, caplog):
    with caplog.at_level("WARNING", logger="exchange"):
        app = start_in_production(SECRET_KEY=GOOD_SECRET, MAIL_SERVER=None, MAIL_BACKEND="log")

    assert app.config["MAIL_BACKEND"] == "log"
    assert "MAIL_BACKEND=log" in caplog.text
