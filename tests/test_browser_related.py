"""The related panel in headless Chromium while a large corpus's index is built: it fills itself in."""

import pytest
from helpers_related import background_app, finish
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
# Bounds the wait for the panel's next poll (every two seconds) on a busy machine; never reached when it works.
POLLED = 20_000

@pytest.fixture
def app(corpus):
    """The app over the seed corpus, building its related index in the background."""
    return background_app(corpus)


def test_the_panel_says_it_is_preparing_then_shows_the_suggestions_by_itself(page, held, kassou):
    page.goto(f"/passages/{kassou}")
    expect(page.locator("#related [role=status]")).to_contain_text("Finding related passages")
    held.release.set()
    expect(page.locator("#related .suggestion").first).to_be_visible(timeout=POLLED)
    expect(page.locator("#related [role=status]")).to_have_count(0)
    assert page.locator("#related-title").count() == 1  # the panel was replaced, not nested in itself


def test_without_javascript_the_refresh_link_shows_them(app, browser, live_server, held, kassou):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"/passages/{kassou}")
    assert "Finding related passages" in tab.locator("#related [role=status]").inner_text()
    finish(app, held)
    tab.get_by_role("link", name="Refresh").click()
    tab.wait_for_load_state()
    assert tab.locator("#related .suggestion").count() > 0
    context.close()
