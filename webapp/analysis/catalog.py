"""What the JSON API reads: topics with counts, passages with their labels, one passage in full.

Labels here are the labels that count (made on the passage's present text, and only the
adjudication where there is one), topic None meaning "no topic applies", as in the label files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from webapp.analysis import comparison, fulltext
from webapp.corpus import taxonomy
from webapp.corpus.taxonomy import STANCES
from webapp.labels import editor, links
from webapp.labels.current import NOT_OVERRULED, SAME_TEXT

MAX_LIMIT = 5000


@dataclass(frozen=True)
class PassageFilters:
    """The filters of the passage list; with a topic they mean exactly what the topic page does."""

    document: str = ""
    topic: str = ""
    stance: str = ""
    holder: str = ""
    q: str = ""
    limit: int = 500
    offset: int = 0


def topics(db) -> list[dict]:
    """Every topic with its stance labels and how many passages take each stance (by consensus)."""
    matrix = comparison.stance_matrix(db)
    return [
        {"id": t.id, "name": t.name, "description": t.description, "target": t.target,
         "labels": dict(t.labels), "counts": {s: matrix.get(t.id, {}).get(s, 0) for s in STANCES},
         "passages": sum(matrix.get(t.id, {}).values())}
        for t in taxonomy.from_db(db).topics
    ]


def labels_of(db, passage_ids) -> dict[int, list[dict]]:
    """The labels that count on each passage, by passage id, in topic then annotator order."""
    found: dict[int, list[dict]] = {pid: [] for pid in passage_ids}
    rows = db.query(
        f"""SELECT p.id, l.topic, l.stance, l.holder, l.annotator, l.updated FROM passages p
        JOIN labels l ON {SAME_TEXT}
        WHERE p.id IN (SELECT value FROM json_each(?)) AND {NOT_OVERRULED} ORDER BY l.topic, l.annotator""",
        [json.dumps(list(found))],
    )
    for row in rows:
        found[row.pop("id")].append({**row, "topic": row["topic"] or None})
    return found


def passages(db, filters: PassageFilters) -> list[dict]:
    """Content passages narrowed by the filters, each with its labels; document order unless a topic orders them."""
    if filters.topic:
        page_filters = comparison.Filters(document=filters.document, holder=filters.holder, q=filters.q,
                                          stance=filters.stance)
        cards = comparison.topic_cards(db, filters.topic, page_filters, filters.limit, filters.offset)
        ids = [card.id for card in cards]
        rows = {r["id"]: r for r in _rows(db, "p.id IN (SELECT value FROM json_each(?))", [json.dumps(ids)])}
        found = [rows[i] for i in ids]
    else:
        where, params = fulltext.filter_sql(fulltext.Query(stance=filters.stance, holder=filters.holder,
                                                       source=filters.document))
        match = fulltext.fts_expression(filters.q)
        if match:
            where += " AND p.id IN (SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?)"
            params.append(match)
        found = _rows(db, where + " ORDER BY p.document, p.position LIMIT ? OFFSET ?",
                      [*params, filters.limit, filters.offset])
    labels = labels_of(db, [r["id"] for r in found])
    return [{**r, "labels": labels[r["id"]]} for r in found]


def _rows(db, where: str, params: list) -> list[dict]:
    return list(db.query(
        f"""SELECT p.id, p.document, p.position, p.text FROM passages p JOIN documents d ON d.id = p.document
        WHERE p.kind = 'content' AND {where}""",
        params,
    ))


def passage(db, passage_id: int) -> dict | None:
    """One passage with its document's metadata, labels, label history and links; None if absent."""
    rows = list(db.query(
        """SELECT p.id, p.document, p.position, p.kind, p.text, d.title, d.author, d.outlet, d.date, d.url
        FROM passages p JOIN documents d ON d.id = p.document WHERE p.id = ?""",
        [passage_id],
    ))
    if not rows:
        return None
    found = rows[0]
    history = [asdict(c) for c in editor.history(db, found["document"], found["position"])]
    for change in history:
        for row in change["before"] + change["after"]:
            row["topic"] = row["topic"] or None
    return {**found, "labels": labels_of(db, [passage_id])[passage_id], "history": history,
            "links": [_link(row) for row in links.for_passage(db, passage_id)]}


def _link(row: dict) -> dict:
    return {
        "id": row["other_id"], "document": row[f"{_other(row)}_document"],
        "position": row[f"{_other(row)}_position"], "direction": row["direction"], "relation": row["relation"],
        "note": row["note"] or "", "annotator": row["annotator"], "updated": row["updated"],
        "stale": bool(row["stale"]),
    }


def _other(row: dict) -> str:
    return "target" if row["direction"] == "out" else "source"
