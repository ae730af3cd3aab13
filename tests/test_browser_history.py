"""Back and forward in headless Chromium show the data as it is now, after a change made elsewhere."""

from __future__ import annotations

import re

import pytest
from conftest import CHROMIUM_ARGS, chromium_path
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TOPIC = "/topics/deportation"
TOKEN = "history-test-token"


def unlabelled_on_topic(client) -> int:
    """A passage that no one has labelled for the topic, so labelling it adds one to a column."""
    passages = client.get("/api/passages?limit=200").get_json()
    return next(p["id"] for p in passages if not any(lb["topic"] == "deportation" for lb in p["labels"]))


def label_elsewhere(app, stance: str = "favour") -> None:
    """Save a label through the API from another session, as a colleague's browser would."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = TOKEN
    body = {"labels": [{"topic": "deportation", "stance": stance, "holder": "a colleague"}]}
    response = client.put(f"/api/passages/{unlabelled_on_topic(client)}/labels", json=body,
                          headers={"X-CSRFToken": TOKEN})
    assert response.status_code == 200, response.get_data(as_text=True)


def travel(page, direction: str, url: str) -> None:
    """Press Back or Forward and wait until a new document at `url` has loaded.

    htmx keeps no snapshots (historyCacheSize 0), so every step loads the page from the server:
    for a URL htmx pushed, it changes the URL and then reloads, which makes Playwright's own
    go_back give up.
    """
    with page.expect_event("load"):
        page.evaluate(f"setTimeout(() => history.{direction}())")
    assert re.search(re.escape(url) + "$", page.url), page.url


def favour_count(page):
    """The number on the topic page's "supports" column heading."""
    return page.locator("#col-favour .n")


def test_back_after_an_htmx_navigation_shows_a_label_saved_meanwhile(page, app):
    page.goto(TOPIC)
    expect(favour_count(page)).to_have_text("3")
    # A boosted link: htmx fetches the page and pushes its URL, the document stays the same.
    page.locator("#card-38").get_by_role("link", name="Passage details").click()
    page.wait_for_url(re.compile(r"/passages/38$"))
    expect(page.locator("h1")).to_be_visible()

    label_elsewhere(app)
    travel(page, "back", TOPIC)
    expect(favour_count(page)).to_have_text("4")


def test_back_after_a_filter_change_shows_a_label_saved_meanwhile(page, app):
    page.goto(TOPIC)
    expect(favour_count(page)).to_have_text("3")
    # An htmx fragment swap with hx-push-url: only #results changes, the URL gains ?view=holder.
    page.get_by_label("Rows by holder").check()
    page.wait_for_url(re.compile(r"view=holder"))
    expect(favour_count(page)).to_have_count(0)
    label_elsewhere(app)
    travel(page, "back", TOPIC)
    expect(favour_count(page)).to_have_text("4")


def test_back_after_a_full_page_load_shows_a_label_saved_meanwhile(page, app):
    page.goto(TOPIC)
    expect(favour_count(page)).to_have_text("3")
    page.goto("/passages/38")  # a whole new document, not an htmx swap

    label_elsewhere(app)
    travel(page, "back", TOPIC)
    expect(favour_count(page)).to_have_text("4")


def test_forward_shows_fresh_data_too(page, app):
    page.goto(TOPIC)
    page.locator("#card-38").get_by_role("link", name="Passage details").click()
    page.wait_for_url(re.compile(r"/passages/38$"))
    travel(page, "back", TOPIC)
    expect(favour_count(page)).to_have_text("3")

    label_elsewhere(app)
    travel(page, "forward", "/passages/38")
    travel(page, "back", TOPIC)
    expect(favour_count(page)).to_have_text("4")



@pytest.fixture
def bfcache_page(browser, live_server):
    """A page in a Chromium that keeps left pages in its back/forward cache, as users' browsers do.

    Playwright switches that cache off by default. A page restored from it sends no request.
    """
    chromium = browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                           ignore_default_args=["--disable-back-forward-cache"])
    tab = chromium.new_context(base_url=live_server).new_page()
    yield tab
    chromium.close()


def test_a_page_restored_from_the_back_forward_cache_is_reloaded(bfcache_page, app):
    page = bfcache_page
    page.goto(TOPIC)
    page.goto(TOPIC)  # the first visit sets the session cookie, and a page that does is never kept
    expect(favour_count(page)).to_have_text("3")
    page.goto("/passages/38")

    label_elsewhere(app)
    travel(page, "back", TOPIC)
    expect(favour_count(page)).to_have_text("4")
