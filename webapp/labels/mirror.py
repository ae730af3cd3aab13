"""Hand labels in the database, and their mirror in the corpus's `labels/` folder."""

from __future__ import annotations

import json
from pathlib import Path

from webapp.corpus.splitting import text_hash
from webapp.labels import consensus
from webapp.labels.current import STALE
from webapp.labels.records import LabelFileError, LabelRecord, format_records, read_file
from webapp.store.files import atomic_write

PASSAGES_FOLDER = "passages"
FILE_SUFFIX = ".jsonl"


def label_file(labels_dir: Path, document: str) -> Path:
    """The file that holds one document's labels."""
    return labels_dir / PASSAGES_FOLDER / f"{document}{FILE_SUFFIX}"


def read_folder(labels_dir: Path, topics: tuple[str, ...]) -> list[LabelRecord]:
    """Read every label file of a corpus, reporting all problems across files at once."""
    folder = labels_dir / PASSAGES_FOLDER
    records, problems = [], []
    for path in sorted(folder.glob(f"*{FILE_SUFFIX}")) if folder.is_dir() else []:
        try:
            records.extend(read_file(path, topics))
        except LabelFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise LabelFileError(problems)
    return records


# The upsert of labels given as a JSON array of rows; the key is (document, position, topic,
# annotator), as in migration m001. ("WHERE true" tells the parser ON CONFLICT is not a join's.)
_UPSERT = """INSERT INTO labels (document, position, topic, annotator, stance, holder, updated, text, text_hash)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7,
    value ->> 8 FROM json_each(?) WHERE true
    ON CONFLICT (document, position, topic, annotator) DO UPDATE SET stance = excluded.stance,
    holder = excluded.holder, updated = excluded.updated, text = excluded.text, text_hash = excluded.text_hash"""


def store(db, records: list[LabelRecord]) -> None:
    """Upsert label records into the database in one transaction."""
    # One statement for all rows: with the triggers on labels, a statement per row (executemany)
    # or per hundred rows (sqlite-utils' upsert_all) took 1.4x as long for 100,000 labels.
    rows = [
        (r.document, r.position, r.topic or "", r.annotator, r.stance, r.holder, r.updated, r.text, text_hash(r.text))
        for r in records
    ]
    with db.atomic():
        if rows:
            db.execute(_UPSERT, [json.dumps(rows)])
        consensus.refresh(db)


def reanchor(db, document: str) -> int:
    """Move labels whose text now sits at another position of the same document.

    A paragraph inserted above a labelled one shifts positions; the label follows its text
    when that text occurs exactly once in the document and no label that stays put already
    holds the new place. Returns how many labels moved.
    """
    with db.atomic():
        moves = _planned_moves(db, document)
        # Park moving labels at negative positions first so that moves into each other's
        # old places (every label shifting down by one) never collide on the primary key.
        for rowid, position in moves.items():
            db.execute("UPDATE labels SET position = ? WHERE rowid = ?", [-1 - position, rowid])
        if moves:
            db.execute("UPDATE labels SET position = -1 - position WHERE document = ? AND position < 0", [document])
        consensus.refresh(db)
    return len(moves)


def _planned_moves(db, document: str) -> dict[int, int]:
    homes: dict[str, list[int]] = {}
    for position, digest in db.execute(
        "SELECT position, text_hash FROM passages WHERE document = ?", [document]
    ):
        homes.setdefault(digest, []).append(position)
    rows = list(
        db.query(
            f"""SELECT l.rowid AS rowid, l.position, l.topic, l.annotator, l.text_hash, {STALE} AS stray
            FROM labels l LEFT JOIN passages p ON p.document = l.document AND p.position = l.position
            WHERE l.document = ?""",
            [document],
        )
    )
    moves = {
        r["rowid"]: homes[r["text_hash"]][0]
        for r in rows
        if r["stray"] and len(homes.get(r["text_hash"], [])) == 1
    }
    # A label kept from moving stays where it is and may in turn block another's new place, so
    # the plan is narrowed until every move lands on a place nobody else holds.
    while True:
        staying = {(r["position"], r["topic"], r["annotator"]) for r in rows if r["rowid"] not in moves}
        targets: dict[tuple, list[int]] = {}
        for r in rows:
            if r["rowid"] in moves:
                targets.setdefault((moves[r["rowid"]], r["topic"], r["annotator"]), []).append(r["rowid"])
        narrowed = {
            rowids[0]: key[0] for key, rowids in targets.items() if len(rowids) == 1 and key not in staying
        }
        if narrowed == moves:
            return moves
        moves = narrowed


def records(db, document: str | None = None) -> list[LabelRecord]:
    """Read labels back as file records, for one document or all."""
    where, params = ("WHERE document = ?", [document]) if document else ("", [])
    # Plain rows, not sqlite-utils' dicts: a save rewrites its document's whole file from these.
    return [
        LabelRecord(document, position, topic or None, stance, holder, annotator, updated, text)
        for document, position, topic, stance, holder, annotator, updated, text in db.execute(
            f"SELECT document, position, topic, stance, holder, annotator, updated, text FROM labels {where}", params
        )
    ]


def export(db, labels_dir: Path, documents: list[str] | None = None) -> list[Path]:
    """Write label files for the given documents (all when None); returns the files written.

    Exporting everything also removes files of documents that no longer have labels, so the
    folder mirrors the database exactly.
    """
    if documents is None:
        documents = [row[0] for row in db.execute("SELECT DISTINCT document FROM labels ORDER BY document")]
        _remove_stale_files(labels_dir, set(documents))
    written = []
    for document in documents:
        path = label_file(labels_dir, document)
        content = format_records(records(db, document))
        if content:
            if not path.exists() or path.read_text(encoding="utf-8") != content:
                atomic_write(path, content)
            written.append(path)
        else:
            path.unlink(missing_ok=True)
    return written


def _remove_stale_files(labels_dir: Path, documents: set[str]) -> None:
    folder = labels_dir / PASSAGES_FOLDER
    if not folder.is_dir():
        return
    for path in folder.glob(f"*{FILE_SUFFIX}"):
        if path.name[: -len(FILE_SUFFIX)] not in documents:
            path.unlink()
