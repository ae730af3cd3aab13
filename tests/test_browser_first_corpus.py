"""A new subject from zero in headless Chromium: `counterpoint init`, a first topic made in the
browser, a first document added by link, and its first label."""

import json
import re

import pytest
from conftest import corpus_config
from helpers_web import Route, article_html, web_server
from playwright.sync_api import expect

from webapp import create_app
from webapp.cli import main
from webapp.corpus import taxonomy

pytestmark = pytest.mark.browser


@pytest.fixture
def corpus(runner, tmp_path):
    """A corpus started by `counterpoint init`, as a new user would."""
    root = tmp_path / "harbour"
    result = runner.invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def app(corpus):
    """The app over the fresh corpus, labelling as one local annotator."""
    return create_app({**corpus_config(corpus), "ANNOTATOR": "mara"})


@pytest.fixture
def site():
    """A news site on loopback serving one article written for this test."""
    with web_server({"/news/harbour-wall": Route(body=article_html())}) as running:
        yield running


def test_from_init_to_a_first_label_on_a_document_added_by_link(page, corpus, site):
    page.goto("/")
    expect(page.get_by_role("link", name="Add your first document")).to_be_visible()
    page.get_by_role("link", name="Add your first topic").click()
    page.wait_for_url(re.compile(r"/topics/new$"))

    page.get_by_role("textbox", name="Name", exact=True).fill("Harbour wall")
    page.get_by_role("textbox", name="Target proposition", exact=True).fill("Raising the harbour wall is the right way to stop the floods.")
    page.get_by_role("textbox", name="Key", exact=True).fill("h")
    page.get_by_role("textbox", name="Favour", exact=True).fill("Backs the wall")
    page.get_by_role("textbox", name="Against", exact=True).fill("Opposes the wall")
    page.get_by_role("button", name="Add the topic").click()
    page.wait_for_url(re.compile(r"/topics/harbour_wall$"))
    expect(page.locator("h1")).to_contain_text("Harbour wall")
    written = taxonomy.load(corpus / "labels" / "taxonomy.toml").get("harbour_wall")
    assert written.labels["favour"] == "Backs the wall" and written.key == "h"
    # The commented example of `init` is still there: the file was edited, not rewritten.
    assert "# [[topics]]" in (corpus / "labels" / "taxonomy.toml").read_text(encoding="utf-8")

    page.goto("/add")
    page.get_by_label(re.compile("Add from a link")).fill(site.url("/news/harbour-wall"))
    page.get_by_role("button", name="Fetch").click()
    expect(page.locator("#preview .draft-passage").first).to_be_visible()
    expect(page.locator("input[name=title]")).to_have_value("Harbour wall plan divides the town council")
    expect(page.locator("input[name=outlet]")).to_have_value("The Estuary Courier")
    expect(page.locator("input[name=url]")).to_have_value(site.url("/news/harbour-wall"))
    page.locator(".save-bar").get_by_role("button", name="Save document").click()
    page.wait_for_url(re.compile(r"/documents/"))
    expect(page.locator("h1")).to_have_text("Harbour wall plan divides the town council")

    page.get_by_role("link", name="Label this document").click()
    form = page.locator(".label-form")
    expect(form).to_contain_text("Raising the harbour wall is the right way to stop the floods.")
    passage = page.locator(".to-label").get_attribute("data-passage")
    supporters = page.locator(".to-label").inner_text()
    form.get_by_label(re.compile("Backs the wall")).check()
    form.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.locator(".to-label")).not_to_have_attribute("data-passage", passage)

    files = list((corpus / "labels" / "passages").glob("*.jsonl"))
    assert len(files) == 1
    (record,) = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert (record["topic"], record["stance"], record["annotator"]) == ("harbour_wall", "favour", "mara")
    assert record["text"] in supporters
