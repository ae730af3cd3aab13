"""The search screen: full-text search across content passages, narrowed by labels and source."""

from __future__ import annotations

from flask import Blueprint, request

from webapp.analysis import fulltext
from webapp.corpus import taxonomy
from webapp.web.database import get_db, get_taxonomy
from webapp.web.rendering import render

bp = Blueprint("search", __name__)


@bp.get("/search")
def find():
    """Passages matching the words typed, best first, with the matches marked."""
    db = get_db()
    query = fulltext.Query.from_args(request.args)
    return render(
        "search/find.html",
        "results",
        query=query,
        results=fulltext.search(db, query),
        choices=fulltext.filter_choices(db),
        taxonomy=get_taxonomy(),
        stances=taxonomy.STANCES,
    )
