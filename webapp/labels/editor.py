"""Changing hand labels: save, undo and history, each change recorded, files kept in step."""

from __future__ import annotations

import fcntl
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from webapp.corpus.splitting import text_hash
from webapp.labels import consensus, mirror, validation
from webapp.labels.current import ADJUDICATOR

WRITE_ATTEMPTS = 5
LOCKS_FOLDER = ".locks"


class EditError(ValueError):
    """A label change that cannot be made; the message says why, for the annotator."""


class LabelFilesError(OSError):
    """Labels were saved in the database but their file could not be written; says what to do."""

    def __init__(self, labels_dir: Path, path: Path, reason: str):
        where = (Path(labels_dir.name) / path.relative_to(labels_dir)).as_posix()
        super().__init__(
            f"Saved in the database but could not write {where}: {reason}; "
            "run `counterpoint labels export` when fixed."
        )
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class Choice:
    """One topic an annotator ticked for a passage, with the stance and whose view it is."""

    topic: str
    stance: str
    holder: str | None = None


@dataclass(frozen=True)
class Change:
    """One recorded change of one annotator's labels on one passage."""

    id: int
    document: str
    position: int
    annotator: str
    at: str
    before: list[dict]
    after: list[dict]
    note: str | None
    undoes: int | None


def now() -> str:
    """The current UTC time as ISO 8601 with a Z, to the second, as label files record it."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write(db, work):
    """Run `work()` in a BEGIN IMMEDIATE transaction, retrying if SQLite still reports a lock.

    Taking the write lock up front means a transaction never has to upgrade from reading to
    writing, which is where WAL mode fails at once instead of waiting out the busy timeout.
    """
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if attempt < WRITE_ATTEMPTS and _is_lock_error(exc):
                continue
            raise
        try:
            result = work()
            consensus.refresh(db)
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
        return result
    raise AssertionError("unreachable")


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def state(db, document: str, position: int, annotator: str) -> list[dict]:
    """An annotator's label rows on a passage, in topic order, as history records them."""
    return [
        dict(row)
        for row in db.query(
            """SELECT topic, stance, holder, updated, text FROM labels
            WHERE document = ? AND position = ? AND annotator = ? ORDER BY topic""",
            [document, position, annotator],
        )
    ]


def check_choices(choices: list[Choice], topics: tuple[str, ...]) -> list[Choice]:
    """Validate and tidy choices by the label rules: each names a known topic, once, with a stance.

    Raises validation.LabelError with the reason.
    """
    tidy = []
    for c in choices:
        # A choice is a ticked topic: "no topic applies" is said by giving no choices at all.
        validation.check_topic(c.topic, topics)
        tidy.append(Choice(*validation.check_label(c.topic, c.stance, c.holder, topics=topics)))
    validation.check_distinct([c.topic for c in tidy])
    return tidy


def save(db, passage_id: int, annotator: str, choices: list[Choice], note: str | None = None) -> Change | None:
    """Set an annotator's labels on a content passage; None when nothing changed.

    No choices means "reviewed: no topic applies". Checked choices are expected (see
    `check_choices`); rows that stay the same keep their `updated` time, so a one-label change
    is a one-line diff in the label file.
    """
    def work():
        passage = _content_passage(db, passage_id)
        before = state(db, passage["document"], passage["position"], annotator)
        return replace(db, passage["document"], passage["position"], annotator, _after(before, choices, passage["text"]), note)

    return write(db, work)


def _content_passage(db, passage_id: int) -> dict:
    rows = list(db.query("SELECT * FROM passages WHERE id = ?", [passage_id]))
    if not rows:
        raise EditError(f"There is no passage number {passage_id}.")
    if rows[0]["kind"] != "content":
        raise EditError("Only content passages are labelled.")
    return rows[0]


def _after(before: list[dict], choices: list[Choice], text: str) -> list[dict]:
    wanted = [(c.topic, c.stance, c.holder) for c in choices] or [("", None, None)]
    kept = {(r["topic"], r["stance"], r["holder"], r["text"]): r["updated"] for r in before}
    stamp = now()
    rows = [
        {"topic": t, "stance": s, "holder": h, "updated": kept.get((t, s, h, text), stamp), "text": text}
        for t, s, h in wanted
    ]
    return sorted(rows, key=lambda r: r["topic"])


def replace(db, document: str, position: int, annotator: str, after: list[dict], note: str | None,
            undoes: int | None = None) -> Change | None:
    """Within a write transaction, set an annotator's label rows on a passage and record the
    change; None when the rows are already those. A note over the limit raises validation.LabelError."""
    note = validation.check_note(note)
    before = state(db, document, position, annotator)
    if after == before:
        return None
    db.execute(
        "DELETE FROM labels WHERE document = ? AND position = ? AND annotator = ?", [document, position, annotator]
    )
    db["labels"].insert_all(
        {**row, "document": document, "position": position, "annotator": annotator, "text_hash": text_hash(row["text"])}
        for row in after
    )
    change = {
        "document": document,
        "position": position,
        "annotator": annotator,
        "at": now(),
        "before": json.dumps(before, ensure_ascii=False),
        "after": json.dumps(after, ensure_ascii=False),
        "note": note,
        "undoes": undoes,
    }
    change_id = db["label_changes"].insert(change).last_pk
    # Cleared by write_files once the file holds this change; see reconcile.py.
    db.execute(
        "INSERT OR REPLACE INTO label_files_pending (document, change) VALUES (?, ?)", [document, change_id]
    )
    return Change(change_id, document, position, annotator, change["at"], before, after, note, undoes)


def get_change(db, change_id: int) -> Change | None:
    """One recorded change, or None."""
    rows = list(db.query("SELECT * FROM label_changes WHERE id = ?", [change_id]))
    return _change(rows[0]) if rows else None


def _change(row: dict) -> Change:
    return Change(
        row["id"], row["document"], row["position"], row["annotator"], row["at"],
        json.loads(row["before"]), json.loads(row["after"]), row["note"], row["undoes"],
    )


def undo(db, change_id: int, annotator: str, note: str | None = None) -> Change:
    """Restore the labels a change replaced, recorded as a new change.

    Refused when the labels changed again since, because undoing then would silently throw
    the later change away: undo that one first. Adjudications are never undone here: an
    adjudicator changes or withdraws them, which records who did it.
    """
    def work():
        change = get_change(db, change_id)
        if change is not None and change.annotator == ADJUDICATOR:
            raise EditError("An adjudication cannot be undone like a label: an adjudicator updates or withdraws"
                            " it on the Disagreements page, and the history records who did.")
        if change is None or change.annotator != annotator:
            raise EditError("You can only undo your own changes.")
        current = state(db, change.document, change.position, annotator)
        if current != change.after:
            raise EditError("These labels changed again since; undo the newer change first.")
        why = note or f"Undo of change {change.id}"
        return replace(db, change.document, change.position, annotator, change.before, why, change.id)

    return write(db, work)


def last_undoable(db, annotator: str) -> Change | None:
    """The annotator's latest change that is not an undo and has not been undone."""
    rows = list(
        db.query(
            """SELECT * FROM label_changes c WHERE annotator = ? AND undoes IS NULL
            AND NOT EXISTS (SELECT 1 FROM label_changes u WHERE u.undoes = c.id)
            ORDER BY id DESC LIMIT 1""",
            [annotator],
        )
    )
    return _change(rows[0]) if rows else None


def history(db, document: str, position: int) -> list[Change]:
    """Every recorded change to a passage's labels, newest first."""
    rows = db.query(
        "SELECT * FROM label_changes WHERE document = ? AND position = ? ORDER BY id DESC", [document, position]
    )
    return [_change(row) for row in rows]


@contextmanager
def document_lock(labels_dir: Path, document: str):
    """Hold an exclusive lock on one document's label file across processes."""
    folder = labels_dir / LOCKS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{document}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_files(db, labels_dir: Path, documents) -> None:
    """Rewrite the label files of `documents` from the database.

    The read happens inside the lock, so whichever process writes last has read the latest
    committed labels: a slower writer can never put back an older file.

    Raises LabelFilesError when a file cannot be written (read-only folder, full disk): the
    database keeps the change and marks the document pending, for `reconcile` to repair.
    """
    for document in sorted(set(documents)):
        try:
            with document_lock(labels_dir, document):
                upto = db.execute(
                    "SELECT change FROM label_files_pending WHERE document = ?", [document]
                ).fetchone()
                mirror.export(db, labels_dir, [document])
        except OSError as exc:
            raise LabelFilesError(labels_dir, mirror.label_file(labels_dir, document), exc.strerror or str(exc)) from exc
        if upto:
            # Only up to the change this export saw: a save committed meanwhile stays pending.
            write(db, lambda: db.execute(
                "DELETE FROM label_files_pending WHERE document = ? AND change <= ?", [document, upto[0]]
            ))

