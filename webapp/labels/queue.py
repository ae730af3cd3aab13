"""The labelling queue: which passage an annotator labels next, with its context and progress."""

from __future__ import annotations

from webapp.corpus.display import display_title
from webapp.corpus.taxonomy import Taxonomy
from webapp.labels.current import LABELLED, SAME_TEXT

# A content passage needs labels from an annotator until they label its current text; an
# adjudication decides what the passage shows, not whether each annotator has read it.
_NEEDS = f"""p.kind = 'content' AND NOT EXISTS (
    SELECT 1 FROM labels l WHERE {SAME_TEXT} AND l.annotator = :annotator)"""

# Preferred keys per action, first one no topic uses wins, so a taxonomy can take any letter.
ACTION_KEYS = {
    "favour": "f+1",
    "neutral": "n=2",
    "against": "a-3",
    "holder": "h;o",
    "skip": "x.k",
    "undo": "u<z",
    # Capital letters, so that accepting every suggestion never comes from a slip of a topic key.
    "accept": "A*",
}


# Above this many topics the label form lists only the topics that may concern a passage.
FORM_TOPICS = 24


def next_passage(db, annotator: str, document: str = "", after: int | None = None) -> dict | None:
    """The first passage needing the annotator's labels, in document order.

    With `document`, only that document's passages come up. With `after` (a passage id), the
    first one after it, wrapping to the start, so skipped passages come round again.
    """
    scope, params = "", {"annotator": annotator}
    if document:
        scope, params["document"] = " AND p.document = :document", document
    sql = f"SELECT p.* FROM passages p WHERE {_NEEDS}{scope}"
    order = " ORDER BY p.document, p.position LIMIT 1"
    if after is not None:
        row = db.execute("SELECT document, position FROM passages WHERE id = ?", [after]).fetchone()
        if row:
            later = list(db.query(sql + " AND (p.document, p.position) > (:d, :p)" + order,
                                  {**params, "d": row[0], "p": row[1]}))
            if later:
                return later[0]
    rows = list(db.query(sql + order, params))
    return rows[0] if rows else None


def needing(db, annotator: str, document: str = "", limit: int = 5000) -> list[dict]:
    """Passages needing the annotator's labels in document order (id, document, position, text)."""
    scope, params = "", {"annotator": annotator, "limit": limit}
    if document:
        scope, params["document"] = " AND p.document = :document", document
    return list(db.query(
        f"SELECT p.id, p.document, p.position, p.text FROM passages p WHERE {_NEEDS}{scope}"
        " ORDER BY p.document, p.position LIMIT :limit",
        params,
    ))


def passage(db, passage_id: int) -> dict | None:
    """A passage with its document's display title, author, outlet and date, or None."""
    rows = list(db.query(
        """SELECT p.*, d.title, d.kind AS document_kind, d.author, d.outlet, d.date
        FROM passages p JOIN documents d ON d.id = p.document WHERE p.id = ?""", [passage_id]
    ))
    if not rows:
        return None
    row = rows[0]
    row["title"] = display_title(row["title"], row.pop("document_kind"), row["outlet"], row["date"])
    return row


def document_title(db, document: str) -> str | None:
    """A document's display title, or None when there is no such document."""
    row = db.execute("SELECT title, kind, outlet, date FROM documents WHERE id = ?", [document]).fetchone()
    return display_title(*row) if row else None


def neighbours(db, document: str, position: int) -> tuple[dict | None, dict | None]:
    """The passages just before and after a position in its document."""
    rows = {
        r["position"]: r
        for r in db.query(
            "SELECT * FROM passages WHERE document = ? AND position IN (?, ?)", [document, position - 1, position + 1]
        )
    }
    return rows.get(position - 1), rows.get(position + 1)


def progress(db, annotator: str) -> list[dict]:
    """Per document: its display title, content passages, how many the annotator labelled, how many anyone did."""
    rows = db.query(
        f"""SELECT p.document, d.title, d.kind, d.outlet, d.date, count(*) AS content,
        sum(NOT ({_NEEDS})) AS mine,
        sum({LABELLED}) AS anyone
        FROM passages p JOIN documents d ON d.id = p.document
        WHERE p.kind = 'content' GROUP BY p.document ORDER BY p.document""",
        {"annotator": annotator},
    )
    return [
        {"document": r["document"], "title": display_title(r["title"], r["kind"], r["outlet"], r["date"]),
         "content": r["content"], "mine": r["mine"], "anyone": r["anyone"]}
        for r in rows
    ]


def holders(db, limit: int = 500) -> list[str]:
    """Holders already used, most used first, for autocomplete."""
    return [
        h for (h,) in db.execute(
            "SELECT holder FROM labels WHERE holder IS NOT NULL GROUP BY holder ORDER BY count(*) DESC, holder LIMIT ?",
            [limit],
        )
    ]


def key_map(taxonomy: Taxonomy) -> dict[str, str]:
    """The key for each action, avoiding the topics' own keys."""
    taken = {t.key for t in taxonomy.topics if t.key}
    keys = {}
    for action, candidates in ACTION_KEYS.items():
        keys[action] = next((k for k in candidates if k not in taken), "")
        taken.add(keys[action])
    return keys


def form_rows(taxonomy: Taxonomy, rows: list[dict], text: str, suggested: dict | None = None) -> list[dict]:
    """Each topic with the stance and holder the annotator gave it on this text ('' if none).

    Where the annotator has no labels yet, a likely suggested topic pre-fills its stance and
    says so; it becomes a label only when the annotator saves the form.
    """
    current = {r["topic"]: r for r in rows if r["text"] == text and r["topic"]}
    out = []
    for t in taxonomy.topics:
        row = {"topic": t, "stance": current.get(t.id, {}).get("stance") or "",
               "holder": current.get(t.id, {}).get("holder") or "", "suggested": None}
        hint = (suggested or {}).get(t.id)
        if hint is not None and not current:
            row["suggested"] = hint
            if hint.probability >= 0.5 and hint.stance:
                row["stance"] = hint.stance
        out.append(row)
    return out
