"""Full-text search over content passages: ranked, filtered, with matches marked safely.

User input never reaches FTS5 as syntax: every word is quoted (as sqlite-utils `quote_fts` does), so
quotes, AND/OR/NOT/NEAR, `*`, `^` and parentheses are searched as plain words. The last word
also matches as a prefix, so live results follow someone still typing.

Search time is bounded whatever the data. The queries run under a deadline (`store.db.deadline`),
and excerpts are never cut from a whole passage: FTS5's snippet() weighs every match against
every other, so one passage of a word repeated over 200 KB took 10 s, in a single call no
deadline can stop. An excerpt is cut instead from the best of the short chunks that make up
the passage's opening `EXCERPT_WINDOW` characters, indexed on their own in memory.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from webapp.corpus.display import display_title
from webapp.corpus.taxonomy import STANCES
from webapp.labels.current import NOT_OVERRULED, SAME_TEXT
from webapp.store.db import deadline

PAGE_SIZE = 20
MAX_QUERY = 200
_PHRASE = re.compile(r'"([^"]*)"|([^\s"]+)')
SNIPPET_TOKENS = 48
EXCERPT_CHARS = 320
# Matches are looked for in a passage's first EXCERPT_WINDOW characters, as many as the longest
# passage imports accept (corpus.splitting.MAX_PASSAGE); past them, a hit shows the passage's
# opening unmarked.
EXCERPT_WINDOW = 20_000
# Chunks short enough that snippet()'s every-match-against-every-match work stays small.
EXCERPT_CHUNK = 1_000
# Private-use characters mark matches inside SQLite: real text does not use them and HTML
# escaping leaves them alone, so they become <mark> only after the text is escaped.
OPEN, CLOSE = "\ue000", "\ue001"
_per_thread = threading.local()


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


def fts_expression(q: str, any_word: bool = False) -> str:
    """Quote every word (or "phrase") of `q` for FTS5 and let the last one match as a prefix.

    All words must match, or with `any_word` any one of them. Returns '' when `q` holds nothing
    to search for. sqlite-utils' `quote_fts` does the same
    quoting but can emit a stray quote for input such as a quote then a newline, so phrases
    are cut here, where no part can ever contain a double quote.
    """
    q = q.replace("\0", " ")  # SQLite reads a query only up to a NUL
    if q.count('"') % 2:
        q += '"'
    phrases = [quoted or word for quoted, word in _PHRASE.findall(q)]
    phrases = [p for p in phrases if p.strip()]
    expression = (" OR " if any_word else " ").join(f'"{p}"' for p in phrases)
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


def search(db, query: Query, page_size: int = PAGE_SIZE, seconds: float | None = None) -> Results:
    """Content passages matching the query's words and filters: best matches first.

    Raises store.db.DeadlineExceeded when its queries take longer than `seconds` (None: no limit).
    """
    match = fts_expression(query.q)
    if not (match or query.filtered):
        return Results([], 0, 1, 0)
    where, params = filter_sql(query)
    if match:
        source = "passages_fts JOIN passages p ON p.rowid = passages_fts.rowid"
        where = "passages_fts MATCH ? AND " + where
        params = [match, *params]
        order = "passages_fts.rank, p.id"
    else:
        source, order = "passages p", "d.date DESC, p.document, p.position"
    base = f"FROM {source} JOIN documents d ON d.id = p.document WHERE {where}"
    with deadline(db.conn, seconds):
        total = db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
        pages = max(1, -(-total // page_size))
        page = min(query.page, pages)
        # One character past the window tells an excerpt whether the passage goes on.
        rows = list(db.query(
            f"""SELECT p.id, p.document, p.position, d.title, d.kind, d.outlet, d.date,
            substr(p.text, 1, {EXCERPT_WINDOW + 1}) AS opening
            {base} ORDER BY {order} LIMIT ? OFFSET ?""",
            [*params, page_size, (page - 1) * page_size],
        ))
        hits = [
            Hit(r["id"], r["document"], r["position"], display_title(r["title"], r["kind"], r["outlet"], r["date"]),
                r["outlet"] or "", r["date"] or "", Markup(""))
            for r in rows
        ]
        _attach_labels(db, hits)
    openings = [r["opening"] for r in rows]
    excerpts = _marked_excerpts(openings, query.q, _tokenizer(db)) if match else [_shorten(t) for t in openings]
    for hit, excerpt in zip(hits, excerpts):
        hit.excerpt = mark(excerpt)
    return Results(hits, total, page, pages, page_size)


def _marked_excerpts(openings: list[str], q: str, tokenizer: str) -> list[str]:
    """For each passage opening, its best-matching chunk cut to SNIPPET_TOKENS around the matches."""
    memory = _chunk_index(tokenizer)
    try:
        chunks, owners, spans = [], [], []  # owners: the passage of each chunk, by rowid - 1
        for i, opening in enumerate(openings):
            parts = _chunks(opening[:EXCERPT_WINDOW])
            spans.append((len(chunks) + 1, len(chunks) + len(parts)))
            chunks += parts
            owners += [i] * len(parts)
        memory.executemany("INSERT INTO chunks (rowid, text) VALUES (?, ?)", enumerate(chunks, start=1))
        # Any one word may pick a chunk: the words of a passage need not share one chunk. Chunks
        # are ranked here rather than by ORDER BY rank, which makes FTS5 prepare a statement
        # per query and cost a page of short passages several milliseconds.
        words = fts_expression(q, any_word=True)
        best: dict[int, tuple[float, int]] = {}
        for rowid, score in memory.execute("SELECT rowid, bm25(chunks) FROM chunks WHERE chunks MATCH ?", [words]):
            passage = owners[rowid - 1]
            best[passage] = min(best.get(passage, (score, rowid)), (score, rowid))
        excerpts = dict(memory.execute(
            f"""SELECT rowid, snippet(chunks, 0, '{OPEN}', '{CLOSE}', '…', {SNIPPET_TOKENS}) FROM chunks
            WHERE chunks MATCH ? AND +rowid IN (SELECT value FROM json_each(?))""",
            [words, json.dumps([rowid for _, rowid in best.values()])],
        ))
    finally:
        memory.rollback()  # the chunks were only ever needed for this page
    return [_elided(excerpts[best[i][1]], best[i][1], span, opening) if i in best else _shorten(opening)
            for i, (span, opening) in enumerate(zip(spans, openings))]


def _chunk_index(tokenizer: str) -> sqlite3.Connection:
    """This thread's in-memory FTS5 table of chunks, tokenizing as the passage index does."""
    # Kept per thread: making the table took more time than the rest of a short page's excerpts.
    held = getattr(_per_thread, "chunks", None)
    if held is None or held[0] != tokenizer:
        conn = sqlite3.connect(":memory:")
        conn.execute(f"CREATE VIRTUAL TABLE chunks USING fts5(text, tokenize='{tokenizer}')")
        _per_thread.chunks = held = (tokenizer, conn)
    return held[1]


def _elided(excerpt: str, rowid: int, span: tuple[int, int], opening: str) -> str:
    # snippet() sees one chunk, so it cannot know that the passage goes on before or after it.
    first, last = span
    if rowid > first and not excerpt.startswith("…"):
        excerpt = "…" + excerpt
    if (rowid < last or len(opening) > EXCERPT_WINDOW) and not excerpt.endswith("…"):
        excerpt += "…"
    return excerpt


def _chunks(text: str) -> list[str]:
    """`text` cut into pieces of at most EXCERPT_CHUNK characters, at a space where there is one."""
    parts, start = [], 0
    while start < len(text):
        end = start + EXCERPT_CHUNK
        if end < len(text):
            space = text.rfind(" ", start + EXCERPT_CHUNK // 2, end)
            end = space + 1 if space > 0 else end
        parts.append(text[start:end])
        start = end
    return parts or [""]


def _shorten(text: str) -> str:
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, EXCERPT_CHARS)
    return text[: cut if cut > 0 else EXCERPT_CHARS] + "…"


def _tokenizer(db) -> str:
    """The passage index's tokenizer, so that excerpts match words just as the search did."""
    schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'passages_fts'").fetchone()[0]
    found = re.search(r"""tokenize\s*=\s*['"]([^'"]*)['"]""", schema)
    return found.group(1) if found else "unicode61"  # FTS5's own default


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
        "documents": sorted(
            ({"id": d["id"], "title": display_title(d["title"], d["kind"], d["outlet"], d["date"]), "outlet": d["outlet"]}
             for d in db.query("SELECT id, title, kind, outlet, date FROM documents")),
            key=lambda d: (d["title"], d["id"]),
        ),
    }
