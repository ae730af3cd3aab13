"""Failed requests in headless Chromium: an htmx request that gets an error says so in the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.corpus import preview

pytestmark = pytest.mark.browser

TEXT = (
    "Talks in Kabul raise hopes and fears\n\nBy Jane Doe\n\n"
    "European officials met Taliban representatives in Kabul last week. The talks were technical.\n\n"
    "Rights groups condemned the visit. They said no Afghan could be sent back safely.\n"
)
# Over the default 2 MB limit: 2.5 MiB of text.
BIG = {"name": "big.txt", "mimeType": "text/plain", "buffer": b"A sentence about talks in Kabul.\n" * 79_500}


@pytest.fixture
def tab(browser, live_server):
    """A page that fails the test on a script error; failed requests log console errors here on purpose."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda exc: crashes.append(str(exc)))
    yield page
    context.close()
    assert not crashes, crashes


def alert(page):
    """The region that shows what went wrong with an htmx request."""
    return page.locator("#request-error[role=alert]")


def test_an_over_limit_upload_says_its_size_and_the_limit_and_keeps_the_form(tab):
    tab.goto("/add")
    tab.fill("input[name=title]", "A very long report")
    tab.set_input_files("#file", BIG)
    expect(alert(tab)).to_be_empty()
    tab.get_by_role("button", name="Preview the passages").click()
    said = re.compile(r"^The upload is larger than the limit of 2 MB: it is 2\.6 MB\. Upload a smaller file")
    expect(alert(tab)).to_have_text(said)
    expect(alert(tab)).to_have_class("error")
    # The page stays put, with what the person typed, so a smaller file can be chosen.
    assert tab.url.endswith("/add")
    expect(tab.locator("input[name=title]")).to_have_value("A very long report")

    tab.set_input_files("#file", {"name": "talks.txt", "mimeType": "text/plain", "buffer": TEXT.encode()})
    tab.get_by_role("button", name="Preview the passages").click()
    expect(tab.locator("#preview .draft-passage")).to_have_count(4)
    expect(alert(tab)).to_be_empty()


def test_without_javascript_an_over_limit_upload_gets_a_readable_error_page(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/add")
        page.set_input_files("#file", BIG)
        page.get_by_role("button", name="Preview the passages").click()
        expect(page.locator("h1")).to_have_text("Request Entity Too Large")
        said = re.compile(r"The upload is larger than the limit of 2 MB: it is 2\.6 MB\.")
        expect(page.locator(".error-text")).to_have_text(said)
    finally:
        context.close()


def test_a_refused_htmx_request_shows_the_servers_message(tab):
    tab.goto("/add")
    tab.fill("#source_text", TEXT)
    tab.get_by_role("button", name="Preview the passages").click()
    expect(tab.locator("#preview .draft-passage")).to_have_count(4)
    # The session is gone (a cleared cookie, an expired sign-in): the next change is refused with 400.
    tab.context.clear_cookies()
    tab.locator("#draft-1 select").select_option("navigation")
    expect(alert(tab)).to_contain_text("This form has expired or did not come from Counterpoint")
    expect(tab.locator("#preview .draft-passage")).to_have_count(4)


def test_a_server_error_on_an_htmx_request_shows_a_message(app, tab, monkeypatch):
    def broken(draft, action):
        raise RuntimeError("a bug")

    monkeypatch.setattr(preview, "apply", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # serve the error page, as in production, not the traceback
    tab.goto("/add")
    tab.fill("#source_text", TEXT)
    tab.get_by_role("button", name="Preview the passages").click()
    tab.locator("#draft-0").get_by_role("button", name="Split").click()
    expect(alert(tab)).to_contain_text("Something went wrong on the server")
    expect(tab.locator("#preview .draft-passage")).to_have_count(4)


def test_a_server_that_cannot_be_reached_is_reported(tab):
    tab.goto("/add")
    tab.fill("#source_text", TEXT)
    tab.get_by_role("button", name="Preview the passages").click()
    expect(tab.locator("#preview .draft-passage")).to_have_count(4)
    tab.route("**/add/edit", lambda route: route.abort("connectionreset"))
    tab.locator("#draft-1 select").select_option("navigation")
    expect(alert(tab)).to_contain_text("Counterpoint could not be reached")
