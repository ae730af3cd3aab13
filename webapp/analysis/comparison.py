"""The comparison: which stances each topic's passages take, by whom and in which sources."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from webapp.corpus.display import display_title
from webapp.corpus.taxonomy import STANCES
from webapp.labels.current import COUNTED, NOT_OVERRULED, SAME_TEXT, consensus

VIEWS = ("stance", "holder", "source")
# Cards per column (or rows per view) shown at first; "Show more" raises the limit by as many.
PAGE = 25
SUMMARY_SOURCES = 12


@dataclass(frozen=True)
class Filters:
    """What the user narrowed a topic page to; empty strings mean no filter."""

    document: str = ""
    holder: str = ""
    q: str = ""
    stance: str = ""
    view: str = "stance"
    limit: int = PAGE

    @classmethod
    def from_args(cls, args) -> "Filters":
        """Read filters from request arguments, ignoring values that make no sense."""
        view = args.get("view", "stance")
        stance = args.get("stance", "")
        return cls(
            document=args.get("document", "").strip(),
            holder=args.get("holder", "").strip(),
            # SQLite reads a LIKE pattern only up to a NUL, which would turn the filter off.
            q=" ".join(args.get("q", "").replace("\0", " ").split())[:200],
            stance=stance if stance in STANCES else "",
            view=view if view in VIEWS else "stance",
            limit=_limit(args.get("limit", "")),
        )

    @property
    def active(self) -> bool:
        """True when any filter narrows the passages."""
        return bool(self.document or self.holder or self.q or self.stance)


@dataclass
class Card:
    """One passage as the comparison shows it for a topic."""

    id: int
    document: str
    position: int
    text: str
    title: str
    outlet: str
    date: str
    stance: str = ""
    holder: str = ""
    # True when annotators gave this passage different stances on the topic.
    contested: bool = False
    votes: dict[str, str] = field(default_factory=dict)


def stance_matrix(db) -> dict[str, Counter]:
    """Count passages per topic and consensus stance."""
    # SQLite groups the votes; Python only decides the few distinct vote combinations.
    matrix: dict[str, Counter] = defaultdict(Counter)
    for topic, stances, count in db.execute(
        f"""SELECT topic, stances, count(*) FROM (
            SELECT l.topic AS topic, group_concat(l.stance) AS stances
            FROM labels l JOIN passages p
            ON {SAME_TEXT}
            WHERE p.kind = 'content' AND l.topic != '' AND {NOT_OVERRULED}
            GROUP BY l.topic, l.document, l.position
        ) GROUP BY topic, stances"""
    ):
        matrix[topic][consensus(stances.split(","))[0]] += count
    return matrix


def topic_cards(db, topic: str, filters: Filters) -> list[Card]:
    """The passages labelled with `topic`, narrowed by `filters`, in document order.

    Only what sorting, grouping and counting need is read here; `with_details` adds the text
    and each annotator's stance to the cards actually shown.
    """
    where, params = _filter_sql(filters)
    rows = db.execute(
        f"""SELECT p.id, p.document, p.position, d.title, d.kind, d.outlet, d.date, l.stance, l.holder
        {COUNTED} AND l.topic = ? {where}
        ORDER BY d.date DESC, p.document, p.position""",
        [topic, *params],
    )
    cards: dict[int, Card] = {}
    # Most passages have one annotator; only those with several need a vote counted.
    several: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pid, document, position, title, kind, outlet, date, stance, holder in rows:
        card = cards.get(pid)
        if card is None:
            cards[pid] = Card(pid, document, position, "", display_title(title, kind, outlet, date), outlet or "",
                              date or "", stance, holder or "")
        else:
            several[pid].append((stance, holder))
    for pid, votes in several.items():
        card = cards[pid]
        votes.append((card.stance, card.holder))
        card.stance, card.contested = consensus(stance for stance, _ in votes)
        held = Counter(holder for _, holder in votes if holder)
        card.holder = held.most_common(1)[0][0] if held else ""
    return [
        c for c in cards.values()
        if (not filters.stance or c.stance == filters.stance) and (not filters.holder or c.holder == filters.holder)
    ]


@dataclass
class TopicView:
    """Everything a topic page shows before paging: cards, counts, columns and rows."""

    cards: list[Card]
    overall: Counter
    per_source: list[tuple[str, Counter]]
    more_sources: int
    columns: dict[str, list[Card]]
    rows: list[tuple[str, list[Card]]]


def topic_view(db, topic: str, filters: Filters) -> TopicView:
    """A topic's cards narrowed by `filters`, counted and laid out for `filters.view`."""
    cards = topic_cards(db, topic, filters)
    overall, per_source, more_sources = summary(cards)
    rows = group_cards(cards, filters.view) if filters.view != "stance" else []
    return TopicView(cards, overall, per_source, more_sources, by_stance(cards), rows)


def with_details(db, topic: str, cards: list[Card]) -> list[Card]:
    """Fill in the text and each annotator's stance of the cards about to be shown."""
    by_id = {c.id: c for c in cards}
    if not by_id:
        return cards
    marks = ", ".join("?" for _ in by_id)
    for pid, text in db.execute(f"SELECT id, text FROM passages WHERE id IN ({marks})", list(by_id)):
        by_id[pid].text = text
    # CROSS JOIN keeps SQLite from walking every label of the topic to find a page's few cards.
    for pid, annotator, stance in db.execute(
        f"""SELECT p.id, l.annotator, l.stance FROM passages p CROSS JOIN labels l
        ON {SAME_TEXT}
        WHERE p.id IN ({marks}) AND l.topic = ? AND {NOT_OVERRULED}""",
        [*by_id, topic],
    ):
        by_id[pid].votes[annotator] = stance
    return cards


def _limit(value: str) -> int:
    return min(max(int(value), PAGE), 100_000) if value.isdigit() else PAGE


def _filter_sql(filters: Filters) -> tuple[str, list]:
    clauses, params = [], []
    if filters.document:
        clauses.append("(p.document = ? OR d.outlet = ?)")
        params += [filters.document, filters.document]
    if filters.q:
        for word in filters.q.split():
            clauses.append("(p.text LIKE ? ESCAPE '\\' OR l.holder LIKE ? ESCAPE '\\')")
            params += [_like(word)] * 2
    return "".join(f" AND {c}" for c in clauses), params


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def group_cards(cards: list[Card], view: str) -> list[tuple[str, list[Card]]]:
    """Group cards into rows by holder or source (stance columns are built by `by_stance`)."""
    key = (lambda c: c.holder or "Unattributed") if view == "holder" else (lambda c: c.title)
    groups: dict[str, list[Card]] = defaultdict(list)
    for card in cards:
        groups[key(card)].append(card)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0].casefold()))


def by_stance(cards: list[Card]) -> dict[str, list[Card]]:
    """Split cards into the three stance columns."""
    columns: dict[str, list[Card]] = {s: [] for s in STANCES}
    for card in cards:
        columns[card.stance].append(card)
    return columns


def summary(cards: list[Card]) -> tuple[Counter, list[tuple[str, Counter]], int]:
    """Stance counts overall and for the sources with most passages, and how many sources are left out."""
    overall = Counter(c.stance for c in cards)
    per_source: dict[str, Counter] = defaultdict(Counter)
    for card in cards:
        per_source[card.title][card.stance] += 1
    biggest = sorted(per_source.items(), key=lambda item: (-sum(item[1].values()), item[0].casefold()))
    shown = sorted(biggest[:SUMMARY_SOURCES], key=lambda item: item[0].casefold())
    return overall, shown, max(len(biggest) - SUMMARY_SOURCES, 0)


def filter_choices(cards: list[Card]) -> dict[str, list]:
    """The sources and holders that narrowing a topic's unfiltered `cards` can choose from."""
    documents = {c.document: {"id": c.document, "title": c.title, "outlet": c.outlet} for c in cards}
    return {
        "documents": sorted(documents.values(), key=lambda d: d["title"]),
        "holders": sorted({c.holder for c in cards if c.holder}),
    }


def documents_overview(db) -> list[dict]:
    """Every document with its metadata and how many of its content passages carry labels."""
    return list(
        db.query(
            f"""WITH content AS (
                SELECT document, count(*) AS n FROM passages WHERE kind = 'content' GROUP BY document
            ), labelled AS (
                -- Same text is enough to count as labelled, as for current.LABELLED.
                SELECT p.document, count(DISTINCT p.id) AS n FROM passages p
                JOIN labels l ON {SAME_TEXT}
                WHERE p.kind = 'content' GROUP BY p.document
            )
            SELECT d.*, coalesce(c.n, 0) AS content, coalesce(l.n, 0) AS labelled
            FROM documents d LEFT JOIN content c ON c.document = d.id LEFT JOIN labelled l ON l.document = d.id
            ORDER BY d.date DESC, d.title"""
        )
    )
