"""The parts of the passage page that two screens render: the label widget, history and related panel.

They live here, not in a blueprint, so that no blueprint imports another.
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app, request

from webapp.corpus import taxonomy
from webapp.labels import current, editor, links
from webapp.labels import queue as label_queue
from webapp.similarity import index
from webapp.web import access, caching
from webapp.web.database import get_taxonomy, related_index, similarity_enabled, suggestion_model

LINK_NOUNS = {
    "contradicts": ("counterpoint", "counterpoints"),
    "supports": ("supporting passage", "supporting passages"),
    "same_claim": ("passage with the same claim", "passages with the same claim"),
    "responds_to": ("response", "responses"),
}
MODE_NAMES = {"all": "All", "same_topic": "Same topic", "counterpoints": "Counterpoints"}
PANEL_SIZE = 8
# A passage can have thousands of counterpoints; "Show more" pages through them up to here.
MAX_SHOWN = 200


def panel_context(db, passage: dict, mode: str = "all", error: str = "", shown: int | None = None) -> dict:
    """What the related panel shows for a passage: suggestions in a mode, and confirmed links.

    Counterpoints are all listed, `shown` at a time (PANEL_SIZE by default, MAX_SHOWN at most).
    While the worker builds its first index in the background, the panel says so instead.
    """
    mode = mode if mode in index.MODES else "all"
    on = similarity_enabled() and passage["kind"] == "content"
    shown = min(max(shown or PANEL_SIZE, PANEL_SIZE), MAX_SHOWN)
    counter, suggestions, preparing = None, [], None
    try:
        if on and mode == "counterpoints":
            counter = index.counterpoints(db, related_index(db), passage["id"], shown)
            suggestions = counter.found
        elif on:
            suggestions = index.suggestions(db, related_index(db), passage["id"], mode, PANEL_SIZE)
    except index.Preparing as exc:
        # The page is of this moment, not of the data: it must not be confirmed as current later.
        caching.of_the_moment()
        preparing = exc
    more = counter is not None and counter.total > shown and shown < MAX_SHOWN
    return {
        "related_enabled": similarity_enabled(),
        "related_on": on,
        "related_preparing": preparing,
        "passage_has_labels": bool(current.passage_stances(db, [passage["id"]])),
        "related_mode": mode,
        "counterpoints": counter,
        "more_shown": min(shown + PANEL_SIZE, MAX_SHOWN) if more else None,
        "suggestions": suggestions,
        "linked": [row for row in links.for_passage(db, passage["id"]) if row["relation"] != links.DISMISSED],
        "relations": links.RELATIONS,
        "mode_names": MODE_NAMES,
        "link_error": error,
    }


def passage_extras(db, passage: dict) -> dict:
    """What the passage page adds for labelling: the widget, the history and what can be undone."""
    annotator = access.current_annotator()
    history = editor.history(db, passage["document"], passage["position"])
    current = editor.state(db, passage["document"], passage["position"], annotator) if annotator else []
    mine = next((c for c in history if c.annotator == annotator), None)
    return {
        **editor_context(db, passage, annotator),
        "history": history,
        "undoable_id": mine.id if mine and mine.after == current else None,
    }


def editor_context(db, passage: dict, annotator: str | None) -> dict:
    """What the label widget needs to show a passage for an annotator."""
    tax = get_taxonomy()
    rows = editor.state(db, passage["document"], passage["position"], annotator) if annotator else []
    before, after = label_queue.neighbours(db, passage["document"], passage["position"])
    suggested, waiting = _suggestions(db, passage, tax, rows)
    form_rows = label_queue.form_rows(tax, rows, passage["text"], suggested)
    shown = _relevant_rows(db, passage, form_rows)
    return {
        "rows": shown,
        "suggestions_wait": waiting,
        "hidden_topics": len(form_rows) - len(shown),
        "reviewed": any(r["topic"] == "" and r["text"] == passage["text"] for r in rows),
        "stale": any(r["text"] != passage["text"] for r in rows),
        "before": before,
        "after": after,
        "holders": label_queue.holders(db),
        "keys": label_queue.key_map(tax),
        "stances": taxonomy.STANCES,
    }


def _relevant_rows(db, passage: dict, rows: list[dict]) -> list[dict]:
    """All topic rows for a small taxonomy; for a large one, those that may concern this passage.

    A row with a stance (given or suggested) is always kept, so saving the form never drops a
    label the annotator cannot see. `?topics=all` shows every topic.
    """
    if len(rows) <= label_queue.FORM_TOPICS or request.args.get("topics") == "all":
        return rows
    nearby = {t for (t,) in db.execute("SELECT DISTINCT topic FROM labels WHERE document = ?", [passage["document"]])}
    return [
        r for r in rows
        if r["stance"] or r["topic"].id in nearby or (r["suggested"] and r["suggested"].probability >= 0.3)
    ]


def _suggestions(db, passage: dict, tax, rows: list[dict]) -> tuple[dict, dict[str, int]]:
    """For a passage the annotator has not labelled yet: the suggestions worth showing per
    topic, and per topic not pre-filled yet, about how many more labels its models need."""
    if rows or passage["kind"] != "content" or not current_app.config.get("SUGGESTIONS", True):
        return {}, {}
    model = suggestion_model(db, tax.ids)
    return (model.confident([passage["text"]])[0], model.waiting) if model else ({}, {})


def passage_labels(db, document: str, position: int | None = None) -> dict[int, list[dict]]:
    """Labels of a document's passages by position, each marked stale if its text changed."""
    sql = f"""SELECT l.*, {current.STALE} AS stale
        FROM labels l LEFT JOIN passages p ON p.document = l.document AND p.position = l.position
        WHERE l.document = ?"""
    params: list = [document]
    if position is not None:
        sql += " AND l.position = ?"
        params.append(position)
    by_position: dict[int, list[dict]] = defaultdict(list)
    for row in db.query(sql + " ORDER BY l.position, l.topic, l.annotator", params):
        by_position[row["position"]].append(row)
    return by_position
