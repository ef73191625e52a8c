"""The pages of the libraries: forms that guide, the review queue, bulk approval."""
from __future__ import annotations

import sqlalchemy as sa

from exchange.catalog.models import Entry, EntryStatus
from tests import factories


def test_the_form_keeps_what_was_typed_and_explains_each_problem(browser, db):
    owner = factories.organization(db, kind="enterprise", region="HE").owner
    browser.login(owner.email, factories.PASSWORD)
    response = browser.post("/needs/new", {
        "title": "<script>alert(1)</script>", "summary": "", "field": "smart-mfg.robots",
        "district": str(owner.organization.district_id), "keywords": "机器人", "budget_min_fen": "十万",
        "budget_max_fen": "50", "deadline": "2001-02-03", "modes": "joint_development",
        "required_maturity": "pilot"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)</script>" not in page
    assert page.count('class="field-error"') >= 2  # the summary and the budget at least
    assert db.scalar(sa.select(sa.func.count()).select_from(Entry)) == 0


def test_amounts_are_typed_in_yuan_and_stored_in_fen(browser, db):
    owner = factories.organization(db, kind="enterprise", region="HE").owner
    browser.login(owner.email, factories.PASSWORD)
    response = browser.post("/needs/new", {
        "title": "工业机器人视觉引导需求", "summary": "寻找 3D 视觉引导方案。", "field": "smart-mfg.robots",
        "district": str(owner.organization.district_id), "keywords": "视觉，机器人", "budget_min_fen": "12.5",
        "budget_max_fen": "1,200,000", "deadline": "2030-02-03", "modes": "joint_development",
        "required_maturity": "pilot"})
    assert response.status_code == 302
    need = db.scalars(sa.select(Entry)).one()
    assert (need.budget_min_fen, need.budget_max_fen) == (1250, 120_000_000)


def test_the_review_queue_lists_the_regions_submissions_oldest_first_and_approves_in_bulk(browser, db):
    first = factories.entry(db, "achievement", region="TJ", status="submitted")
    second = factories.entry(db, "need", region="TJ", status="submitted")
    elsewhere = factories.entry(db, "need", region="BJ", status="submitted")
    admin = factories.region_admin(db, "TJ")
    browser.login(admin.email, factories.PASSWORD)

    page = browser.get("/review/entries").get_data(as_text=True)
    assert page.index(first.title) < page.index(second.title) and elsewhere.title not in page

    response = browser.post("/review/entries/approve", {"entry": [str(first.id), str(second.id), str(elsewhere.id)]})
    assert response.status_code == 302
    statuses = dict(db.execute(sa.select(Entry.id, Entry.status)).all())
    assert statuses[first.id] is statuses[second.id] is EntryStatus.APPROVED
    assert statuses[elsewhere.id] is EntryStatus.SUBMITTED
    assert f"#{elsewhere.id}" in browser.get("/review/entries").get_data(as_text=True)  # the refusal is reported


def test_an_organisation_page_shows_its_published_entries(app, db):
    published = factories.entry(db, "achievement", region="BJ")
    draft = factories.entry(db, "achievement", status="draft",
                            owner=db.get(Entry, published.id).organization.members[0])
    page = app.test_client().get(f"/organizations/{published.organization_id}").get_data(as_text=True)
    assert published.title in page and draft.title not in page


def test_a_reviewer_sees_what_changed_since_the_last_submission(browser, db):
    from exchange.catalog.services import change_status, update_entry

    entry = factories.entry(db, "achievement", region="HE", status="rejected")
    owner = db.get(Entry, entry.id).organization.members[0]
    update_entry(db, owner, entry.kind, entry.id, {"summary": "补充了第三方检测数据的新摘要。"})
    change_status(db, owner, entry.kind, entry.id, "submit")
    browser.login(factories.region_admin(db, "HE").email, factories.PASSWORD)
    changes = browser.get(f"/achievements/{entry.id}").get_data(as_text=True).split('class="changes"')[1]
    assert "补充了第三方检测数据的新摘要。" in changes and "<del>" in changes
