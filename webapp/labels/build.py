"""Build (or bring up to date) the database from a corpus folder: documents plus label files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from webapp.corpus import sources, taxonomy
from webapp.labels import corrections, links, mirror, reconcile
from webapp.labels.current import STALE


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
    # Likewise a label file behind a committed save: its older labels would overwrite newer ones.
    behind = set(reconcile.pending(db))
    records = [r for r in mirror.read_folder(labels_dir, tax.known_ids) if r.document not in behind]
    # A links file behind a committed change (reconcile could not rewrite it) would bring back
    # a link that was removed; the database is the newer truth until the file is rewritten.
    link_records = [] if links.pending(db) else links.read_file(labels_dir)
    # The corrections file is the whole log, so reading an older one would drop newer corrections.
    logged = None if corrections.pending(db) else corrections.read_file(labels_dir)
    with db.atomic():
        taxonomy.sync(db, tax)
        results = sources.import_folder(db, seeds_dir) if seeds_dir.is_dir() else []
        mirror.store(db, records)
        links.store(db, link_records)
        if logged is not None:
            corrections.store(db, logged)
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


def load_corpus(db, seeds_dir: Path, labels_dir: Path) -> tuple[BuildReport, reconcile.Report]:
    """Build from the corpus folder with the label files kept in step with the database.

    Files that lag behind committed saves are rewritten first, or the build would read their
    older labels back over the newer ones; files that still differ afterwards were edited by
    hand and are named in the returned reconcile report.
    """
    repaired = reconcile.reconcile(db, labels_dir, seeds_dir)
    report = build(db, seeds_dir, labels_dir)
    repaired.differing = reconcile.differing(db, labels_dir)
    return report, repaired


def count_needs_review(db) -> int:
    """Labels whose passage text changed or vanished since they were made."""
    return db.execute(
        f"""SELECT count(*) FROM labels l LEFT JOIN passages p
        ON p.document = l.document AND p.position = l.position WHERE {STALE}"""
    ).fetchone()[0]
