"""The document screen: a whole article with its passages and their labels inline."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, render_template

from .db import get_db, get_taxonomy

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
        labels=passage_labels(db, name),
        taxonomy=get_taxonomy(),
    )


def passage_labels(db, document: str, position: int | None = None) -> dict[int, list[dict]]:
    """Labels of a document's passages by position, each marked stale if its text changed."""
    sql = """SELECT l.*, (p.text_hash IS NULL OR p.text_hash != l.text_hash) AS stale
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
