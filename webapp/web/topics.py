"""The comparison screens: the topic x stance overview and each topic's viewpoints side by side."""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, current_app, render_template, request, url_for
from markupsafe import Markup

from webapp.analysis import comparison
from webapp.corpus import taxonomy
from webapp.findings import arguments
from webapp.labels import corrections, links
from webapp.web.database import PageCache, cached, get_db, get_taxonomy
from webapp.web.panels import LINK_NOUNS
from webapp.web.rendering import render, wants_fragment

bp = Blueprint("topics", __name__)


# Passages shown under each argument; the rest are counted, and a source or holder filter finds them.
ARGUMENT_CARDS = 10
# The latest corrections listed under the Arguments view; the whole log is labels/arguments.jsonl.
CORRECTIONS_SHOWN = 20
# Rendered source menus kept per worker (`_sources_menu`): a few topics' worth of a large corpus.
MENUS_BYTES = 8 * 1024 * 1024
_MENUS = "counterpoint.topic_menus"
# A large corpus lists its biggest topics and newest documents first, the rest on request.
HOME_TOPICS = 40
HOME_DOCUMENTS = 50


@bp.get("/")
def home():
    """Topic x stance counts, each cell linking to its slice, and the document list."""
    db = get_db()
    matrix = cached("stance_matrix", (), lambda: comparison.stance_matrix(db))
    topics = list(get_taxonomy().topics)
    documents = cached("documents_overview", (), lambda: comparison.documents_overview(db))
    show_all = request.args.get("all", "")
    if len(topics) > HOME_TOPICS and show_all != "topics":
        biggest = sorted(topics, key=lambda t: -sum(matrix.get(t.id, {}).values()))[:HOME_TOPICS]
        topics = [t for t in topics if t in biggest]
    labelled = sum(sum(counts.values()) for counts in matrix.values())
    summaries = {}
    if labelled <= current_app.config["OVERVIEW_ARGUMENTS_LIMIT"]:
        ids = [t.id for t in topics if t.id in matrix]
        summaries = cached("argument_summaries", tuple(ids), lambda: arguments.summaries(db, ids))
    # Per topic, its arguments made in one source only, those made most often first.
    single = {
        topic_id: sorted(((stance, a) for stance, summary in sides.items() for a in summary.single_source),
                         key=lambda item: -item[1].passages)
        for topic_id, sides in summaries.items()
    }
    return render_template(
        "topics/home.html",
        summaries=summaries,
        summaries_single=single,
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
    # Phones show one stance column at a time; `col` names it so that the choice is a shareable URL.
    col = request.args.get("col", "")
    col = col if col in taxonomy.STANCES else ""
    limit = filters.limit
    more_args = _args(filters, col=col, limit=limit + comparison.PAGE)
    # A "Show more" link's htmx address is its plain address plus where its column stopped: a full
    # page (which ignores the cursor) without htmx, only the next cards with it.
    if "after" in request.args and wants_fragment() and filters.view != "arguments":
        return _more(db, topic, filters, more_args)
    view = _view(db, topic.id, filters)
    shown = [c for column in view.columns.values() for c in column] + [c for _, group, _ in view.rows for c in group]
    comparison.with_details(db, topic.id, shown)
    sides = _arguments(db, topic.id, filters) if filters.view == "arguments" else {}
    shown += [c for side in sides.values() for a in side[:limit] for c in a.cards[:ARGUMENT_CARDS]]
    choices = {} if wants_fragment() else _choices(db, topic.id)
    return render(
        "topics/topic.html",
        "results",
        topic=topic,
        filters=filters,
        total=view.total,
        columns=view.columns,
        column_totals=view.column_totals,
        rows=view.rows,
        row_total=view.row_total,
        more_url=url_for("topics.topic", topic_id=topic.id, **more_args),
        next_url=lambda group, cards: _next_url(topic.id, more_args, group, cards),
        row_keys=view.row_keys,
        col=col,
        shown_column=col or filters.stance or taxonomy.STANCES[0],
        tab_urls={s: url_for("topics.topic", topic_id=topic.id, **_args(filters, col=s)) for s in taxonomy.STANCES},
        overall=view.overall,
        per_source=view.per_source,
        more_sources=view.more_sources,
        choices=choices,
        sources_menu=_sources_menu(topic.id, choices, filters.document) if choices else "",
        stances=taxonomy.STANCES,
        sides=sides,
        corrections=corrections.history(db, topic.id, CORRECTIONS_SHOWN) if filters.view == "arguments" else [],
        argument_cards=ARGUMENT_CARDS,
        link_counts=links.relation_counts(db, [c.id for c in shown]),
        link_nouns=LINK_NOUNS,
    )


def _more(db, topic, filters: comparison.Filters, more_args: dict) -> str:
    """The cards that follow a column's (or row's) cursor, to stand in for its "Show more" link."""
    try:
        after = comparison.Cursor.decode(request.args["after"])
    except ValueError:
        abort(400, "This “Show more” link is damaged. Reload the page to get a working one.")
    group = request.args.get("group", "")
    if filters.view == "stance" and group not in taxonomy.STANCES:
        abort(400, "This “Show more” link names no stance column. Reload the page to get a working one.")
    cards, following = comparison.more_cards(db, topic.id, filters, group, after)
    comparison.with_details(db, topic.id, cards)
    return render_template(
        "topics/_more.html",
        topic=topic,
        cards=cards,
        following=following,
        name=topic.label(group) if filters.view == "stance" else group or "Unattributed",
        row=filters.view != "stance",
        more_url=url_for("topics.topic", topic_id=topic.id, **more_args),
        next_url=_next_url(topic.id, more_args, group, cards),
        link_counts=links.relation_counts(db, [c.id for c in cards]),
        link_nouns=LINK_NOUNS,
    )


def _next_url(topic_id: str, more_args: dict, group: str, cards: list) -> str:
    """The "Show more" address plus the cursor after the last of `cards`, for htmx to read only what follows."""
    cursor = comparison.Cursor.of(cards[-1]).encode() if cards else ""
    return url_for("topics.topic", topic_id=topic_id, **more_args, group=group, after=cursor)


def _view(db, topic_id: str, filters: comparison.Filters) -> comparison.TopicView:
    """A topic's view: its counts and the cards that `filters.limit` shows."""
    return cached("topic_view", (topic_id, filters), lambda: comparison.topic_view(db, topic_id, filters))


def _arguments(db, topic_id: str, filters: comparison.Filters) -> dict:
    """A topic's key arguments per stance, narrowed by `filters`."""
    return cached("topic_arguments", (topic_id, filters), lambda: arguments.topic_arguments(db, topic_id, filters))


def _sources_menu(topic_id: str, choices: dict, document: str) -> Markup:
    """The filter form's source menu, rendered once for each list of sources and choice.

    A topic of a million passages offers thousands of sources; their options took longer to render
    than the rest of the page, while a save (which makes every page new) rarely changes them.
    """
    # Keyed by a digest of what the options show: the list itself would take more room than the HTML.
    listed = repr([(d["id"], d["title"], d["outlet"]) for d in choices["documents"]])
    key = (current_app.config["DATABASE"], 0, topic_id, document, hashlib.blake2b(listed.encode()).hexdigest())
    menus = current_app.extensions.setdefault(_MENUS, PageCache())
    found, html = menus.get(key)
    if not found:
        html = Markup(render_template("topics/_sources_menu.html", documents=choices["documents"], document=document))
        menus.put(key, html, len(html), MENUS_BYTES)
    return html


def _choices(db, topic_id: str) -> dict:
    """What the filter menus offer: every source and holder of the topic, whatever is chosen."""
    return cached("topic_choices", (topic_id,), lambda: comparison.choices(db, topic_id))


def _args(filters: comparison.Filters, **overrides) -> dict:
    """The query arguments that reproduce a filtered view, without empty ones."""
    values = {
        "document": filters.document, "holder": filters.holder, "q": filters.q,
        "stance": filters.stance, "view": filters.view, **overrides,
    }
    return {k: v for k, v in values.items() if v}
