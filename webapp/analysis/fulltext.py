"""Full-text search over content passages: ranked, filtered, with matches marked safely.

User input never reaches FTS5 as syntax: every word is quoted (as sqlite-utils `quote_fts` does), so
quotes, AND/OR/NOT/NEAR, `*`, `^` and parentheses are searched as plain words. The last word
also matches as a prefix, so live results follow someone still typing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from webapp.corpus.taxonomy import STANCES
from webapp.labels.current import NOT_OVERRULED, SAME_TEXT

PAGE_SIZE = 20
MAX_QUERY = 200
_PHRASE = re.compile(r'"([^"]*)"|([^\s"]+)')
SNIPPET_TOKENS = 48
EXCERPT_CHARS = 320
# Private-use characters mark matches inside SQLite: real text does not use them and HTML
# escaping leaves them alone, so they become <mark> only after the text is escaped.
OPEN, CLOSE = "\ue000", "\ue001"


@dataclass(frozen=True)
class Query:
    """What someone searched for: words and label filters; empty strings mean no filter."""

    q: str = ""
    topic: str = ""
    stance: str = ""
    holder: str = ""
    source: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "Query":
        """Read a query from request arguments, tidying or dropping values that make no sense."""
        stance = args.get("stance", "")
        try:
            page = max(1, min(int(args.get("page", 1)), 10_000))
        except ValueError:
            page = 1
        return cls(
            q=" ".join(args.get("q", "").split())[:MAX_QUERY],
            topic=args.get("topic", "").strip(),
            stance=stance if stance in STANCES else "",
            holder=args.get("holder", "").strip(),
            source=args.get("source", "").strip(),
            page=page,
        )

    @property
    def filtered(self) -> bool:
        """True when a label or source filter narrows the passages."""
        return bool(self.topic or self.stance or self.holder or self.source)

    def args(self, **changes) -> dict:
        """The non-empty request arguments of this query, with `changes` applied."""
        values = {"q": self.q, "topic": self.topic, "stance": self.stance, "holder": self.holder,
                  "source": self.source, "page": self.page if self.page > 1 else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


@dataclass
class Hit:
    """One passage found: where it is, a marked-up excerpt and its current labels."""

    id: int
    document: str
    position: int
    title: str
    outlet: str
    date: str
    excerpt: Markup
    labels: list[dict] = field(default_factory=list)


@dataclass
class Results:
    """A page of hits and how many passages matched in all."""

    hits: list[Hit]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """The rank of the page's first hit among all hits."""
        return (self.page - 1) * self.page_size + 1


def fts_expression(q: str) -> str:
    """Quote every word (or "phrase") of `q` for FTS5 and let the last one match as a prefix.

    Returns '' when `q` holds nothing to search for. sqlite-utils' `quote_fts` does the same
    quoting but can emit a stray quote for input such as a quote then a newline, so phrases
    are cut here, where no part can ever contain a double quote.
    """
    q = q.replace("\0", " ")  # SQLite reads a query only up to a NUL
    if q.count('"') % 2:
        q += '"'
    phrases = [quoted or word for quoted, word in _PHRASE.findall(q)]
    phrases = [p for p in phrases if p.strip()]
    expression = " ".join(f'"{p}"' for p in phrases)
    # A phrase with no letters or digits ("*", an emoji) has no terms, and FTS5 rejects a
    # prefix on it; so only a last phrase that holds something indexable gets one.
    if phrases and any(ch.isalnum() for ch in phrases[-1]):
        expression += "*"
    return expression


def mark(text: str) -> Markup:
    """Escape `text`, then turn the match markers SQLite put in into <mark> elements.

    Every marked stretch is wrapped on its own, so stray markers can only misplace a highlight,
    never produce unbalanced or unescaped HTML.
    """
    parts = []
    for i, chunk in enumerate(text.split(OPEN)):
        inside, _, after = chunk.rpartition(CLOSE) if i else ("", "", chunk)
        if inside:
            parts.append(Markup("<mark>{}</mark>").format(inside.replace(CLOSE, "")))
        parts.append(escape(after))
    return Markup("").join(parts)


def search(db, query: Query, page_size: int = PAGE_SIZE) -> Results:
    """Content passages matching the query's words and filters: best matches first."""
    match = fts_expression(query.q)
    if not (match or query.filtered):
        return Results([], 0, 1, 0)
    where, params = filter_sql(query)
    if match:
        source = "passages_fts JOIN passages p ON p.rowid = passages_fts.rowid"
        where = "passages_fts MATCH ? AND " + where
        params = [match, *params]
        excerpt = f"snippet(passages_fts, 0, '{OPEN}', '{CLOSE}', '…', {SNIPPET_TOKENS})"
        order = "passages_fts.rank, p.id"
    else:
        source, excerpt, order = "passages p", "p.text", "d.date DESC, p.document, p.position"
    base = f"FROM {source} JOIN documents d ON d.id = p.document WHERE {where}"
    total = db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    pages = max(1, -(-total // page_size))
    page = min(query.page, pages)
    rows = db.query(
        f"""SELECT p.id, p.document, p.position, d.title, d.outlet, d.date, {excerpt} AS excerpt
        {base} ORDER BY {order} LIMIT ? OFFSET ?""",
        [*params, page_size, (page - 1) * page_size],
    )
    hits = [
        Hit(r["id"], r["document"], r["position"], r["title"] or r["document"], r["outlet"] or "",
            r["date"] or "", mark(r["excerpt"] if match else _shorten(r["excerpt"])))
        for r in rows
    ]
    _attach_labels(db, hits)
    return Results(hits, total, page, pages, page_size)


def _shorten(text: str) -> str:
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, EXCERPT_CHARS)
    return text[: cut if cut > 0 else EXCERPT_CHARS] + "…"


def filter_sql(query: Query) -> tuple[str, list]:
    """SQL conditions on content passage `p` (joined to its document `d`) for the query's filters."""
    # Topic, stance and holder must hold on one and the same counted label, so "against,
    # held by X" never pairs X's neutral label with someone else's against, nor with a label
    # an adjudication replaced.
    clauses, params = ["p.kind = 'content'"], []
    if query.source:
        clauses.append("(p.document = ? OR d.outlet = ?)")
        params += [query.source, query.source]
    label = [("l.topic = ?", query.topic), ("l.stance = ?", query.stance), ("l.holder = ?", query.holder)]
    wanted = [(sql, value) for sql, value in label if value]
    if wanted:
        clauses.append(
            f"EXISTS (SELECT 1 FROM labels l WHERE {SAME_TEXT} AND {NOT_OVERRULED} AND "
            + " AND ".join(sql for sql, _ in wanted) + ")"
        )
        params += [value for _, value in wanted]
    return " AND ".join(clauses), params


def _attach_labels(db, hits: list[Hit]) -> None:
    by_id = {h.id: h for h in hits}
    if not by_id:
        return
    rows = db.query(
        f"""SELECT p.id, l.topic, l.stance, l.holder, l.annotator FROM passages p
        JOIN labels l ON {SAME_TEXT}
        WHERE p.id IN (SELECT value FROM json_each(?)) AND l.topic != '' AND {NOT_OVERRULED}
        ORDER BY l.topic, l.annotator""",
        [json.dumps(list(by_id))],
    )
    for row in rows:
        by_id[row.pop("id")].labels.append(row)


def filter_choices(db) -> dict[str, list]:
    """The topics, holders and sources search results can be narrowed to."""
    # Distinct holders first, then one indexed look-up each for a label that counts: joining every
    # label to its passage first took 1.6 s at 100k passages, this a few milliseconds.
    holders = db.execute(
        f"""SELECT h.holder FROM (SELECT DISTINCT holder FROM labels WHERE holder IS NOT NULL AND holder != '') h
        WHERE EXISTS (SELECT 1 FROM labels l JOIN passages p ON {SAME_TEXT}
                      WHERE l.holder = h.holder AND {NOT_OVERRULED})
        ORDER BY h.holder"""
    )
    return {
        "topics": list(db.query("SELECT id, name FROM topics ORDER BY sort, id")),
        "holders": [h for (h,) in holders],
        "documents": list(db.query("SELECT id, title, outlet FROM documents ORDER BY title, id")),
    }
