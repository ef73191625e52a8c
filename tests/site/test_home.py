"""The home page: what the portal holds per region, and a navigation that fits the role."""
from __future__ import annotations

from tests import factories


def test_the_home_page_counts_approved_organisations_per_region(browser, db):
    factories.organization(db, region="HE", kind="sme")
    factories.organization(db, region="HE", kind="provider")
    factories.organization(db, region="HE", kind="sme", status="pending")

    page = browser.get("/").get_data(as_text=True)

    hebei = page[page.index("河北省"):]
    assert '<p class="big-number">2</p>' in hebei[:400]


def test_the_navigation_fits_each_role(browser, db, new_browser):
    admin = factories.admin(db, "TJ")
    member = factories.organization(db, region="TJ", status="pending").owner

    anonymous = browser.get("/").get_data(as_text=True)
    assert "/organizations/register" in anonymous and "/review/organizations" not in anonymous

    member_browser = new_browser()
    member_browser.login(member.email, factories.PASSWORD)
    member_page = member_browser.get("/").get_data(as_text=True)
    assert f"/organizations/{member.organization_id}" in member_page and "/review/organizations" not in member_page
    assert "status-card" in member_page

    admin_browser = new_browser()
    admin_browser.login(admin.email, factories.PASSWORD)
    assert "/review/entries" in admin_browser.get("/").get_data(as_text=True)
