"""The charts page in headless Chromium: switch the matrix with htmx, then click a cell through."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_charts_switch_rows_and_click_a_cell_through_to_its_passages(page):
    page.goto("/")
    page.get_by_role("link", name="Charts", exact=True).click()
    page.wait_for_url(re.compile(r"/charts$"))
    expect(page.locator("#matrix h2")).to_contain_text("holders × topics")
    assert page.locator("#by-source svg.chart").count() >= 1

    # The switch swaps only the matrix and pushes a URL that renders the whole page.
    page.get_by_role("link", name="Sources (outlet or document)").click()
    page.wait_for_url(re.compile(r"/charts\?by=source$"))
    expect(page.locator("#matrix h2")).to_contain_text("sources × topics")
    assert page.locator("#blind-spots").is_visible()

    row = page.locator("table.vp-matrix tbody tr", has=page.locator("th", has_text="Le Soir"))
    cell = row.locator("td[data-topic='deportation'] a")
    count = int(cell.locator(".vp-count").inner_text())
    cell.click()
    page.wait_for_url(re.compile(r"/topics/deportation\?document=Le(\+|%20)Soir$"))
    expect(page.locator("#results .card")).to_have_count(count)
    assert set(page.locator("#results .card .outlet").all_inner_texts()) == {"Le Soir"}

    page.go_back()
    page.wait_for_url(re.compile(r"/charts\?by=source$"))
    expect(page.locator("#matrix h2")).to_contain_text("sources × topics")
