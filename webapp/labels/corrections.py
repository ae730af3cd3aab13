"""Corrections to a topic's key arguments: a log of moves and names, replayed over the automatic grouping.

An argument is known by any passage in it, its anchor. "move" puts a passage into the argument
that holds an anchor passage (the passage itself: an argument of its own); "name" calls the
argument that holds a passage something. The log lives in `argument_corrections`, whose id is
the replay order, and is mirrored whole in labels/arguments.jsonl with the guarantees of
links.jsonl (see logfile). Passages are named by (document, position, text), so a correction
survives a rebuild and drops out of the replay once its passage's text changes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from webapp.labels import consensus, editor, logfile, validation
from webapp.store.files import atomic_write

FILE_NAME = "arguments.jsonl"
ACTIONS = ("move", "name")
MAX_NAME = 120
_TABLE = "argument_corrections"
_COUNTER = "argument_corrections_file"
_NAME_WHAT = "The argument's name"


class CorrectionError(ValueError):
    """A correction that cannot be made; the message says why, for the person making it."""


@dataclass(frozen=True)
class Correction:
    """One entry of a topic's correction log, as the file holds it."""

    topic: str
    action: str  # "move" | "name"
    document: str  # the passage moved or named
    position: int
    text: str
    to_document: str  # the anchor of a "move"; "", -1 and "" for a "name"
    to_position: int
    to_text: str
    name: str  # for a "name" ("" clears it); "" for a "move"
    annotator: str
    updated: str


def move(db, topic: str, passage_id: int, anchor_id: int, annotator: str) -> Correction:
    """Put a passage into the argument that holds the anchor passage; the passage as its own anchor
    makes it an argument of its own."""
    return editor.write(db, lambda: _moves(db, topic, [passage_id], anchor_id, annotator))[0]


def merge(db, topic: str, passage_ids: list[int], anchor_id: int, annotator: str) -> list[Correction]:
    """Merge an argument into the one that holds the anchor: one move per passage, in one transaction."""
    moved = list(dict.fromkeys(pid for pid in passage_ids if pid != anchor_id))
    if not moved:
        raise CorrectionError("Nothing to merge: choose an argument other than the one it goes into.")
    return editor.write(db, lambda: _moves(db, topic, moved, anchor_id, annotator))


def name(db, topic: str, passage_id: int, name: str, annotator: str) -> Correction:
    """Name the argument that holds a passage; an empty name clears it."""
    try:
        tidy = validation.check_name(name, _NAME_WHAT, MAX_NAME) or ""
    except validation.LabelError as exc:
        raise CorrectionError(str(exc)) from None

    def work():
        _check_topic(db, topic)
        _check_annotator(annotator)
        consensus.catch_up(db)
        passage = _passage(db, passage_id)
        _stance(db, topic, passage)
        item = Correction(topic, "name", passage["document"], passage["position"], passage["text"],
                          "", -1, "", tidy, annotator, editor.now())
        _insert(db, [item])
        return item

    return editor.write(db, work)


def undo_last(db, topic: str, annotator: str) -> Correction | None:
    """Take the annotator's latest correction on a topic out of the log; None when there is none.

    A merge is one correction to the person who made it, so its moves (the same second, the same
    argument, at the end of that annotator's log) are taken out together.
    """
    def work():
        rows = list(db.query(
            f"SELECT * FROM {_TABLE} WHERE topic = ? AND annotator = ? ORDER BY id DESC LIMIT 1", [topic, annotator]
        ))
        if not rows:
            return None
        last = rows[0]
        same = "updated = ? AND action = ? AND to_document = ? AND to_position = ?"
        batch = [last["updated"], last["action"], last["to_document"], last["to_position"]]
        db.execute(
            f"""DELETE FROM {_TABLE} WHERE topic = ? AND annotator = ? AND {same} AND id > coalesce(
            (SELECT max(id) FROM {_TABLE} WHERE topic = ? AND annotator = ? AND NOT ({same})), 0)""",
            [topic, annotator, *batch, topic, annotator, *batch],
        )
        logfile.mark_pending(db, _COUNTER)
        return _correction(last)

    return editor.write(db, work)


def _moves(db, topic: str, passage_ids: list[int], anchor_id: int, annotator: str) -> list[Correction]:
    _check_topic(db, topic)
    _check_annotator(annotator)
    # Labels written outside the label layer (a rebuild) leave the consensus to catch up.
    consensus.catch_up(db)
    anchor = _passage(db, anchor_id)
    side = _stance(db, topic, anchor)
    stamp = editor.now()
    items = []
    for passage_id in passage_ids:
        passage = anchor if passage_id == anchor_id else _passage(db, passage_id)
        stance = _stance(db, topic, passage)
        if stance != side:
            raise CorrectionError(
                f"An argument belongs to one side: the argument of passage {anchor_id} is {side} on topic {topic},"
                f" and passage {passage_id} takes a different stance ({stance})."
            )
        items.append(Correction(topic, "move", passage["document"], passage["position"], passage["text"],
                                anchor["document"], anchor["position"], anchor["text"], "", annotator, stamp))
    _insert(db, items)
    return items


def _check_topic(db, topic: str) -> None:
    if not isinstance(topic, str) or db.execute("SELECT 1 FROM topics WHERE id = ?", [topic]).fetchone() is None:
        raise CorrectionError(f"There is no topic {topic!r}.")


def _check_annotator(annotator: str) -> None:
    if not isinstance(annotator, str) or not annotator.strip():
        raise CorrectionError("A correction needs the name of the annotator who makes it.")


def _passage(db, passage_id: int) -> dict:
    rows = list(db.query("SELECT id, document, position, text FROM passages WHERE id = ?", [passage_id]))
    if not rows:
        raise CorrectionError(f"There is no passage number {passage_id}.")
    return rows[0]


def _stance(db, topic: str, passage: dict) -> str:
    row = db.execute("SELECT stance FROM consensus WHERE passage = ? AND topic = ?", [passage["id"], topic]).fetchone()
    if row is None:
        raise CorrectionError(f"Passage {passage['id']} has no stance on topic {topic}, so it is in no argument;"
                              " label it first.")
    return row[0]


def _insert(db, items: list[Correction]) -> None:
    db[_TABLE].insert_all([asdict(item) for item in items])
    logfile.mark_pending(db, _COUNTER)


# Each correction with the passages its places hold now, when they still have the text it was made on.
_RESOLVED = f"""
    SELECT c.*, p.id AS passage_id, a.id AS anchor_id FROM {_TABLE} c
    LEFT JOIN passages p ON p.document = c.document AND p.position = c.position AND p.text = c.text
    LEFT JOIN passages a ON a.document = c.to_document AND a.position = c.to_position AND a.text = c.to_text
    WHERE c.topic = ?
"""


def replay(db, topic: str) -> list[tuple[str, int, int | None, str]]:
    """A topic's live corrections in log order as (action, passage id, anchor id or None, name), by
    current passage ids; one whose passage or anchor vanished or changed text is left out."""
    return [
        (row["action"], row["passage_id"], row["anchor_id"], row["name"])
        for row in _resolved(db, topic, "ASC", -1)
        if not row["stale"]
    ]


def history(db, topic: str, limit: int = 50) -> list[dict]:
    """A topic's corrections, newest first, each with its current passage and anchor ids (None when
    gone) and whether it is stale, so left out of the grouping."""
    return _resolved(db, topic, "DESC", limit)


def _resolved(db, topic: str, order: str, limit: int) -> list[dict]:
    # SQLite reads a negative LIMIT as none.
    rows = list(db.query(f"{_RESOLVED} ORDER BY c.id {order} LIMIT ?", [topic, limit]))
    for row in rows:
        row["stale"] = row["passage_id"] is None or (row["action"] == "move" and row["anchor_id"] is None)
    return rows


def pending(db) -> bool:
    """Whether a committed correction may not have reached labels/arguments.jsonl yet."""
    return logfile.pending(db, _COUNTER)


def records(db) -> list[Correction]:
    """The whole log as file records, in log order."""
    return [_correction(row) for row in db.query(f"SELECT * FROM {_TABLE} ORDER BY id")]


def _correction(row: dict) -> Correction:
    return Correction(**{f: row[f] for f in Correction.__dataclass_fields__})


def format_records(items: list[Correction]) -> str:
    """Serialise corrections as JSON Lines, in the order given (the log's)."""
    return "".join(json.dumps(asdict(item), ensure_ascii=False) + "\n" for item in items)


def export(db, labels_dir: Path) -> Path:
    """Rewrite labels/arguments.jsonl from the database under the cross-process lock, clearing the
    pending mark of every change it holds; editor.LabelFilesError when the file cannot be written."""
    return logfile.export(db, labels_dir, FILE_NAME, _COUNTER, lambda: format_records(records(db)), atomic_write)


def differs(db, labels_dir: Path) -> bool:
    """Whether labels/arguments.jsonl is not exactly what exporting the database would write."""
    return logfile.file_text(labels_dir / FILE_NAME) != format_records(records(db))


def read_file(labels_dir: Path) -> list[Correction]:
    """Read and validate labels/arguments.jsonl (absent means no corrections); LabelFileError lists
    every bad line."""
    return logfile.read(labels_dir, FILE_NAME, _parse)


def store(db, items: list[Correction]) -> None:
    """Make the log exactly `items` (the file's records, the whole log); storing it twice changes nothing."""
    with db.atomic():
        if records(db) == items:
            return
        db.execute(f"DELETE FROM {_TABLE}")
        db[_TABLE].insert_all([asdict(item) for item in items])


def _parse(obj: object) -> Correction:
    if not isinstance(obj, dict):
        raise TypeError("a record must be a JSON object")
    item = Correction(**{f: obj.get(f) for f in Correction.__dataclass_fields__})
    if item.action not in ACTIONS:
        raise ValueError(f"unknown action {_shown(item.action)}; a correction is a move or a name")
    _whole(item.position, "position", 0)
    _whole(item.to_position, "to_position", 0 if item.action == "move" else -1)
    anchor = ("to_document", "to_text") if item.action == "move" else ()
    for f in ("topic", "document", "text", "annotator", "updated", *anchor):
        if not isinstance(getattr(item, f), str) or not getattr(item, f):
            raise ValueError(f"{f} must be a non-empty string")
    if not isinstance(item.name, str):
        raise TypeError("name must be a string")
    if item.action == "move":
        if item.name:
            raise ValueError("a move names no argument: name must be empty")
        return item
    if (item.to_document, item.to_position, item.to_text) != ("", -1, ""):
        raise ValueError('a name has no anchor: to_document and to_text must be "" and to_position -1')
    return replace(item, name=validation.check_name(item.name, _NAME_WHAT, MAX_NAME) or "")


def _whole(value: object, field: str, lowest: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= validation.MAX_POSITION:
        raise ValueError(f"{field} must be a whole number from {lowest} to 2^63 - 1, not {_shown(value)}")


def _shown(value: object) -> str:
    shown = repr(value)
    return shown[:40] + "…" if len(shown) > 40 else shown
