"""The comparison: which stances each topic's passages take, by whom and in which sources."""

from __future__ import annotations

import base64
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from webapp.analysis import fulltext
from webapp.corpus.display import display_title, document_titles
from webapp.corpus.taxonomy import STANCES
from webapp.labels import consensus
from webapp.labels.current import NOT_OVERRULED, SAME_TEXT

# "arguments" is drawn by webapp.findings; the comparison gives it its counts only.
VIEWS = ("stance", "holder", "source", "arguments")
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
            # SQLite reads text only up to a NUL, which would turn the filter off.
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
    url: str = ""  # the source document's address, when it has one


def stance_matrix(db) -> dict[str, Counter]:
    """Count passages per topic and consensus stance, from the maintained counts."""
    consensus.catch_up(db)
    matrix: dict[str, Counter] = defaultdict(Counter)
    for topic, stance, count in db.execute("SELECT topic, stance, sum(n) FROM consensus_counts GROUP BY topic, stance"):
        matrix[topic][stance] = count
    return matrix


# Cards in the order of every column and row; each view's index (migration m110) ends in it.
ORDER = "ORDER BY c.date DESC, c.document, c.position"
# Strictly after a card in ORDER. The order mixes directions, so no single row value compares; the
# leading `date <=` is what lets SQLite start its index range at the cursor instead of the top.
AFTER = "c.date <= ? AND (c.date < ? OR (c.date = ? AND (c.document, c.position) > (?, ?)))"
# Longer than any cursor of a real card needs; a longer one is refused before it is decoded.
CURSOR_LENGTH = 2000


@dataclass(frozen=True)
class Cursor:
    """Where a column or row stopped: its last card's place in ORDER, for reading the cards after it."""

    date: str
    document: str
    position: int

    @classmethod
    def of(cls, card: Card) -> "Cursor":
        """The cursor just past `card`."""
        return cls(card.date, card.document, card.position)

    def encode(self) -> str:
        """The cursor as a URL-safe string that `decode` reads back."""
        text = json.dumps([self.date, self.document, self.position], separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """Read a cursor made by `encode`; ValueError for anything else."""
        if not text or len(text) > CURSOR_LENGTH:
            raise ValueError("no cursor, or one too long")
        # Bad base64, bytes that are not UTF-8 and bad JSON all raise ValueError subclasses.
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
                and isinstance(value[1], str) and type(value[2]) is int and 0 <= value[2] < 2**63):
            raise ValueError("not a cursor")
        return cls(*value)

    def params(self) -> list:
        """The values AFTER compares with, in its order."""
        return [self.date, self.date, self.date, self.document, self.position]
_CARDS = """SELECT c.passage, c.document, c.position, d.title, d.kind, d.outlet, d.date, c.stance, c.holder,
    c.contested FROM {table} JOIN documents d ON d.id = c.document"""


def topic_cards(db, topic: str, filters: Filters, limit: int = -1, offset: int = 0) -> list[Card]:
    """The passages labelled with `topic`, narrowed by `filters`, in document order (`limit` of
    them from `offset`; -1 for all).

    Only what sorting, grouping and counting need is read here; `with_details` adds the text
    and each annotator's stance to the cards actually shown.
    """
    consensus.catch_up(db)
    where, params = _where(db, topic, filters)
    return _cards(db, _table(filters), f"{where} {ORDER} LIMIT ? OFFSET ?", [*params, limit, offset])


def cards_by_id(db, topic: str, passage_ids: list[int]) -> list[Card]:
    """The cards of these passages on `topic`, whatever filters a page has."""
    consensus.catch_up(db)
    where = "c.topic = ? AND c.passage IN (SELECT value FROM json_each(?))"
    return _cards(db, "consensus c", f"{where} {ORDER}", [topic, json.dumps(list(passage_ids))])


@dataclass
class TopicView:
    """What a topic page shows: counts from the aggregates, and only the cards on screen."""

    total: int
    overall: Counter
    per_source: list[tuple[str, Counter]]
    more_sources: int
    columns: dict[str, list[Card]]
    column_totals: dict[str, int]
    rows: list[tuple[str, list[Card], int]]
    row_total: int
    # What names each row to `more_cards`: its holder ("" when unattributed) or its source's title.
    row_keys: list[str] = field(default_factory=list)


def topic_view(db, topic: str, filters: Filters) -> TopicView:
    """A topic's counts and its first `filters.limit` cards per column (or row), for `filters.view`."""
    consensus.catch_up(db)
    where, params = _where(db, topic, filters)
    per_document = _document_counts(db, topic, filters, where, params)
    titles = _titles(db, {document for document, _ in per_document})
    by_title: dict[str, Counter] = defaultdict(Counter)
    overall: Counter = Counter()
    for (document, stance), n in per_document.items():
        by_title[titles[document]][stance] += n
        overall[stance] += n
    per_source, more_sources = _biggest(by_title)
    limit, table = filters.limit, _view_table(filters)
    columns: dict[str, list[Card]] = {s: [] for s in STANCES}
    groups: list[tuple[str, str, int]] = []
    if filters.view == "stance":
        for stance in STANCES:
            if overall.get(stance):
                columns[stance] = _ordered(db, table, where, params, [("c.stance = ?", [stance])], None, limit)
    elif filters.view == "holder":
        query = f"SELECT c.holder, count(*) FROM {table} WHERE {where} GROUP BY c.holder"
        groups = [(holder or "Unattributed", holder, n) for holder, n in db.execute(query, params)]
    elif filters.view == "source":
        groups = [(title, title, sum(counts.values())) for title, counts in by_title.items()]
    groups.sort(key=lambda g: (-g[2], g[0].casefold()))
    documents = _documents_by_title(per_document, titles)
    # A first page reads each row with one sorting query: most rows are short, and a page has many.
    rows = [(name, _ordered(db, table, where, params, _partitions(filters, key, documents, False), None, limit), n)
            for name, key, n in groups[:limit]]
    totals = {s: overall.get(s, 0) for s in STANCES}
    return TopicView(sum(totals.values()), overall, per_source, more_sources, columns, totals, rows, len(groups),
                     [key for _, key, _ in groups[:limit]])


def more_cards(db, topic: str, filters: Filters, group: str, after: Cursor) -> tuple[list[Card], int]:
    """The next PAGE cards after `after` in one stance column, or in the holder or source row that
    `group` names (as `TopicView.row_keys` do), and how many cards follow them."""
    consensus.catch_up(db)
    where, params = _where(db, topic, filters)
    documents: dict[str, list[str]] = {}
    if filters.view == "source":
        per_document = _document_counts(db, topic, filters, where, params)
        documents = _documents_by_title(per_document, _titles(db, {document for document, _ in per_document}))
    partitions, table = _partitions(filters, group, documents, True), _view_table(filters)
    cards = _ordered(db, table, where, params, partitions, after, PAGE)
    if not cards:
        return cards, 0
    last = Cursor.of(cards[-1]).params()
    following = sum(db.execute(f"SELECT count(*) FROM {table} WHERE {where} AND {clause} AND {AFTER}",
                               [*params, *values, *last]).fetchone()[0] for clause, values in partitions)
    return cards, following


def _partitions(filters: Filters, group: str, documents: dict[str, list[str]], split: bool) -> list[tuple[str, list]]:
    """The clauses that together select one column's or row's cards; with `split`, each one an index reads in ORDER.

    The holder and source indexes go by stance before date, so a split row is read one stance (and
    one document) at a time and the pieces merged: a page after a cursor costs the same however long
    the row, where one query would sort the rest of the row.
    """
    stances = [filters.stance] if filters.stance else list(STANCES)
    if filters.view == "stance":
        return [("c.stance = ?", [group])]
    if filters.view == "holder":
        if not split:
            return [("c.holder = ?", [group])]
        return [("c.holder = ? AND c.stance = ?", [group, stance]) for stance in stances]
    if filters.view == "source":
        if not split:
            return [("c.document IN (SELECT value FROM json_each(?))", [json.dumps(documents.get(group, []))])]
        return [("c.document = ? AND c.stance = ?", [document, stance])
                for document in documents.get(group, []) for stance in stances]
    return []


def _ordered(db, table: str, where: str, params: list, partitions: list[tuple[str, list]],
             after: Cursor | None, limit: int) -> list[Card]:
    """The first `limit` cards in ORDER of all `partitions` together, after `after` if given."""
    keyset, last = ("", []) if after is None else (f" AND {AFTER}", after.params())
    found: list[Card] = []
    for clause, values in partitions:
        query = f"{where} AND {clause}{keyset} {ORDER} LIMIT ?"
        found += _cards(db, table, query, [*params, *values, *last, limit])
    if len(partitions) > 1:
        # ORDER in two stable sorts, since dates go down and places within a date go up.
        found.sort(key=lambda c: (c.document, c.position))
        found.sort(key=lambda c: c.date, reverse=True)
    return found[:limit]


def choices(db, topic: str) -> dict[str, list]:
    """The sources and holders that narrowing a topic's passages can choose from."""
    consensus.catch_up(db)
    titles = document_titles(db)
    documents = db.execute("SELECT DISTINCT document FROM consensus_counts WHERE topic = ?", [topic])
    found = [{"id": d, "title": titles[d][0], "outlet": titles[d][1]} for (d,) in documents if d in titles]
    holders = db.execute("SELECT DISTINCT holder FROM consensus WHERE topic = ? AND holder != ''", [topic])
    return {"documents": sorted(found, key=lambda d: d["title"]), "holders": sorted(h for (h,) in holders)}


def with_details(db, topic: str, cards: list[Card]) -> list[Card]:
    """Fill in the text, source address and each annotator's stance of the cards about to be shown."""
    by_id = {c.id: c for c in cards}
    if not by_id:
        return cards
    marks = ", ".join("?" for _ in by_id)
    query = f"SELECT p.id, p.text, d.url FROM passages p JOIN documents d ON d.id = p.document WHERE p.id IN ({marks})"
    for pid, text, url in db.execute(query, list(by_id)):
        by_id[pid].text, by_id[pid].url = text, url or ""
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


def _where(db, topic: str, filters: Filters) -> tuple[str, list]:
    clauses, params = ["c.topic = ?"], [topic]
    if filters.document:
        clauses.append("c.document IN (SELECT id FROM documents WHERE id = ? OR outlet = ?)")
        params += [filters.document, filters.document]
    if filters.holder:
        clauses.append("c.holder = ?")
        params.append(filters.holder)
    if filters.stance:
        clauses.append("c.stance = ?")
        params.append(filters.stance)
    if filters.q:
        # The words may be in the passage (full-text index) or name its holder. The index is asked
        # once, not by each of the page's queries.
        match = fulltext.fts_expression(filters.q)
        rows = db.execute("SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?", [match]) if match else []
        found = [r for (r,) in rows]
        clauses.append("(c.passage IN (SELECT value FROM json_each(?)) OR instr(lower(c.holder), lower(?)) > 0)")
        params += [json.dumps(found), filters.q]
    return " AND ".join(clauses), params


# The planner would rather walk a whole stance in date order than sort one source's few rows.
BY_SOURCE = "consensus c INDEXED BY consensus_by_topic"


def _table(filters: Filters) -> str:
    return BY_SOURCE if filters.document else "consensus c"


def _view_table(filters: Filters) -> str:
    return BY_SOURCE if filters.view == "source" else _table(filters)


def _documents_by_title(per_document: Counter, titles: dict[str, str]) -> dict[str, list[str]]:
    """The documents behind each source title; untitled documents of one outlet and day share one."""
    documents: dict[str, list[str]] = defaultdict(list)
    for document in sorted({document for document, _ in per_document}):
        documents[titles[document]].append(document)
    return documents


def _cards(db, table: str, where: str, params: list) -> list[Card]:
    return [
        Card(pid, document, position, "", display_title(title, kind, outlet, date), outlet or "", date or "",
             stance, holder, bool(contested))
        for pid, document, position, title, kind, outlet, date, stance, holder, contested
        in db.execute(f"{_CARDS.format(table=table)} WHERE {where}", params)
    ]


def _document_counts(db, topic: str, filters: Filters, where: str, params: list) -> Counter:
    if filters.holder or filters.q or filters.stance:
        query = f"""SELECT c.document, c.stance, count(*) FROM {_table(filters)} WHERE {where}
            GROUP BY c.document, c.stance"""
    else:
        # Unfiltered, or by source only: the maintained counts answer without reading passages.
        query = "SELECT c.document, c.stance, c.n FROM consensus_counts c WHERE c.topic = ?"
        params = [topic]
        if filters.document:
            query += " AND (c.document = ? OR c.document IN (SELECT id FROM documents WHERE outlet = ?))"
            params += [filters.document, filters.document]
    return Counter({(document, stance): n for document, stance, n in db.execute(query, params)})


def _titles(db, documents: set[str]) -> dict[str, str]:
    titles = document_titles(db)
    return {document: titles[document][0] for document in documents if document in titles}


def _biggest(by_title: dict[str, Counter]) -> tuple[list[tuple[str, Counter]], int]:
    biggest = sorted(by_title.items(), key=lambda item: (-item[1].total(), item[0].casefold()))
    shown = sorted(biggest[:SUMMARY_SOURCES], key=lambda item: item[0].casefold())
    return shown, max(len(biggest) - SUMMARY_SOURCES, 0)


def documents_overview(db) -> list[dict]:
    """Every document with its metadata and how many of its content passages carry labels."""
    consensus.catch_up(db)
    return list(
        db.query(
            """SELECT d.*, coalesce(c.content, 0) AS content, coalesce(c.labelled, 0) AS labelled
            FROM documents d LEFT JOIN consensus_documents c ON c.document = d.id
            ORDER BY d.date DESC, d.title"""
        )
    )
