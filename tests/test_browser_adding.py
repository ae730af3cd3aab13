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


def test_add_a_document_then_label_it_from_its_first_passage_to_its_second(page, app, db):
    # Model suggestions would pre-fill topics; this journey checks exactly what the click sets.
    app.config["SUGGESTIONS"] = False
    page.goto("/add")
    page.fill("#source_text", TEXT)
    page.fill("input[name=title]", "Talks in Kabul")
    page.get_by_role("button", name="Preview the passages").click()
    page.locator(".save-bar").get_by_role("button", name="Save document").click()
    page.wait_for_url(re.compile(r"/documents/talks-in-kabul\.txt$"))
    expect(page.locator(".flash")).to_contain_text("Saved “Talks in Kabul”")

    page.get_by_role("link", name="Label this document").click()
    page.wait_for_url(re.compile(r"/label\?document=talks-in-kabul\.txt$"))
    first, second = [r[0] for r in db.execute(
        "SELECT id FROM passages WHERE document = 'talks-in-kabul.txt' AND kind = 'content' ORDER BY position LIMIT 2")]
    expect(page.locator(".to-label")).to_have_attribute("data-passage", str(first))
    expect(page.locator(".scope-note")).to_contain_text("Labelling only Talks in Kabul")

    page.check('input[name="stance-deportation"][value="against"]')
    page.get_by_role("button", name=re.compile("Save and next")).click()
    expect(page.locator(".to-label")).to_have_attribute("data-passage", str(second))
    expect(page.locator(".scope-note")).to_contain_text("Labelling only Talks in Kabul")
    page.wait_for_url(re.compile(rf"/label\?document=talks-in-kabul\.txt&after={first}$"))
    saved = db.execute("SELECT document, topic, stance FROM labels WHERE annotator = ?", [app.config["ANNOTATOR"]])
    assert list(saved) == [("talks-in-kabul.txt", "deportation", "against")]


# Long enough to scroll: the passages worked on below sit far down the preview.
LONG_TEXT = TEXT + "".join(
    f"\nParagraph {n} of the report says what the officials said on day {n} of the talks.\n" for n in range(6, 18)
)


def preview_scrolled_to(page, position: int):
    """The preview of LONG_TEXT in a small window, scrolled to show passage `position`; its select."""
    page.set_viewport_size({"width": 900, "height": 500})
    page.goto("/add")
    page.fill("#source_text", LONG_TEXT)
    page.get_by_role("button", name="Preview the passages").click()
    select = page.locator(f"#draft-{position} select")
    select.scroll_into_view_if_needed()
    return select


def edit_requests(page) -> list[str]:
    """The preview edits the page sends from now on, as they are sent."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.url.endswith("/add/edit") else None)
    return sent


def test_a_kind_chosen_by_keyboard_keeps_focus_and_place(page):
    select = preview_scrolled_to(page, 12)
    select.focus()
    top = page.evaluate("window.scrollY")
    assert top > 0
    sent = edit_requests(page)

    # Chromium changes a closed select at each arrow key; the preview must wait for Enter.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(select).to_have_value("byline")
    page.wait_for_timeout(300)
    assert sent == []

    with page.expect_response(lambda response: response.url.endswith("/add/edit")):
        page.keyboard.press("Enter")
    row = page.locator("#draft-12")
    expect(row.locator(".hand")).to_have_text("marked by hand")
    expect(row).to_have_class(re.compile(r"kind-byline"))
    expect(row.locator("select")).to_have_value("byline")
    expect(page.locator("#draft-12-kind")).to_be_focused()
    assert page.evaluate("window.scrollY") == top
    assert len(sent) == 1


def test_arrowing_sends_nothing_escape_takes_it_back_and_tab_applies(page):
    select = preview_scrolled_to(page, 12)
    select.focus()
    sent = edit_requests(page)

    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert sent == []
    page.keyboard.press("Escape")
    expect(select).to_have_value("content")

    select.focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    with page.expect_response(lambda response: response.url.endswith("/add/edit")):
        page.keyboard.press("Tab")
    expect(page.locator("#draft-12 select")).to_have_value("navigation")
    expect(page.locator("#draft-12 .hand")).to_have_text("marked by hand")
    expect(page.locator("#draft-12-split")).to_be_focused()
    assert len(sent) == 1


def test_an_edit_refused_far_down_the_preview_shows_its_message(page):
    preview_scrolled_to(page, 14)
    page.locator("#draft-14").get_by_role("button", name="Split").click()
    expect(page.locator("#preview .error")).to_contain_text("single sentence")
    expect(page.locator("#preview .error")).to_be_in_viewport()
    expect(page.locator("#draft-14-split")).to_be_focused()
