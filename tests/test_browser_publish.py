"""A published site in headless Chromium, from file:// and from a plain static server: no app behind it."""

from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_hostile import MARK, hostile  # noqa: F401  (hostile is a fixture)

from webapp.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture
def site(runner, loaded, tmp_path) -> Path:
    """The seed corpus published into a folder."""
    out = tmp_path / "site"
    result = runner.invoke(main, ["--corpus", str(loaded), "publish", str(out)])
    assert result.exit_code == 0, result.output
    return out


class QuietHandler(SimpleHTTPRequestHandler):
    """Python's static file server, without a log line per request."""

    def log_message(self, format, *args):
        pass


@pytest.fixture
def static_server(site):
    """The published folder served by http.server on a free 127.0.0.1 port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def new_tab(browser, **options):
    """A tab in a fresh context, and the list its console errors and page errors go into."""
    context = browser.new_context(**options)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    return context, tab, problems


def browse_and_search(tab, start: str) -> None:
    """Overview, a topic in another view, a search hit, and its passage in the document."""
    tab.goto(start)
    expect(tab.locator("footer.published")).to_contain_text(re.compile(r"Published .* from data version \w+"))
    tab.get_by_role("link", name="Deportation of Afghans").first.click()
    tab.wait_for_url(re.compile(r"topics/deportation/index\.html$"))
    expect(tab.locator("h1")).to_have_text("Deportation of Afghans")
    expect(tab.locator("article.card").first).to_be_visible()
    tab.get_by_role("link", name="Rows by holder").click()
    tab.wait_for_url(re.compile(r"topics/deportation/holder\.html$"))
    expect(tab.locator("section.row").first).to_be_visible()
    tab.get_by_role("link", name="Search", exact=True).click()
    tab.wait_for_url(re.compile(r"search\.html$"))
    tab.fill("#q", "Gallup")
    tab.press("#q", "Enter")
    hit = tab.locator("#search-hits li.hit").first
    expect(hit).to_contain_text("Gallup")
    expect(tab.locator("#search-note")).to_be_hidden()
    hit.locator("a.title").click()
    tab.wait_for_url(re.compile(r"documents/.*\.html#p-\d+$"))
    expect(tab.locator("li.passage:target")).to_contain_text("Gallup")


def test_the_site_works_opened_from_disk(browser, site):
    context, tab, problems = new_tab(browser)
    browse_and_search(tab, (site / "index.html").as_uri())
    context.close()
    assert not problems, problems


def test_the_site_works_from_a_static_server_with_htmx_boost(browser, static_server):
    context, tab, problems = new_tab(browser)
    browse_and_search(tab, f"{static_server}/index.html")
    # htmx, not the browser, followed the links: the page it started on is still the same document.
    tab.evaluate("() => { window.stillHere = true; }")
    tab.get_by_role("link", name="Charts", exact=True).click()
    tab.wait_for_url(re.compile(r"charts\.html$"))
    expect(tab.locator("h1")).to_have_text("Viewpoint charts")
    assert tab.evaluate("() => window.stillHere === true")
    context.close()
    assert not problems, problems


def test_without_javascript_pages_still_navigate_and_search_says_why_not(browser, site):
    context, tab, _ = new_tab(browser, java_script_enabled=False)
    tab.goto((site / "index.html").as_uri())
    tab.get_by_role("link", name="Deportation of Afghans").first.click()
    tab.wait_for_url(re.compile(r"topics/deportation/index\.html$"))
    tab.get_by_role("link", name="Rows by source").click()
    tab.wait_for_url(re.compile(r"topics/deportation/source\.html$"))
    tab.locator("a.in-document").first.click()
    tab.wait_for_url(re.compile(r"documents/.*\.html#p-\d+$"))
    tab.get_by_role("link", name="Search", exact=True).click()
    expect(tab.locator("#search-note")).to_contain_text("needs JavaScript")
    tab.locator("#search-note a").click()
    tab.wait_for_url(re.compile(r"index\.html#topics$"))
    context.close()


def test_hostile_fields_found_by_search_stay_text(browser, runner, corpus, hostile, tmp_path):  # noqa: F811
    out = tmp_path / "site"
    assert runner.invoke(main, ["--corpus", str(corpus), "publish", str(out)]).exit_code == 0
    context, tab, problems = new_tab(browser)
    tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    for page in ("documents/hostile.html", "topics/xss_topic/index.html", "topics/security/holder.html"):
        tab.goto((out / page).as_uri())
        expect(tab.locator("footer.published")).to_be_visible()
    tab.goto((out / "search.html").as_uri() + "?q=paragraph")
    expect(tab.locator("#search-hits li.hit").first).to_contain_text(f'<script id="{MARK}-script">')
    assert tab.evaluate("() => window.__xss === undefined")
    assert tab.locator(f'[id^="{MARK}"]').count() == 0
    context.close()
    assert not problems, problems
