"""Accessibility in headless Chromium: axe-core's WCAG 2.2 AA rules on every page type at desktop and phone
widths, one h1 per page, the skip link and the keyboard focus ring."""

from __future__ import annotations

import pytest
from conftest import PAKISTAN, REPO, add_second_annotator, corpus_config, passage_id, served
from helpers_web import web_server
from playwright.sync_api import expect
from test_auth import shared_app
from test_feeds import ROUTES as FEED_SITE

from webapp import create_app
from webapp.cli import main
from webapp.findings import arguments

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PASTED = (
    "Talks in Kabul raise hopes and fears\n\nBy Jane Doe\n\n"
    "European officials met Taliban representatives in Kabul last week. The talks were technical.\n\n"
    "Read more: our coverage of the region, every day, in your inbox.\n"
)

# Runs axe on the page as it stands and keeps what a failure message needs.
RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  })))"""


def axe_problems(tab) -> list[str]:
    """axe's WCAG 2.2 AA violations on the page and a missing or repeated h1: rule, impact, help, then each
    failing element's selector and axe's summary of what to fix."""
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(REPO)} is missing: run `make setup`, which runs `npm ci`")
    # Folded content is checked too: open every <details> before the run.
    tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    tab.add_script_tag(path=AXE)
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        + "".join(f"\n    {n['target']}: {' '.join(n['summary'].split())}" for n in v["nodes"])
        for v in tab.evaluate(RUN_AXE, WCAG_22_AA)
    ]
    headings = tab.locator("h1").count()
    if headings != 1:
        problems.append(f"page-has-one-h1: {headings} h1 elements")
    return problems


def check_pages(browser, base_url: str, viewport: dict, pages) -> list[str]:
    """Visit each (name, visit) pair in a fresh CSP-free tab and collect the problems axe_problems finds."""
    # axe arrives as an inline script, which the app's Content-Security-Policy would rightly block.
    context = browser.new_context(base_url=base_url, viewport=viewport, bypass_csp=True)
    found = []
    try:
        for name, visit in pages:
            tab = context.new_page()
            visit(tab)
            tab.wait_for_load_state("networkidle")
            found += [f"{name}: {problem}" for problem in axe_problems(tab)]
            tab.close()
    finally:
        context.close()
    return found


def goto(path: str, status: int = 200):
    """A visit that loads a path and checks the status it answers with."""

    def visit(tab):
        response = tab.goto(path)
        assert response.status == status, f"{path} answered {response.status}"

    return visit


def preview(tab):
    """The add screen after pasting a text and asking for its passages."""
    goto("/add")(tab)
    tab.fill("#source_text", PASTED)
    tab.get_by_role("button", name="Preview the passages").click()
    expect(tab.locator("#preview .draft-passage").first).to_be_visible()


@pytest.fixture
def shared_server(corpus):
    """A shared-mode app, where annotators sign in, served on a free 127.0.0.1 port; yields its base URL."""
    with served(shared_app(corpus)) as base:
        yield base


@pytest.mark.parametrize("width", VIEWPORTS)
def test_every_page_type_passes_axe_wcag_22_aa(browser, live_server, db, width):
    add_second_annotator(db)
    contested = passage_id(db, PAKISTAN, 7)
    argument = arguments.topic_arguments(db, "deportation")["against"][0].key
    pages = [
        ("overview", goto("/")),
        *[(f"topic ({view})", goto(f"/topics/deportation?view={view}"))
          for view in ("stance", "holder", "source", "arguments")],
        ("move a passage to another argument", goto(f"/topics/deportation/arguments/move?passage={argument}")),
        ("merge arguments", goto(f"/topics/deportation/arguments/merge?argument={argument}")),
        ("passage", goto(f"/passages/{contested}")),
        ("labelling queue", goto("/label")),
        ("add", goto("/add")),
        ("add preview", preview),
        ("add a topic", goto("/topics/new")),
        ("edit a topic", goto("/topics/deportation/edit")),
        # There is no /documents index (the list is on the overview), so this is the 404 a guessed URL meets.
        ("documents", goto("/documents", 404)),
        ("document", goto(f"/documents/{PAKISTAN}")),
        ("search", goto("/search?q=taliban")),
        ("agreement", goto("/agreement")),
        ("disagreements", goto("/disagreements")),
        ("charts", goto("/charts")),
        ("not found", goto("/topics/no-such-topic", 404)),
    ]
    problems = check_pages(browser, live_server, VIEWPORTS[width], pages)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_new_corpus_and_a_feed_listing_pass_axe_wcag_22_aa(browser, runner, tmp_path, width):
    root = tmp_path / "new"
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    app = create_app({**corpus_config(root), "FETCH_PRIVATE_ADDRESSES": True})
    with web_server(FEED_SITE) as site, served(app) as base:
        pages = [
            (f"empty {path}", goto(path)) for path in ("/", "/label", "/search", "/agreement", "/charts", "/topics/new")
        ] + [("feed listing", goto(f"/add/feed?url={site.url('/feeds/courier.xml')}"))]
        problems = check_pages(browser, base, VIEWPORTS[width], pages)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", VIEWPORTS)
def test_the_sign_in_page_passes_axe_wcag_22_aa(browser, shared_server, width):
    problems = check_pages(browser, shared_server, VIEWPORTS[width], [("sign in", goto("/login"))])
    assert not problems, "\n".join(problems)


def test_the_skip_link_comes_first_shows_on_focus_and_moves_focus_to_main(page):
    page.goto("/topics/deportation")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab continues inside the content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize("selector", ["header.site a.brand", "#filters button[type=submit]", "svg.chart a"])
def test_keyboard_focus_draws_a_ring_at_least_2px_wide(page, selector):
    page.goto("/charts" if selector.startswith("svg") else "/topics/deportation")
    page.keyboard.press("Tab")  # a keyboard user, so focus is drawn as for the keyboard
    target = page.locator(selector).first
    target.focus()
    ring = target.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return {visible: el.matches(':focus-visible'), style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
    )
    assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, ring
