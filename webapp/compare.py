"""The comparison screens: the topic x stance overview and each topic's viewpoints side by side."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from . import comparison, links, taxonomy
from .db import get_db
from .fragments import render
from .relating import LINK_NOUNS

bp = Blueprint("compare", __name__)


@bp.get("/")
def home():
    """Topic x stance counts, each cell linking to its slice, and the document list."""
    db = get_db()
    return render_template(
        "compare/home.html",
        topics=taxonomy.from_db(db).topics,
        matrix=comparison.stance_matrix(db),
        documents=comparison.documents_overview(db),
    )


@bp.get("/topics/<topic_id>")
def topic(topic_id: str):
    """One topic's passages in stance columns (or rows by holder or source), filtered."""
    db = get_db()
    topic = taxonomy.from_db(db).get(topic_id)
    if topic is None:
        abort(404, f"There is no topic “{topic_id}” in this corpus.")
    filters = comparison.Filters.from_args(request.args)
    cards = comparison.topic_cards(db, topic.id, filters)
    overall, per_source = comparison.summary(cards)
    return render(
        "compare/topic.html",
        "results",
        topic=topic,
        filters=filters,
        cards=cards,
        columns=comparison.by_stance(cards),
        rows=comparison.group_cards(cards, filters.view),
        overall=overall,
        per_source=per_source,
        choices=comparison.filter_choices(db, topic.id),
        stances=taxonomy.STANCES,
        link_counts=links.relation_counts(db, [c.id for c in cards]),
        link_nouns=LINK_NOUNS,
    )
