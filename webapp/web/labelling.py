"""The labelling screens: the queue of passages to label, saving, undo, and a passage's history."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from webapp.labels import editor
from webapp.labels import queue as label_queue
from webapp.labels.validation import LabelError
from webapp.similarity import suggester
from webapp.web import access, panels
from webapp.web.database import get_db, get_taxonomy, suggestion_model
from webapp.web.rendering import render, wants_fragment

bp = Blueprint("labelling", __name__)
QUEUE_ORDERS = {"document": "Document order", "uncertain": "Least certain first"}


@bp.get("/label")
@access.login_required
def queue():
    """The next passage that needs the annotator's labels, or the one asked for."""
    db = get_db()
    document = request.args.get("document", "")
    if document and label_queue.document_title(db, document) is None:
        abort(404, f"There is no document “{document}”.")
    if request.args.get("order") in QUEUE_ORDERS:
        session["queue_order"] = request.args["order"]
    passage_id = request.args.get("passage", type=int)
    if passage_id is None:
        found = _next(db, document, request.args.get("after", type=int))
        passage_id = found["id"] if found else None
    return _queue_page(passage_id, document)


def _next(db, document: str, after: int | None) -> dict | None:
    """The next passage in the annotator's chosen order: document order, or least certain first."""
    annotator = access.current_annotator()
    model = suggestion_model(db, get_taxonomy().ids) if session.get("queue_order") == "uncertain" else None
    if model is None:
        return label_queue.next_passage(db, annotator, document, after)
    ranked = suggester.least_certain_first(model, label_queue.needing(db, annotator, document))
    ids = [p["id"] for p in ranked]
    start = ids.index(after) + 1 if after in ids else 0
    rest = ranked[start:] + ranked[:start]
    return next((p for p in rest if p["id"] != after), None)


@bp.post("/label/<int:passage_id>")
def save(passage_id: int):
    """Save the annotator's labels on a passage, then show the next one (or the passage again)."""
    db = get_db()
    tax = get_taxonomy()
    try:
        choices = editor.check_choices(_form_choices(), tax.ids)
        change = editor.save(db, passage_id, access.current_annotator(), choices, request.form.get("note"))
    except (LabelError, editor.EditError) as exc:
        abort(400, str(exc))
    if change:
        write_files(db, change.document)
        flash(f"Saved passage {change.position}: {_describe(tax, change.after)}.")
    else:
        flash(f"Passage {_position(db, passage_id)} unchanged.")
    return _after_write(passage_id, advance=True)


def _form_choices() -> list[editor.Choice]:
    """Every topic the form ticks, known or not, with its holder.

    A ticked topic the taxonomy lacks (a page from before it was removed) is kept for the
    check to refuse, not dropped unsaid. A holder beside "Not about it" is ignored: the form
    sends every row's holder, filled in from earlier labels.
    """
    choices = []
    for key, stance in request.form.items():
        topic = key.removeprefix("stance-")
        if topic != key and stance:
            choices.append(editor.Choice(topic, stance, request.form.get(f"holder-{topic}")))
    return choices


@bp.post("/label/undo")
def undo_last():
    """Undo the annotator's latest save and show that passage again."""
    db = get_db()
    change = editor.last_undoable(db, access.current_annotator())
    if change is None:
        flash("Nothing to undo.")
        return _after_write(request.form.get("passage", type=int), advance=False)
    return _undo(change.id)


@bp.post("/label/changes/<int:change_id>/undo")
def undo(change_id: int):
    """Undo one recorded change, if the labels have not changed since."""
    return _undo(change_id)


def _undo(change_id: int):
    db = get_db()
    try:
        change = editor.undo(db, change_id, access.current_annotator())
    except editor.EditError as exc:
        flash(str(exc))
        original = editor.get_change(db, change_id)
        passage_id = _passage_id(db, original.document, original.position) if original else None
        return _after_write(passage_id or request.form.get("passage", type=int), advance=False)
    write_files(db, change.document)
    tax = get_taxonomy()
    flash(f"Undone: passage {change.position} is back to {_describe(tax, change.after)}.")
    return _after_write(_passage_id(db, change.document, change.position), advance=False)


def write_files(db, document: str) -> None:
    """Bring a document's label file in step; if the disk refuses, say so and keep going."""
    try:
        editor.write_files(db, Path(current_app.config["LABELS_DIR"]), [document])
    except editor.LabelFilesError as exc:
        current_app.logger.error("%s", exc)
        flash(str(exc))


@bp.app_errorhandler(editor.LabelFilesError)
def label_files_error(exc: editor.LabelFilesError):
    """Any other write whose label file could not be written: a page that says what happened."""
    current_app.logger.error("%s", exc)
    return render_template("errors/error.html", status=500, title="Label file not written", message=str(exc)), 500


def _after_write(passage_id: int | None, advance: bool):
    """The re-rendered component for htmx, else a redirect to the page that shows it."""
    document = request.form.get("document", "")
    if request.form.get("then") == "passage" and passage_id is not None:
        if wants_fragment():
            return render("passages/show.html", "editing", **passage_context(passage_id))
        return redirect(url_for("passages.show", passage_id=passage_id), 303)
    key = "after" if advance else "passage"
    target = url_for("labelling.queue", document=document or None, **({key: passage_id} if passage_id else {}))
    if not wants_fragment():
        return redirect(target, 303)
    if advance:
        found = _next(get_db(), document, passage_id)
        passage_id = found["id"] if found else None
    return _queue_page(passage_id, document), {"HX-Push-Url": target}


def _queue_page(passage_id: int | None, document: str):
    db = get_db()
    annotator = access.current_annotator()
    passage = _get_passage(db, passage_id) if passage_id else None
    context = panels.editor_context(db, passage, annotator) if passage else {}
    progress = label_queue.progress(db, annotator)
    tax = get_taxonomy()
    return render(
        "labelling/queue.html",
        "labeller",
        document=document,
        orders=QUEUE_ORDERS,
        order=session.get("queue_order", "document"),
        documents=progress,
        progress=progress if not document else [d for d in progress if d["document"] == document],
        scope_title=label_queue.document_title(db, document) if document else "",
        passage=passage,
        undoable=editor.last_undoable(db, annotator),
        taxonomy=tax,
        **{"keys": label_queue.key_map(tax), **context},
    )


def passage_context(passage_id: int) -> dict:
    """Everything the passage page shows, for re-rendering its editing block."""
    db = get_db()
    passage = _get_passage(db, passage_id)
    labels = panels.passage_labels(db, passage["document"], passage["position"]).get(passage["position"], [])
    return {"passage": passage, "labels": labels, "taxonomy": get_taxonomy(), **panels.passage_extras(db, passage)}


def _get_passage(db, passage_id: int) -> dict:
    passage = label_queue.passage(db, passage_id)
    if passage is None:
        abort(404, f"There is no passage number {passage_id}.")
    return passage


def _describe(tax, rows: list[dict]) -> str:
    if not rows:
        return "no labels"
    if all(r["topic"] == "" for r in rows):
        return "no topic applies"
    return "; ".join(
        f"{t.name if (t := tax.get(r['topic'])) else r['topic']}: "
        f"{t.label(r['stance']) if t else r['stance']}" + (f" ({r['holder']})" if r["holder"] else "")
        for r in rows
    )


def _position(db, passage_id: int) -> int | None:
    row = db.execute("SELECT position FROM passages WHERE id = ?", [passage_id]).fetchone()
    return row[0] if row else None


def _passage_id(db, document: str, position: int) -> int | None:
    row = db.execute("SELECT id FROM passages WHERE document = ? AND position = ?", [document, position]).fetchone()
    return row[0] if row else None
