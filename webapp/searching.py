"""The search screen: full-text search across content passages, narrowed by labels and source."""

from __future__ import annotations

from flask import Blueprint, request

from . import search, taxonomy
from .db import get_db, get_taxonomy
from .fragments import render

bp = Blueprint("searching", __name__)


@bp.get("/search")
def find():
    """Passages matching the words typed, best first, with the matches marked."""
    db = get_db()
    query = search.Query.from_args(request.args)
    return render(
        "search/find.html",
        "results",
        query=query,
        results=search.search(db, query),
        choices=search.filter_choices(db),
        taxonomy=get_taxonomy(),
        stances=taxonomy.STANCES,
    )
