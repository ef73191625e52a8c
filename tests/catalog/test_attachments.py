"""Attachments: type from content, stored outside the web root, served only to who may see the entry."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests import factories

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def draft_and_owner(db, browser):
    owner = factories.organization(db, kind="institute", region="TJ").owner
    draft = factories.entry(db, "achievement", status="draft", owner=owner)
    browser.login(owner.email, factories.PASSWORD)
    return draft, owner


def upload(browser, entry_id: int, name: str, content: bytes):
    return browser.post(f"/achievements/{entry_id}/attachments",
                        {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("name, content", [("报告.pdf", PDF), ("图.png", PNG), ("说明.docx", docx_bytes())])
def test_accepted_types_are_stored_under_random_names_and_downloaded_as_attachments(app, browser, draft_and_owner,
                                                                                    name, content):
    draft, _ = draft_and_owner
    assert upload(browser, draft.id, name, content).status_code == 302
    page = browser.get(f"/achievements/{draft.id}").get_data(as_text=True)
    assert name in page
    link = f"/achievements/{draft.id}/attachments/1"
    response = browser.get(link)
    assert response.status_code == 200 and response.data == content
    assert response.headers["Content-Disposition"].startswith("attachment")
    stored = list(Path(app.instance_path, "uploads").iterdir()) if not app.config.get("UPLOAD_DIR") else []
    assert all(name not in path.name for path in stored)


@pytest.mark.parametrize("name, content", [
    ("virus.pdf", b"MZ\x90\x00 this is an executable"),
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("image.pdf", PNG),  # content and name disagree
    ("empty.pdf", b""),
])
def test_other_content_is_refused_with_a_message(browser, draft_and_owner, name, content):
    draft, _ = draft_and_owner
    response = upload(browser, draft.id, name, content)
    assert response.status_code == 302
    page = browser.get(f"/achievements/{draft.id}").get_data(as_text=True)
    assert "flash-error" in page and name not in page.split("flash-error")[0][-10:]


def test_an_oversized_request_is_413(app, browser, draft_and_owner):
    draft, _ = draft_and_owner
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = upload(browser, draft.id, "big.pdf", PDF + b"0" * 4096)
    assert response.status_code == 413


def test_a_draft_attachment_is_hidden_from_the_public(app, browser, draft_and_owner):
    draft, _ = draft_and_owner
    upload(browser, draft.id, "报告.pdf", PDF)
    assert app.test_client().get(f"/achievements/{draft.id}/attachments/1").status_code == 404


def test_uploads_are_stored_outside_the_static_folder(app):
    static = Path(app.static_folder).resolve()
    with app.app_context():
        from exchange.storage import upload_dir

        assert static not in upload_dir().resolve().parents


def test_a_docx_that_unpacks_to_a_gigabyte_is_refused_with_a_message(browser, draft_and_owner):
    draft, _ = draft_and_owner
    bomb = factories.zip_declaring(docx_bytes(), "word/document.xml", 2**30)

    assert upload(browser, draft.id, "炸弹.docx", bomb).status_code == 302

    page = browser.get(f"/achievements/{draft.id}").get_data(as_text=True)
    assert "flash-error" in page and "炸弹.docx" not in page
    assert "200 MB" in page


def test_a_docx_of_thousands_of_parts_is_refused(browser, draft_and_owner):
    draft, _ = draft_and_owner
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(2001):
            archive.writestr(f"word/media/{number}.xml", "")

    assert upload(browser, draft.id, "碎片.docx", buffer.getvalue()).status_code == 302

    page = browser.get(f"/achievements/{draft.id}").get_data(as_text=True)
    assert "flash-error" in page and "碎片.docx" not in page
