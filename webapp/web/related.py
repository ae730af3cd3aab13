"""The related-passages panel: suggestions by TF-IDF similarity, and the links people confirm."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from webapp.labels import editor, links
from webapp.web import access, panels
from webapp.web.database import get_db, get_taxonomy, similarity_enabled
from webapp.web.rendering import render, wants_fragment

bp = Blueprint("related", __name__, url_prefix="/passages")

def _passage(db, passage_id: int) -> dict:
    rows = list(db.query("SELECT * FROM passages WHERE id = ?", [passage_id]))
    if not rows:
        abort(404, f"There is no passage number {passage_id}.")
    return rows[0]


@bp.get("/<int:passage_id>/related")
def related(passage_id: int):
    """The related panel alone for htmx, or as a page of its own; `shown` pages through counterpoints."""
    if not similarity_enabled():
        abort(404, "Related passages are switched off in this installation (SIMILARITY = False).")
    db = get_db()
    passage = _passage(db, passage_id)
    context = panels.panel_context(db, passage, request.args.get("mode", "all"), shown=request.args.get("shown", type=int))
    return render("related/related.html", "panel", passage=passage, taxonomy=get_taxonomy(), **context)


@bp.post("/<int:passage_id>/links")
def confirm(passage_id: int):
    """Confirm a suggestion as a link with a relation and an optional note."""
    return _decide(passage_id, request.form.get("relation", ""))


@bp.post("/<int:passage_id>/links/dismiss")
def dismiss(passage_id: int):
    """Dismiss a suggestion so it is not offered again for this pair."""
    return _decide(passage_id, links.DISMISSED)


@bp.post("/<int:passage_id>/links/remove")
def remove(passage_id: int):
    """Withdraw the current annotator's link with another passage."""
    db = get_db()
    passage = _passage(db, passage_id)
    target = _target()
    removed = target is not None and links.remove(db, passage_id, target, access.current_annotator())
    if not removed:
        message = "There was no link of yours to remove."
        return _respond(db, passage, message, message)
    not_written = _write_links_file(db)
    return _respond(db, passage, not_written or "Link removed.", not_written)


def _target() -> int | None:
    value = request.form.get("target", "")
    return int(value) if value.isdigit() else None


def _decide(passage_id: int, relation: str):
    db = get_db()
    passage = _passage(db, passage_id)
    target = _target()
    try:
        if target is None:
            raise links.LinkError("Choose a passage to link to.")
        links.record(db, passage_id, target, relation, access.current_annotator(), request.form.get("note", ""))
    except links.LinkError as exc:
        return _respond(db, passage, str(exc), str(exc), status=400)
    not_written = _write_links_file(db)
    message = "Suggestion dismissed." if relation == links.DISMISSED else f"Linked: {links.RELATIONS[relation].lower()}."
    return _respond(db, passage, not_written or message, not_written)


def _write_links_file(db) -> str:
    """Bring labels/links.jsonl in step; if the disk refuses, the message to show (the change is saved)."""
    try:
        links.export(db, Path(current_app.config["LABELS_DIR"]))
    except editor.LabelFilesError as exc:
        current_app.logger.error("%s", exc)
        return str(exc)
    return ""


def _respond(db, passage: dict, message: str, error: str, status: int = 200):
    mode = request.form.get("mode", "all")
    if wants_fragment():
        # htmx swaps only the panel, so a refused link must still come back as a panel.
        context = panels.panel_context(db, passage, mode, error)
        html = render("related/related.html", "panel", passage=passage, taxonomy=get_taxonomy(), **context)
        return html, status
    flash(message)
    return redirect(url_for("passages.show", passage_id=passage["id"], related=mode, _anchor="related"), 303)
