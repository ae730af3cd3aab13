"""Build (or bring up to date) the database from a corpus folder: documents plus label files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from webapp.corpus import sources, taxonomy
from webapp.labels import links, mirror


@dataclass(frozen=True)
class BuildReport:
    """What a build read and changed."""

    documents: int
    passages: int
    changed_documents: tuple[str, ...]
    labels: int
    moved_labels: int
    needs_review: int


def build(db, seeds_dir: Path, labels_dir: Path) -> BuildReport:
    """Load the taxonomy, the documents and the label files; running it twice changes nothing.

    When labels follow their text to a new position, their document's label file is rewritten
    so that the files and the database agree again.
    """
    tax = taxonomy.load(labels_dir / "taxonomy.toml")
    records = mirror.read_folder(labels_dir, tax.ids)
    link_records = links.read_file(labels_dir)
    with db.atomic():
        taxonomy.sync(db, tax)
        results = sources.import_folder(db, seeds_dir) if seeds_dir.is_dir() else []
        mirror.store(db, records)
        links.store(db, link_records)
        moved = {r.document: mirror.reanchor(db, r.document) for r in results}
    # Fresh statistics let SQLite pick the covering indexes that topic pages depend on.
    db.analyze()
    mirror.export(db, labels_dir, [document for document, count in moved.items() if count])
    return BuildReport(
        documents=len(results),
        passages=sum(r.passages for r in results),
        changed_documents=tuple(r.document for r in results if not r.unchanged),
        labels=len(records),
        moved_labels=sum(moved.values()),
        needs_review=count_needs_review(db),
    )


def count_needs_review(db) -> int:
    """Labels whose passage text changed or vanished since they were made."""
    return db.execute(
        """SELECT count(*) FROM labels l LEFT JOIN passages p
        ON p.document = l.document AND p.position = l.position
        WHERE p.id IS NULL OR p.text_hash != l.text_hash"""
    ).fetchone()[0]
