"""The comparison journey in headless Chromium against the app on a real loopback port."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HOLDER = "Taliban spokesman Zabihullah Mujahid"


def holders_on(page) -> set[str]:
    """The holders of the cards currently shown."""
    return set(page.locator("#results .card .holder-name").all_inner_texts())


def test_compare_filter_open_in_document_and_come_back(page):
    page.goto("/")
    page.get_by_role("link", name="Security", exact=True).click()
    page.wait_for_url(re.compile(r"/topics/security$"))
    assert page.locator(".proposition").inner_text().endswith("the Taliban provide security.")
    everyone = page.locator("#results .card").count()

    page.select_option("#holder", HOLDER)
    page.wait_for_url(re.compile(r"holder=Taliban"))
    expect(page.locator("#results .card")).not_to_have_count(everyone)
    assert holders_on(page) == {HOLDER}
    filtered = page.url

    card = page.locator("#results .card").first
    passage_id = card.get_attribute("data-passage")
    card.get_by_role("link", name="Read in its document").click()
    page.wait_for_url(re.compile(r"/documents/.+#p-\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    assert page.locator(f"li#{anchor}").is_visible()
    assert page.locator(f"li#{anchor} .permalink").get_attribute("href") == f"/passages/{passage_id}"

    page.go_back()
    page.wait_for_url(filtered)
    page.wait_for_selector("#results .card")
    assert holders_on(page) == {HOLDER}
    assert page.locator("#holder").input_value() == HOLDER


def test_search_and_view_switch_update_the_url_without_a_reload(page):
    page.goto("/topics/deportation")
    cards = page.locator("#results .card")
    everyone = cards.count()
    # The cards that mention Amnesty, as the unfiltered page shows them.
    mentioning = {card.get_attribute("data-passage") for card in cards.all() if "amnesty" in card.inner_text().lower()}
    assert mentioning and everyone > len(mentioning)
    page.evaluate("window.__marker = 1")
    page.fill("#q", "Amnesty")
    page.wait_for_url(re.compile(r"q=Amnesty"))
    expect(cards).to_have_count(len(mentioning))
    texts = cards.all_text_contents()
    assert texts and all("amnesty" in text.lower() for text in texts)
    assert {card.get_attribute("data-passage") for card in cards.all()} == mentioning
    page.check('input[name="view"][value="holder"]')
    page.wait_for_url(re.compile(r"view=holder"))
    page.wait_for_selector("#results .rows .row")
    assert page.evaluate("window.__marker") == 1, "filtering must not reload the page"


def test_filters_work_with_javascript_off(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/topics/security")
    page.select_option("#holder", HOLDER)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"holder=Taliban"))
    assert holders_on(page) == {HOLDER}
    context.close()


def test_shortcut_keys_open_the_key_map_and_focus_search(page):
    page.goto("/topics/security")
    page.keyboard.press("?")
    assert page.locator("dialog#shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_stance_headers_stay_in_view_and_every_card_names_its_stance(page):
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto("/topics/deportation")
    against = page.locator("section.column.stance-against")
    header = against.locator("h2")
    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate("y => window.scrollTo(0, y)", against.bounding_box()["y"] + against.bounding_box()["height"] / 2)
    box = header.bounding_box()
    assert 0 <= box["y"] < 5, f"the Against header scrolled away (top at {box['y']} px)"
    for stance, label in [("favour", "Supports returns"), ("neutral", "Neutral"), ("against", "Opposes returns")]:
        cards = page.locator(f"section.column.stance-{stance} .card")
        assert cards.count()
        assert cards.locator(".badge").all_inner_texts() == [label] * cards.count()
