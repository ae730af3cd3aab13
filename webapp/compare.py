"""The comparison screens: the topic x stance overview and each topic's viewpoints side by side."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for

from . import comparison, links, taxonomy
from .db import get_db, get_taxonomy
from .fragments import render
from .relating import LINK_NOUNS

bp = Blueprint("compare", __name__)


# A large corpus lists its biggest topics and newest documents first, the rest on request.
HOME_TOPICS = 40
HOME_DOCUMENTS = 50


@bp.get("/")
def home():
    """Topic x stance counts, each cell linking to its slice, and the document list."""
    db = get_db()
    matrix = comparison.stance_matrix(db)
    topics = list(get_taxonomy().topics)
    documents = comparison.documents_overview(db)
    show_all = request.args.get("all", "")
    if len(topics) > HOME_TOPICS and show_all != "topics":
        biggest = sorted(topics, key=lambda t: -sum(matrix.get(t.id, {}).values()))[:HOME_TOPICS]
        topics = [t for t in topics if t in biggest]
    return render_template(
        "compare/home.html",
        topics=topics,
        topic_total=len(get_taxonomy().topics),
        matrix=matrix,
        documents=documents if show_all == "documents" else documents[:HOME_DOCUMENTS],
        document_total=len(documents),
    )


@bp.get("/topics/<topic_id>")
def topic(topic_id: str):
    """One topic's passages in stance columns (or rows by holder or source), filtered."""
    db = get_db()
    topic = get_taxonomy().get(topic_id)
    if topic is None:
        abort(404, f"There is no topic “{topic_id}” in this corpus.")
    filters = comparison.Filters.from_args(request.args)
    cards = comparison.topic_cards(db, topic.id, filters)
    overall, per_source, more_sources = comparison.summary(cards)
    columns = comparison.by_stance(cards)
    rows = comparison.group_cards(cards, filters.view)
    shown_columns = {stance: column[: filters.limit] for stance, column in columns.items()}
    shown_rows = rows[: filters.limit]
    shown_ids = [c.id for column in shown_columns.values() for c in column] + [
        c.id for _, group in shown_rows for c in group
    ]
    return render(
        "compare/topic.html",
        "results",
        topic=topic,
        filters=filters,
        cards=cards,
        columns=shown_columns,
        column_totals={stance: len(column) for stance, column in columns.items()},
        rows=shown_rows,
        row_total=len(rows),
        more_url=url_for("compare.topic", topic_id=topic.id, **_args(filters, limit=filters.limit + comparison.PAGE)),
        overall=overall,
        per_source=per_source,
        more_sources=more_sources,
        choices=comparison.filter_choices(db, topic.id),
        stances=taxonomy.STANCES,
        link_counts=links.relation_counts(db, shown_ids),
        link_nouns=LINK_NOUNS,
    )


def _args(filters: comparison.Filters, **overrides) -> dict:
    """The query arguments that reproduce a filtered view, without empty ones."""
    values = {
        "document": filters.document, "holder": filters.holder, "q": filters.q,
        "stance": filters.stance, "view": filters.view, **overrides,
    }
    return {k: v for k, v in values.items() if v}
