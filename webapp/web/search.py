"""The search screen: full-text search across content passages, narrowed by labels and source."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from webapp.analysis import fulltext
from webapp.corpus import taxonomy
from webapp.store.db import DeadlineExceeded
from webapp.web import caching
from webapp.web.database import get_db, get_taxonomy
from webapp.web.rendering import render

bp = Blueprint("search", __name__)

TOO_SLOW = "Search took too long — narrow it (add a topic, source or more words)."


@bp.get("/search")
def find():
    """Passages matching the words typed, best first, with the matches marked.

    A search that runs past SEARCH_DEADLINE_SECONDS is stopped and answered with a request to
    narrow it: 503 for a plain request, 200 for htmx, which (in version 2) swaps no 5xx reply.
    """
    db = get_db()
    query = fulltext.Query.from_args(request.args)
    try:
        results = fulltext.search(db, query, seconds=current_app.config["SEARCH_DEADLINE_SECONDS"])
        too_slow = None
    except DeadlineExceeded:
        results, too_slow = fulltext.Results([], 0, 1, 0), TOO_SLOW
        # The load of the moment, not the data: a 200 to htmx that must not be replayed as current.
        caching.of_the_moment()
    html = render(
        "search/find.html",
        "results",
        query=query,
        results=results,
        too_slow=too_slow,
        choices=fulltext.filter_choices(db),
        taxonomy=get_taxonomy(),
        stances=taxonomy.STANCES,
    )
    return html, (503 if too_slow and request.headers.get("HX-Request") != "true" else 200)
