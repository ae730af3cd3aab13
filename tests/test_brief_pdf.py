"""A topic's brief printed: the PDF `counterpoint brief --format pdf` makes with headless Chromium,
and the page as the print stylesheet lays it out on paper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata

import pytest
from conftest import chromium_path
from playwright.sync_api import expect
from pypdf import PdfReader

from webapp.corpus import taxonomy
from webapp.findings import brief
from webapp.store.db import connect

pytestmark = pytest.mark.browser


def words(text: str) -> str:
    """Text as a PDF's extracted text compares: ligatures undone, every run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def test_the_cli_prints_the_brief_to_a_pdf(browser, loaded, tmp_path):
    db = connect(str(loaded / "instance" / "counterpoint.db"))
    found = brief.build_brief(db, taxonomy.from_db(db).get("security"))
    db.close()
    target = tmp_path / "briefs" / "security.pdf"
    target.parent.mkdir()
    # Its own process: Playwright's sync API runs one instance per thread, and the browser fixture holds this one's.
    env = {**os.environ, "COUNTERPOINT_CHROMIUM_PATH": chromium_path()}
    result = subprocess.run(
        [sys.executable, "-c", "from webapp.cli import main; main()", "--corpus", str(loaded),
         "brief", "security", "--format", "pdf", "-o", str(target)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"Wrote the PDF brief on Security to {target}." in result.stderr
    reader = PdfReader(target)
    assert len(reader.pages) >= 1
    text = words(" ".join(page.extract_text() for page in reader.pages))
    assert "Brief: Security" in text and "TARGET PROPOSITION" in text
    quote = found.sides[0].arguments[0].quote
    assert words(" ".join(quote.split()[:12])) in text
    assert [p.name for p in target.parent.iterdir()] == ["security.pdf"]


def test_paper_gets_the_brief_without_the_site_around_it(page):
    page.goto("/topics/security")
    page.get_by_role("link", name="Brief: key arguments, citations, blind spots").click()
    page.wait_for_url(re.compile(r"/topics/security/brief$"))
    # Reached by a boosted link, the page still gets its stylesheet and its print button.
    expect(page.get_by_role("button", name="Print / PDF")).to_be_visible()
    assert page.locator("article.brief").evaluate("e => getComputedStyle(e).maxWidth") == "832px"
    expect(page.locator("header.site")).to_be_visible()
    page.emulate_media(media="print")
    for hidden in ("header.site", "nav.crumbs", ".print-brief", ".brief-actions"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("ol.citations > li").first).to_be_visible()
    colour = page.locator(".brief blockquote.quote p").first.evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(0, 0, 0)"
