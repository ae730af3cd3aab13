"""The document screen: a whole article with its passages and their labels inline."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from webapp.web import panels
from webapp.web.database import get_db, get_taxonomy

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/<path:name>")
def show(name: str):
    """Show a document's passages in order, non-content marked, labels inline."""
    db = get_db()
    rows = list(db.query("SELECT * FROM documents WHERE id = ?", [name]))
    if not rows:
        abort(404, f"There is no document “{name}”.")
    passages = list(db.query("SELECT * FROM passages WHERE document = ? ORDER BY position", [name]))
    return render_template(
        "documents/show.html",
        document=rows[0],
        passages=passages,
        labels=panels.passage_labels(db, name),
        taxonomy=get_taxonomy(),
    )
