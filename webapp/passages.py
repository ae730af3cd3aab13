"""The passage screen: one passage with its labels, in the context of its document."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from . import relating
from .db import get_db, get_taxonomy
from .documents import passage_labels
from .labelling import passage_extras

bp = Blueprint("passages", __name__, url_prefix="/passages")


@bp.get("/<int:passage_id>")
def show(passage_id: int):
    """Show a passage, its labels by annotator, and its neighbours."""
    db = get_db()
    rows = list(
        db.query(
            """SELECT p.*, d.title, d.outlet, d.date, d.author FROM passages p
            JOIN documents d ON d.id = p.document WHERE p.id = ?""",
            [passage_id],
        )
    )
    if not rows:
        abort(404, f"There is no passage number {passage_id}.")
    passage = rows[0]
    return render_template(
        "passages/show.html",
        passage=passage,
        labels=passage_labels(db, passage["document"], passage["position"]).get(passage["position"], []),
        taxonomy=get_taxonomy(),
        **passage_extras(db, passage),
        **relating.panel_context(db, passage, request.args.get("related", "all")),
    )
