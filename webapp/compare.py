"""The comparison screens: the topic x stance overview and each topic's viewpoints side by side."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for

from . import comparison, links, taxonomy
from .db import get_db, get_taxonomy
from .fragments import render, wants_fragment
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
    shown = [c for column in shown_columns.values() for c in column] + [c for _, group in shown_rows for c in group]
    comparison.with_details(db, topic.id, shown)
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
        choices=_choices(db, topic.id, filters, cards),
        stances=taxonomy.STANCES,
        link_counts=links.relation_counts(db, [c.id for c in shown]),
        link_nouns=LINK_NOUNS,
    )


def _choices(db, topic_id: str, filters: comparison.Filters, cards: list[comparison.Card]) -> dict:
    """What the filter menus offer: every source and holder of the topic, whatever is chosen."""
    if wants_fragment():
        return {}
    if filters.active:
        cards = comparison.topic_cards(db, topic_id, comparison.Filters())
    return comparison.filter_choices(cards)


def _args(filters: comparison.Filters, **overrides) -> dict:
    """The query arguments that reproduce a filtered view, without empty ones."""
    values = {
        "document": filters.document, "holder": filters.holder, "q": filters.q,
        "stance": filters.stance, "view": filters.view, **overrides,
    }
    return {k: v for k, v in values.items() if v}
