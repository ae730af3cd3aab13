"""Correcting the key arguments: move a passage to another argument, merge two, name one, undo.

Each screen is a plain page with a form; htmx boosts them like any other. The corrections are
kept by labels/corrections.py and written to labels/arguments.jsonl after each change.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from webapp.findings import arguments
from webapp.labels import corrections, editor
from webapp.web import access
from webapp.web.database import get_db, get_taxonomy
from webapp.web.rendering import invalid_status

bp = Blueprint("arguments", __name__, url_prefix="/topics/<topic_id>/arguments")


@bp.route("/move", methods=["GET", "POST"])
def move(topic_id: str):
    """Choose another argument for one passage (or make it an argument of its own)."""

    def apply(db, topic, place, passage: int, choice: str):
        anchor = passage if choice == "alone" else _number(choice, missing=None)
        if anchor is None:
            raise corrections.CorrectionError("Choose the argument this passage makes.")
        corrections.move(db, topic.id, passage, anchor, access.current_annotator())
        return "The passage is now an argument of its own." if anchor == passage else "Moved the passage.", anchor

    return _correct(topic_id, "passage", "to", "arguments/move.html", "Move this passage to another argument…", apply)


@bp.route("/merge", methods=["GET", "POST"])
def merge(topic_id: str):
    """Fold one argument into another: every passage of the first joins the second."""

    def apply(db, topic, place, key: int, choice: str):
        into = _number(choice, missing=None)
        if into is None:
            raise corrections.CorrectionError("Choose the argument to merge into.")
        corrections.merge(db, topic.id, list(place.members), into, access.current_annotator())
        n = len(place.members)
        return f"Merged {n} passage{'' if n == 1 else 's'} into the argument.", into

    return _correct(topic_id, "argument", "into", "arguments/merge.html", "Merge into another argument…", apply)


def _correct(topic_id: str, subject: str, field: str, template: str, action: str, apply):
    """The choose-then-post screen both corrections share: GET shows the choices for `subject` (a
    passage number), POST applies `field` through `apply` and returns to the view, or shows the error."""
    topic, db = _topic(topic_id), get_db()
    if subject not in request.values:
        return render_template("arguments/choose.html", topic=topic, action=action)
    number = _number(request.values[subject])
    place = _place(db, topic.id, number)
    error = ""
    if request.method == "POST":
        try:
            message, key = apply(db, topic, place, number, request.form.get(field, ""))
        except corrections.CorrectionError as exc:
            error = str(exc)
        else:
            return _done(db, topic, message, key)
    return render_template(template, topic=topic, place=place, number=number, error=error), _status(error)


@bp.post("/name")
def name(topic_id: str):
    """Name an argument (an empty name goes back to its representative sentence)."""
    topic, db = _topic(topic_id), get_db()
    key = _number(request.form.get("argument", ""))
    _place(db, topic.id, key)
    given = request.form.get("name", "")
    try:
        corrections.name(db, topic.id, key, given, access.current_annotator())
    except corrections.CorrectionError as exc:
        flash(str(exc))
        return redirect(_view_url(topic, key), 303)
    return _done(db, topic, "Named the argument." if given.strip() else "Removed the argument's name.", key)


@bp.post("/undo")
def undo(topic_id: str):
    """Take back your latest correction of this topic's arguments."""
    topic, db = _topic(topic_id), get_db()
    undone = corrections.undo_last(db, topic.id, access.current_annotator())
    if undone is None:
        flash("There is no correction of yours to undo on this topic.")
        return redirect(_view_url(topic), 303)
    return _done(db, topic, "Undid your latest correction.", None)


def _status(error: str) -> int:
    return invalid_status() if error else 200


def _topic(topic_id: str):
    topic = get_taxonomy().get(topic_id)
    if topic is None:
        abort(404, f"There is no topic “{topic_id}” in this corpus.")
    return topic


def _number(value: str, missing: int | None = -1) -> int | None:
    """A passage number from a form or query, or `missing`; -1 makes the caller's lookup 404."""
    return int(value) if value.isdigit() and len(value) < 19 else missing


def _place(db, topic_id: str, passage: int) -> arguments.Place:
    if passage < 0:
        abort(404, "That is not a passage number.")
    place = arguments.place(db, topic_id, passage)
    if place is None:
        abort(404, f"Passage {passage} takes no stance on this topic, so it is in none of its arguments.")
    return place


def _view_url(topic, key: int | None = None) -> str:
    anchor = f"argument-{key}" if key is not None else None
    return url_for("topics.topic", topic_id=topic.id, view="arguments", _anchor=anchor)


def _done(db, topic, message: str, key: int | None):
    """Write labels/arguments.jsonl and go back to the Arguments view with the outcome."""
    try:
        corrections.export(db, Path(current_app.config["LABELS_DIR"]))
    except editor.LabelFilesError as exc:
        current_app.logger.error("%s", exc)
        message = f"{message} {exc}"
    flash(message)
    return redirect(_view_url(topic, key), 303)
