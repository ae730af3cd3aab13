"""Labelling in headless Chromium with the keyboard only: save three, undo one, reload."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from webapp.labels import mirror

pytestmark = pytest.mark.browser

DOC = "000_26419f1f75a7eb13.txt"


def queue_order(db, n: int) -> list[int]:
    """The first n passages of the queue."""
    return [r[0] for r in db.execute(
        "SELECT id FROM passages WHERE kind = 'content' ORDER BY document, position LIMIT ?", [n]
    )]


def shown(page, passage_id: int) -> None:
    """Wait until the queue shows this passage."""
    page.wait_for_selector(f'.to-label[data-passage="{passage_id}"]')


def mine(corpus, annotator: str) -> list[tuple]:
    """The annotator's records in the label file, as (position, topic, stance, holder)."""
    text = mirror.label_file(corpus / "labels", DOC).read_text(encoding="utf-8")
    return [(r["position"], r["topic"], r["stance"], r["holder"])
            for r in map(json.loads, text.splitlines()) if r["annotator"] == annotator]


def test_label_three_passages_undo_one_and_reload(page, app, db, corpus):
    # Model suggestions would pre-fill topics; this journey checks exactly what the keys set.
    app.config["SUGGESTIONS"] = False
    annotator = app.config["ANNOTATOR"]
    first, second, third, fourth = queue_order(db, 4)
    positions = dict(db.execute("SELECT id, position FROM passages WHERE id IN (?, ?, ?)", [first, second, third]))
    page.goto("/label")
    shown(page, first)

    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    assert "Make Recognition and engagement the active topic" in page.locator("#shortcuts").inner_text()
    page.keyboard.press("Escape")

    page.keyboard.press("r")
    page.keyboard.press("a")
    page.keyboard.press("h")
    page.keyboard.type("Op-ed author")
    page.keyboard.press("Enter")
    shown(page, second)
    assert "Saved passage" in page.locator(".flash").inner_text()

    page.keyboard.press("d")
    page.keyboard.press("f")
    page.keyboard.press("Enter")
    shown(page, third)

    page.keyboard.press("w")
    page.keyboard.press("Enter")  # a topic without a stance is not saved silently
    assert "Choose a stance for Women's rights" in page.locator(".label-form .problem").inner_text()
    page.keyboard.press("n")
    page.keyboard.press("s")
    page.keyboard.press("a")
    page.keyboard.press("h")
    assert page.locator('input[name="holder-security"]').input_value() == ""
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    shown(page, fourth)
    assert mine(corpus, annotator) == [
        (positions[first], "recognition", "against", "Op-ed author"),
        (positions[second], "deportation", "favour", None),
        (positions[third], "security", "against", None),
        (positions[third], "womens_rights", "neutral", None),
    ]

    page.keyboard.press("u")
    shown(page, third)
    assert "Undone" in page.locator(".flash").inner_text()
    assert page.locator('input[name="stance-security"][value=""]').is_checked()

    page.reload()
    shown(page, third)
    assert mine(corpus, annotator) == [
        (positions[first], "recognition", "against", "Op-ed author"),
        (positions[second], "deportation", "favour", None),
    ]
    page.keyboard.press("x")
    shown(page, fourth)

    page.goto(f"/passages/{first}")
    assert page.locator('input[name="stance-recognition"][value="against"]').is_checked()
    assert page.locator('input[name="holder-recognition"]').input_value() == "Op-ed author"
    assert page.locator("ol.history li").count() == 1


def test_mouse_labelling_on_the_passage_page(page, app, db, corpus):
    (pid,) = queue_order(db, 1)
    page.goto(f"/passages/{pid}")
    page.get_by_label("Sees it as insecure").check()
    page.locator('input[name="holder-security"]').fill("Someone")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("ol.history li")
    assert "Sees it as insecure" in page.locator("ol.history li").first.inner_text()
    page.get_by_role("button", name="Undo this change").click()
    expect(page.locator("ol.history li")).to_have_count(2)
    assert mine(corpus, app.config["ANNOTATOR"]) == []
