"""Hand labels in the database, and their mirror in the corpus's `labels/` folder."""

from __future__ import annotations

from pathlib import Path

from .labelfile import LabelFileError, LabelRecord, atomic_write, format_records, read_file
from .splitting import text_hash

PASSAGES_FOLDER = "passages"
FILE_SUFFIX = ".jsonl"


def label_file(labels_dir: Path, document: str) -> Path:
    """The file that holds one document's labels."""
    return labels_dir / PASSAGES_FOLDER / f"{document}{FILE_SUFFIX}"


def read_folder(labels_dir: Path, topics: tuple[str, ...] | None = None) -> list[LabelRecord]:
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


def store(db, records: list[LabelRecord]) -> None:
    """Upsert label records into the database in one transaction."""
    rows = [
        {
            "document": r.document,
            "position": r.position,
            "topic": r.topic or "",
            "annotator": r.annotator,
            "stance": r.stance,
            "holder": r.holder,
            "updated": r.updated,
            "text": r.text,
            "text_hash": text_hash(r.text),
        }
        for r in records
    ]
    with db.atomic():
        db["labels"].upsert_all(rows, pk=("document", "position", "topic", "annotator"))


def reanchor(db, document: str) -> int:
    """Move labels whose text now sits at another position of the same document.

    A paragraph inserted above a labelled one shifts positions; the label follows its text
    when that text occurs exactly once in the document. Returns how many labels moved.
    """
    moved = 0
    stray = db.query(
        """SELECT l.rowid AS rowid, l.position, l.text_hash, l.topic, l.annotator FROM labels l
        LEFT JOIN passages p ON p.document = l.document AND p.position = l.position
        WHERE l.document = ? AND (p.id IS NULL OR p.text_hash != l.text_hash)""",
        [document],
    )
    with db.atomic():
        for label in list(stray):
            homes = db.execute(
                "SELECT position FROM passages WHERE document = ? AND text_hash = ?",
                [document, label["text_hash"]],
            ).fetchall()
            if len(homes) != 1:
                continue
            taken = db.execute(
                "SELECT 1 FROM labels WHERE document = ? AND position = ? AND topic = ? AND annotator = ?",
                [document, homes[0][0], label["topic"], label["annotator"]],
            ).fetchone()
            if not taken:
                db.execute("UPDATE labels SET position = ? WHERE rowid = ?", [homes[0][0], label["rowid"]])
                moved += 1
    return moved


def records(db, document: str | None = None) -> list[LabelRecord]:
    """Read labels back as file records, for one document or all."""
    where, params = ("WHERE document = ?", [document]) if document else ("", [])
    return [
        LabelRecord(
            document=row["document"],
            position=row["position"],
            topic=row["topic"] or None,
            stance=row["stance"],
            holder=row["holder"],
            annotator=row["annotator"],
            updated=row["updated"],
            text=row["text"],
        )
        for row in db.query(f"SELECT * FROM labels {where}", params)
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
