"""Show more in headless Chromium: a column grows in place, the focus goes to its first new card,
and with JavaScript off the same link opens the longer page."""

from __future__ import annotations

import pytest
from conftest import corpus_config
from playwright.sync_api import expect
from test_browser_axe import VIEWPORTS, check_pages
from test_keyset import TOPIC, long_column_corpus

from webapp import create_app
from webapp.analysis.comparison import PAGE

pytestmark = pytest.mark.browser

AGAINST = ".column.stance-against"


@pytest.fixture
def app(corpus):
    """The app over the seed corpus plus a long column of passages against deportation."""
    long_column_corpus(corpus)
    return create_app(corpus_config(corpus))


def show_more_twice(tab) -> None:
    """Open a topic page on its "against" column (the one a phone shows) and press its Show more twice."""
    tab.goto(f"/topics/{TOPIC}?col=against")
    column = tab.locator(AGAINST)
    for shown in (2 * PAGE, 3 * PAGE):
        column.locator("a.show-more").click()
        expect(column.locator(".card")).to_have_count(shown)


def test_show_more_twice_grows_one_column_in_place(page):
    page.goto(f"/topics/{TOPIC}")
    total = int(page.locator(f"{AGAINST} h2 .n").inner_text())
    favour = page.locator(".column.stance-favour .card").count()
    # Marks this document: a page loaded anew would not carry the mark.
    page.evaluate("document.body.dataset.kept = 'yes'")
    address = page.url
    column = page.locator(AGAINST)
    for shown in (2 * PAGE, 3 * PAGE):
        column.locator("a.show-more").click()
        expect(column.locator(".card")).to_have_count(shown)
        expect(column.locator(".card").nth(shown - PAGE)).to_be_focused()
    expect(column.locator("a.show-more")).to_contain_text(f"({total - 3 * PAGE} not shown)")
    ids = column.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.passage)")
    assert len(set(ids)) == 3 * PAGE
    assert page.evaluate("document.body.dataset.kept") == "yes" and page.url == address
    expect(page.locator(".column.stance-favour .card")).to_have_count(favour)


def test_show_more_works_as_a_plain_link_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    tab = context.new_page()
    try:
        show_more_twice(tab)
        assert tab.url.endswith(f"limit={3 * PAGE}")
    finally:
        context.close()


def test_a_phone_grows_the_column_its_tab_shows(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS["phone"], has_touch=True)
    tab = context.new_page()
    try:
        show_more_twice(tab)
        expect(tab.locator(AGAINST).locator(".card").nth(2 * PAGE)).to_be_in_viewport()
    finally:
        context.close()


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_column_grown_by_show_more_passes_axe(browser, live_server, width):
    assert check_pages(browser, live_server, VIEWPORTS[width], [("topic after Show more", show_more_twice)]) == []
