"""Chinese is the default language, English is complete, and the user can switch."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "exchange" / "translations"


def test_every_message_has_a_chinese_translation():
    with open(TRANSLATIONS / "messages.pot", "rb") as template_file:
        template = read_po(template_file)
    with open(TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as catalog_file:
        catalog = read_po(catalog_file)
    missing = [message.id for message in template if message.id and (
        catalog.get(message.id) is None or catalog.get(message.id).fuzzy
        or not all(catalog.get(message.id).string if isinstance(catalog.get(message.id).string, tuple)
                   else [catalog.get(message.id).string]))]
    assert missing == []


def test_the_catalog_template_is_up_to_date_with_the_code():
    """Every gettext call in code and templates is in messages.pot (run scripts/i18n-update)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = TRANSLATIONS.parents[1]
    with open(root / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    in_code = {message for _file, _line, message, _comments, _context
               in extract_from_dir(str(root), method_map, options_map, keywords=keywords)}
    with open(TRANSLATIONS / "messages.pot", "rb") as template_file:
        in_template = {message.id for message in read_po(template_file)}
    assert in_code - in_template == set()


def test_pages_are_chinese_by_default(browser):
    page = browser.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN"' in page and "登录" in page


def test_a_visitor_switches_to_english_and_back(browser):
    response = browser.post("/language", {"locale": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = browser.get("/login").get_data(as_text=True)
    assert '<html lang="en"' in page and "Log in" in page

    browser.post("/language", {"locale": "zh_CN", "next": "/"})
    assert "登录" in browser.get("/login").get_data(as_text=True)


def test_the_browser_language_is_honoured(app):
    page = app.test_client().get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Forgot your password?" in page


def test_api_errors_speak_the_callers_language(app):
    client = app.test_client()
    chinese = client.get("/api/v1/me").get_json()["error"]["message"]
    english = client.get("/api/v1/me", headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    assert english == "Please log in first." and chinese != english
