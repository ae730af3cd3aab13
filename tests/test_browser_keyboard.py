"""Keyboard labelling that never surprises: each key sequence, typed in Chromium, and what it saved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from webapp.similarity import suggester

pytestmark = pytest.mark.browser

ACTIVE = re.compile(r"\bactive\b")


@pytest.fixture
def suggesting(monkeypatch):
    """Make the gated model propose these stances, sure of each, for every passage.

    Whether a suggestion is pre-filled is the server's call; each test checks the row is marked
    pre-filled before typing, so a change there fails loudly instead of passing vacuously.
    """
    def use(stances: dict[str, str]) -> None:
        fixed = {topic: suggester.Suggestion(topic, 0.95, stance, 0.9) for topic, stance in stances.items()}
        # `confident` is what the form reads: the suggestions whose models passed their gates.
        monkeypatch.setattr(suggester.Suggester, "confident", lambda self, texts: [dict(fixed) for _ in texts])
    return use


def open_queue(page, db) -> int:
    """Open /label and return the id of the passage it shows."""
    pid = db.execute("SELECT id FROM passages WHERE kind = 'content' ORDER BY document, position LIMIT 1").fetchone()[0]
    page.goto("/label")
    page.wait_for_selector(f'.to-label[data-passage="{pid}"]')
    return pid


def keys(page, *sequence: str) -> None:
    """Press each key in turn; "type:TEXT" types TEXT."""
    for key in sequence:
        if key.startswith("type:"):
            page.keyboard.type(key.removeprefix("type:"))
        else:
            page.keyboard.press(key)


def saved_after_enter(page, db, app, pid: int) -> list[tuple]:
    """Press Enter, wait for the queue to move on, and return the labels saved on the passage."""
    page.keyboard.press("Enter")
    expect(page.locator(".to-label")).not_to_have_attribute("data-passage", str(pid))
    return db.execute(
        """SELECT l.topic, l.stance, l.holder FROM labels l JOIN passages p
        ON p.document = l.document AND p.position = l.position
        WHERE p.id = ? AND l.annotator = ? ORDER BY l.topic""",
        [pid, app.config["ANNOTATOR"]],
    ).fetchall()


def row(page, topic: str):
    return page.locator(f'.topic-row[data-topic="{topic}"]')


def test_topic_key_keeps_a_suggestion_and_h_types_its_holder(page, app, db, suggesting):
    suggesting({"deportation": "against"})
    pid = open_queue(page, db)
    expect(row(page, "deportation")).to_have_attribute("data-suggested", "against")
    keys(page, "d", "h", "type:Zora Quill")
    assert saved_after_enter(page, db, app, pid) == [("deportation", "against", "Zora Quill")]


def test_h_alone_goes_to_the_only_suggestion(page, app, db, suggesting):
    suggesting({"deportation": "against"})
    pid = open_queue(page, db)
    expect(row(page, "deportation")).to_have_attribute("data-suggested", "against")
    keys(page, "h", "type:Zora Quill")
    assert saved_after_enter(page, db, app, pid) == [("deportation", "against", "Zora Quill")]


def test_the_key_of_the_active_topic_drops_it(page, app, db, suggesting):
    suggesting({"deportation": "against"})
    pid = open_queue(page, db)
    expect(row(page, "deportation")).to_have_attribute("data-suggested", "against")
    keys(page, "d", "d")
    assert saved_after_enter(page, db, app, pid) == [("", None, None)]


def test_shift_a_accepts_every_suggestion_again(page, app, db, suggesting):
    suggesting({"recognition": "favour", "deportation": "against"})
    pid = open_queue(page, db)
    expect(row(page, "recognition")).to_have_attribute("data-suggested", "favour")
    keys(page, "d", "d", "r", "n")  # drop one suggestion, change the other
    keys(page, "Shift+A")
    assert saved_after_enter(page, db, app, pid) == [("deportation", "against", None), ("recognition", "favour", None)]


def test_tab_out_of_the_holder_field_keeps_the_active_topic(page, app, db):
    app.config["SUGGESTIONS"] = False
    pid = open_queue(page, db)
    keys(page, "r", "f", "h", "type:Zora Quill", "Tab")
    assert page.evaluate("document.activeElement.name") == "stance-deportation"
    keys(page, "a")
    assert saved_after_enter(page, db, app, pid) == [("recognition", "against", "Zora Quill")]


def test_shift_tab_keeps_the_active_topic_and_copies_no_holder(page, app, db):
    app.config["SUGGESTIONS"] = False
    pid = open_queue(page, db)
    keys(page, "d", "f", "h", "type:Zora Quill", "Shift+Tab", "Shift+Tab")
    assert page.evaluate("document.activeElement.name") == "holder-recognition"
    expect(page.locator('input[name="holder-recognition"]')).to_have_value("")
    expect(row(page, "deportation")).to_have_class(ACTIVE)
    keys(page, "Escape", "n")
    # A click is explicit: it makes the topic active, and a holder given elsewhere carries over.
    page.locator('input[name="holder-security"]').click()
    expect(row(page, "security")).to_have_class(ACTIVE)
    expect(page.locator('input[name="holder-security"]')).to_have_value("Zora Quill")
    keys(page, "Escape", "a")
    assert saved_after_enter(page, db, app, pid) == [
        ("deportation", "neutral", "Zora Quill"), ("security", "against", "Zora Quill"),
    ]


def test_a_blocked_save_makes_the_waiting_topic_active(page, app, db):
    app.config["SUGGESTIONS"] = False
    pid = open_queue(page, db)
    keys(page, "w", "s", "a", "Enter")
    expect(page.locator(".label-form .problem")).to_contain_text("Choose a stance for Women's rights")
    keys(page, "n")
    assert saved_after_enter(page, db, app, pid) == [("security", "against", None), ("womens_rights", "neutral", None)]
