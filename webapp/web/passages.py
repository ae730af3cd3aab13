"""The passage screen: one passage with its labels, in the context of its document."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from webapp.labels import queue as label_queue
from webapp.web import panels
from webapp.web.database import get_db, get_taxonomy

bp = Blueprint("passages", __name__, url_prefix="/passages")


@bp.get("/<int:passage_id>")
def show(passage_id: int):
    """Show a passage, its labels by annotator, and its neighbours."""
    db = get_db()
    passage = label_queue.passage(db, passage_id)
    if passage is None:
        abort(404, f"There is no passage number {passage_id}.")
    return render_template(
        "passages/show.html",
        passage=passage,
        labels=panels.passage_labels(db, passage["document"], passage["position"]).get(passage["position"], []),
        taxonomy=get_taxonomy(),
        **panels.passage_extras(db, passage),
        **panels.panel_context(db, passage, request.args.get("related", "all")),
    )
