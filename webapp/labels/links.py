"""Links people confirm between related passages, and suggestions they dismiss.

Links live in the `links` table and are mirrored in `labels/links.jsonl` with the same
guarantees as the label files: deterministic order, atomic replace, lossless round trip.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from webapp.labels import editor
from webapp.labels.records import LabelFileError
from webapp.store.files import atomic_write

RELATIONS = {
    "supports": "Supports",
    "contradicts": "Contradicts",
    "same_claim": "Same claim",
    "responds_to": "Responds to",
}
DISMISSED = "dismissed"
FILE_NAME = "links.jsonl"
MAX_NOTE = 500
_LOCK_NAME = "@links"
_PK = ("source_document", "source_position", "target_document", "target_position", "annotator")


class LinkError(ValueError):
    """A link that cannot be made; the message says why."""


@dataclass(frozen=True)
class LinkRecord:
    """One link (or dismissal) from one passage to another, by one annotator."""

    source_document: str
    source_position: int
    target_document: str
    target_position: int
    relation: str
    note: str
    annotator: str
    updated: str
    source_text: str
    target_text: str

    def sort_key(self) -> tuple:
        """The order records take in the file."""
        return tuple(getattr(self, f) for f in _PK)


def _passage(db, passage_id: int) -> dict:
    rows = list(db.query("SELECT * FROM passages WHERE id = ?", [passage_id]))
    if not rows:
        raise LinkError(f"There is no passage number {passage_id}.")
    return rows[0]


def record(db, source_id: int, target_id: int, relation: str, annotator: str, note: str = "") -> LinkRecord:
    """Confirm a link with a relation, or dismiss the pair with relation 'dismissed'."""
    if relation not in RELATIONS and relation != DISMISSED:
        raise LinkError(f"Unknown relation {relation!r}; choose one of {', '.join(RELATIONS)}.")
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise LinkError(f"The note is {len(note)} characters long; the limit is {MAX_NOTE}.")
    if source_id == target_id:
        raise LinkError("A passage cannot be linked to itself.")
    source, target = _passage(db, source_id), _passage(db, target_id)
    link = LinkRecord(
        source["document"], source["position"], target["document"], target["position"],
        relation, note, annotator, editor.now(), source["text"], target["text"],
    )

    def work():
        # A pair has one current decision per annotator, whichever way round it was made.
        db.execute(
            """DELETE FROM links WHERE annotator = ? AND source_document = ? AND source_position = ?
            AND target_document = ? AND target_position = ?""",
            [annotator, target["document"], target["position"], source["document"], source["position"]],
        )
        db["links"].upsert(asdict(link), pk=_PK)

    editor.write(db, work)
    return link


def remove(db, source_id: int, target_id: int, annotator: str) -> bool:
    """Withdraw an annotator's link or dismissal between two passages; True if there was one."""
    source, target = _passage(db, source_id), _passage(db, target_id)

    def work():
        cursor = db.execute(
            """DELETE FROM links WHERE annotator = ? AND (
            (source_document = ? AND source_position = ? AND target_document = ? AND target_position = ?) OR
            (source_document = ? AND source_position = ? AND target_document = ? AND target_position = ?))""",
            [annotator, source["document"], source["position"], target["document"], target["position"],
             target["document"], target["position"], source["document"], source["position"]],
        )
        return cursor.rowcount > 0

    return editor.write(db, work)


_LINKED = """
    SELECT l.*, p.id AS other_id, p.text AS other_text, p.document AS other_document,
        d.title AS other_title, d.outlet AS other_outlet, d.date AS other_date, {direction} AS direction,
        (p.text_hash IS NULL OR p.text != {other_text}) AS stale
    FROM links l
    LEFT JOIN passages p ON p.document = l.{other}_document AND p.position = l.{other}_position
    LEFT JOIN documents d ON d.id = p.document
    WHERE l.{this}_document = ? AND l.{this}_position = ?
"""


def for_passage(db, passage_id: int) -> list[dict]:
    """Every link and dismissal touching a passage, newest first, from either end."""
    passage = _passage(db, passage_id)
    key = [passage["document"], passage["position"]]
    outgoing = _LINKED.format(direction="'out'", other="target", this="source", other_text="l.target_text")
    incoming = _LINKED.format(direction="'in'", other="source", this="target", other_text="l.source_text")
    rows = list(db.query(f"{outgoing} UNION ALL {incoming} ORDER BY updated DESC", key + key))
    return rows


def dismissed_ids(db, passage_id: int) -> set[int]:
    """Passages dismissed as suggestions for this one (by anyone), so they are not offered again."""
    return {row["other_id"] for row in for_passage(db, passage_id) if row["relation"] == DISMISSED and row["other_id"]}


def relation_counts(db, passage_ids) -> dict[int, Counter]:
    """Confirmed links per passage by relation, for the comparison cards."""
    ids = list(passage_ids)
    counts: dict[int, Counter] = defaultdict(Counter)
    if not ids:
        return counts
    marks = ", ".join("?" for _ in ids)
    for end in ("source", "target"):
        for pid, relation, n in db.execute(
            f"""SELECT p.id, l.relation, count(*) FROM links l JOIN passages p
            ON p.document = l.{end}_document AND p.position = l.{end}_position
            WHERE p.id IN ({marks}) AND l.relation != ? GROUP BY p.id, l.relation""",
            [*ids, DISMISSED],
        ):
            counts[pid][relation] += n
    return counts


def records(db) -> list[LinkRecord]:
    """Every link as a file record, in file order."""
    fields = LinkRecord.__dataclass_fields__
    rows = db.query(f"SELECT * FROM links ORDER BY {', '.join(_PK)}")
    return [LinkRecord(**{f: row[f] for f in fields}) for row in rows]


def format_records(items) -> str:
    """Serialise link records as JSON Lines in file order."""
    return "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in sorted(items, key=LinkRecord.sort_key))


def export(db, labels_dir: Path) -> Path:
    """Rewrite labels/links.jsonl from the database, under the cross-process file lock."""
    path = labels_dir / FILE_NAME
    with editor.document_lock(labels_dir, _LOCK_NAME):
        content = format_records(records(db))
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            atomic_write(path, content)
    return path


def read_file(labels_dir: Path) -> list[LinkRecord]:
    """Read and validate labels/links.jsonl (absent means no links)."""
    path = labels_dir / FILE_NAME
    if not path.exists():
        return []
    items, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(_parse(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            problems.append(f"{FILE_NAME} line {number}: {exc}")
    if problems:
        raise LabelFileError(problems)
    return items


def _parse(obj: object) -> LinkRecord:
    if not isinstance(obj, dict):
        raise ValueError("a record must be a JSON object")
    item = LinkRecord(**{f: obj.get(f) for f in LinkRecord.__dataclass_fields__})
    if item.relation not in RELATIONS and item.relation != DISMISSED:
        raise ValueError(f"unknown relation {item.relation!r}")
    for f in ("source_position", "target_position"):
        if not isinstance(getattr(item, f), int) or isinstance(getattr(item, f), bool):
            raise ValueError(f"{f} must be a whole number")
    for f in ("source_document", "target_document", "annotator", "updated", "source_text", "target_text"):
        if not isinstance(getattr(item, f), str) or not getattr(item, f):
            raise ValueError(f"{f} must be a non-empty string")
    if not isinstance(item.note, str):
        raise ValueError("note must be a string")
    return item


def store(db, items: list[LinkRecord]) -> None:
    """Upsert link records (from the file) into the database."""
    with db.atomic():
        db["links"].upsert_all([asdict(r) for r in items], pk=_PK)
