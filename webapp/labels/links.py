"""Links people confirm between related passages, and suggestions they dismiss.

Links live in the `links` table and are mirrored in `labels/links.jsonl` with the same
guarantees as the label files: deterministic order, atomic replace, lossless round trip, and a
pending mark committed with each change until the file holds it (see `reconcile`).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from webapp.corpus.display import display_title
from webapp.labels import editor, logfile, validation
from webapp.store.files import atomic_write

RELATIONS = {
    "supports": "Supports",
    "contradicts": "Contradicts",
    "same_claim": "Same claim",
    "responds_to": "Responds to",
}
DISMISSED = "dismissed"
FILE_NAME = "links.jsonl"
_COUNTER = "links_file"
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
    try:
        note = validation.check_note(note) or ""
    except validation.LabelError as exc:
        raise LinkError(str(exc)) from None
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
        _mark_pending(db)

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
        if cursor.rowcount:
            _mark_pending(db)
        return cursor.rowcount > 0

    return editor.write(db, work)


def _mark_pending(db) -> None:
    logfile.mark_pending(db, _COUNTER)


def pending(db) -> bool:
    """Whether a committed link change may not have reached labels/links.jsonl yet."""
    return logfile.pending(db, _COUNTER)


_LINKED = """
    SELECT l.*, p.id AS other_id, p.text AS other_text, p.document AS other_document,
        d.title AS other_title, d.kind AS other_kind, d.outlet AS other_outlet, d.date AS other_date,
        {direction} AS direction,
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
    for row in rows:
        kind = row.pop("other_kind")
        if row["other_id"]:
            row["other_title"] = display_title(row["other_title"], kind, row["other_outlet"], row["other_date"])
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
    """Rewrite labels/links.jsonl from the database, under the cross-process file lock, and
    clear the pending mark of every change it holds.

    Raises editor.LabelFilesError when the file cannot be written (read-only folder, full
    disk): the database keeps the change and its mark, for `reconcile` to repair.
    """
    return logfile.export(db, labels_dir, FILE_NAME, _COUNTER, lambda: format_records(records(db)), atomic_write)


def differs(db, labels_dir: Path) -> bool:
    """Whether labels/links.jsonl is not exactly what exporting the database would write."""
    return logfile.file_text(labels_dir / FILE_NAME) != format_records(records(db))


def read_file(labels_dir: Path) -> list[LinkRecord]:
    """Read and validate labels/links.jsonl (absent means no links)."""
    return logfile.read(labels_dir, FILE_NAME, _parse)


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
    validation.check_note(item.note)
    return item


def store(db, items: list[LinkRecord]) -> None:
    """Upsert link records (from the file) into the database."""
    with db.atomic():
        db["links"].upsert_all([asdict(r) for r in items], pk=_PK)
