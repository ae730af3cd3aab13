"""Search in headless Chromium: live results as you type, the URL kept in step, Back restores."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_typing_shows_live_results_and_pushes_the_url(page):
    page.goto("/")
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"/search$"))
    page.fill("#q", "Kabu")
    page.wait_for_url(re.compile(r"q=Kabu"))
    expect(page.locator("#results li.hit mark").first).to_have_text(re.compile("^Kabul", re.I))
    everything = page.locator("#results li.hit").count()

    page.select_option("select[name=topic]", "security")
    page.wait_for_url(re.compile(r"topic=security"))
    expect(page.locator("#results li.hit")).not_to_have_count(everything)

    page.go_back()
    page.wait_for_url(re.compile(r"q=Kabu(&|$)(?!.*topic=security)"))
    expect(page.locator("#results li.hit")).to_have_count(everything)


def test_search_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    tab = context.new_page()
    tab.goto("/search")
    tab.fill("#q", "deported")
    tab.get_by_role("button", name="Search").click()
    tab.wait_for_url(re.compile(r"q=deported"))
    assert tab.locator("#results li.hit mark").count() > 0
    context.close()
