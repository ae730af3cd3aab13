"""Adding a document in headless Chromium: paste, preview, re-mark, merge, save, see it."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TEXT = (
    "Talks in Kabul raise hopes and fears\n\nBy Jane Doe\n\n"
    "European officials met Taliban representatives in Kabul last week. The talks were technical.\n\n"
    "Rights groups condemned the visit. They said no Afghan could be sent back safely.\n\n"
    "Read more: our coverage of the region, every day, in your inbox.\n\n"
    "Diplomats expect a second round of meetings in the spring, although no date has been set.\n"
)


def test_paste_preview_mark_not_content_save_and_see_the_document(page, app):
    page.goto("/")
    page.get_by_role("link", name="Add document").click()
    page.wait_for_url(re.compile(r"/add$"))
    page.fill("#source_text", TEXT)
    page.fill("input[name=title]", "Talks in Kabul")
    page.fill("input[name=outlet]", "The Paper")
    page.get_by_role("button", name="Preview the passages").click()

    passages = page.locator("#preview .draft-passage")
    expect(passages).to_have_count(6)
    promo = page.locator("#draft-4")
    expect(promo.locator("select")).to_have_value("content")

    # Re-marking swaps in a new preview through htmx; the passage shows it was marked by hand.
    promo.locator("select").select_option("navigation")
    expect(page.locator("#draft-4 .hand")).to_have_text("marked by hand")
    expect(page.locator(".split-summary")).to_contain_text("3 content, 3 not content")

    page.locator("#draft-2").get_by_role("button", name="Merge with next").click()
    expect(passages).to_have_count(5)
    expect(page.locator("#draft-2 textarea")).to_have_value(re.compile(r"technical\. Rights groups"))
    expect(page.locator("#draft-3 select")).to_have_value("navigation")  # the hand mark moved along

    page.locator(".save-bar").get_by_role("button", name="Save document").click()
    page.wait_for_url(re.compile(r"/documents/talks-in-kabul\.txt$"))
    expect(page.locator("h1")).to_have_text("Talks in Kabul")
    marked = page.locator("li#p-3")
    expect(marked).to_have_class(re.compile(r"kind-navigation"))
    expect(marked.locator(".kind")).to_have_text("Site navigation")
    expect(page.locator("li#p-2 .text")).to_contain_text("technical. Rights groups")


def test_the_preview_works_with_javascript_off(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/add")
        page.fill("#source_text", TEXT)
        page.get_by_role("button", name="Preview the passages").click()
        page.locator("#draft-4 select").select_option("ad")
        page.locator("#draft-0").get_by_role("button", name="Split").click()
        expect(page.locator(".error")).to_contain_text("single sentence")
        expect(page.locator("#draft-4 select")).to_have_value("ad")
        page.locator(".save-bar").get_by_role("button", name="Save document").click()
        page.wait_for_url(re.compile(r"/documents/talks-in-kabul-raise-hopes-and-fears\.txt$"))
        expect(page.locator("li#p-4")).to_have_class(re.compile(r"kind-ad"))
    finally:
        context.close()
