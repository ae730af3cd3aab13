"""The key-arguments journey in headless Chromium: switch the topic page to Key arguments, move a
passage out of its argument, name one, and undo; with htmx and with JavaScript off."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def open_arguments(page):
    page.goto("/topics/deportation")
    page.get_by_label("Key arguments").check()
    page.wait_for_url(re.compile(r"view=arguments"))
    expect(page.locator("#results .argument").first).to_be_visible()


def test_move_a_passage_out_name_an_argument_and_undo(page, app):
    open_arguments(page)
    first = page.locator("#results .argument").first
    key = first.get_attribute("data-argument")
    cards = first.locator(".card")
    moved = next(cards.nth(i).get_attribute("data-passage") for i in range(cards.count())
                 if cards.nth(i).get_attribute("data-passage") != key)

    page.locator(f'.argument-card:has(#card-{moved}) a.move').click()
    page.get_by_label("An argument of its own").check()
    page.get_by_role("button", name="Move").click()
    # htmx follows the redirect itself, so the address it pushes has no #argument- fragment.
    expect(page.get_by_text("The passage is now an argument of its own.")).to_be_visible()
    assert re.search(r"/topics/deportation\?view=arguments", page.url)
    expect(page.locator(f"#argument-{moved}")).to_have_count(1)

    argument = page.locator(f"#argument-{key}")
    argument.get_by_label("Name").fill("Returns put lives at risk")
    argument.get_by_role("button", name="Save name").click()
    expect(page.locator(f"#argument-{key} .argument-name")).to_have_text("Returns put lives at risk")
    log = (Path(app.config["LABELS_DIR"]) / "arguments.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["action"] for line in log] == ["move", "name"]

    page.get_by_role("button", name="Undo my latest correction").click()
    expect(page.get_by_text("Undid your latest correction.")).to_be_visible()
    expect(page.locator(f"#argument-{key} .argument-name")).to_have_count(0)


def test_the_view_and_a_merge_work_with_javascript_off(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/topics/deportation")
    page.get_by_label("Key arguments").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"view=arguments"))
    side = page.locator("#results .side").filter(has=page.locator(".argument:nth-of-type(2)")).first
    source = side.locator(".argument").nth(1)
    into = side.locator(".argument").first.get_attribute("data-argument")
    source.locator("summary").click()
    source.get_by_role("link", name="Merge into another argument…").click()
    page.locator(f'input[name="into"][value="{into}"]').check()
    page.get_by_role("button", name="Merge").click()
    page.wait_for_url(re.compile(rf"#argument-{into}$"))
    expect(page.get_by_text(re.compile(r"Merged \d+ passages? into the argument\."))).to_be_visible()
    context.close()
