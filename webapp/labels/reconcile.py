"""Bring label files back in step with the database after a crash or a failed file write.

A label save commits to the database first and rewrites the document's file after, so a kill
or a full disk in between leaves the file behind. The save marks its document pending in the
same transaction (see `editor.replace`), as a link change marks labels/links.jsonl (see
`links.pending`); here the marked files get rewritten from the database, which is the newer
truth for them. Files that differ from the database without a pending save were edited by
hand: `counterpoint load` reads them, and anything left over is reported, never overwritten
silently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from webapp.labels import corrections, editor, links, mirror
from webapp.labels.records import format_records
from webapp.store import files

# atomic_write and WrittenFiles name temporary files ".<name>.<random>.tmp"; one this old is
# left over from a crash, since a write takes milliseconds.
TEMP_PATTERN = ".*.tmp"
STALE_SECONDS = 60


@dataclass
class Report:
    """What reconciling found and did."""

    rewritten: list[str] = field(default_factory=list)
    rewrote_links: bool = False
    rewrote_arguments: bool = False
    failed: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    completed: list[Path] = field(default_factory=list)

    def messages(self) -> list[str]:
        """One line per finding, for the command line or a log."""
        lines = [f"Completed an import that was interrupted: wrote {len(self.completed)} file(s)."] if self.completed else []
        lines += [f"Rewrote the label file of {d} from the database (a save had not reached it)." for d in self.rewritten]
        if self.rewrote_links:
            lines.append(f"Rewrote {links.FILE_NAME} from the database (a link change had not reached it).")
        if self.rewrote_arguments:
            lines.append(f"Rewrote {corrections.FILE_NAME} from the database (a correction had not reached it).")
        lines += self.failed
        if self.differing:
            lines.append(
                f"{len(self.differing)} label file(s) differ from the database: {', '.join(self.differing[:5])}"
                + (" ..." if len(self.differing) > 5 else "")
                + ". Run `counterpoint labels export` to rewrite them from the database."
            )
        lines += [f"Removed the leftover temporary file {p.name}." for p in self.removed]
        return lines


def pending(db) -> list[str]:
    """Documents with a committed label change their file may not hold yet."""
    return [row[0] for row in db.execute("SELECT document FROM label_files_pending ORDER BY document")]


def differing(db, labels_dir: Path) -> list[str]:
    """Documents whose label file is not exactly what exporting the database would write."""
    by_document: dict[str, list] = {}
    for record in mirror.records(db):
        by_document.setdefault(record.document, []).append(record)
    folder = labels_dir / mirror.PASSAGES_FOLDER
    on_disk = {p.name[: -len(mirror.FILE_SUFFIX)] for p in folder.glob(f"*{mirror.FILE_SUFFIX}")} if folder.is_dir() else set()
    found = []
    for document in sorted(on_disk | by_document.keys()):
        if _file_of(labels_dir, document) != format_records(by_document.get(document, [])):
            found.append(document)
    return found


def stale_temp_files(folders: list[Path], older_than: float = STALE_SECONDS) -> list[Path]:
    """Temporary files a crashed write left in `folders`, older than `older_than` seconds."""
    cutoff = time.time() - older_than
    return sorted(
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.glob(TEMP_PATTERN)
        if path.is_file() and path.stat().st_mtime <= cutoff
    )


def reconcile(db, labels_dir: Path, seeds_dir: Path | None = None, older_than: float = STALE_SECONDS) -> Report:
    """Finish interrupted imports, rewrite pending label files and a pending links or corrections
    file from the database, and remove stale temporary files."""
    report = Report()
    folders = [labels_dir, labels_dir / mirror.PASSAGES_FOLDER, *([seeds_dir] if seeds_dir else [])]
    # Before the clean-up: the temporary files a journal names are the import's new files.
    report.completed = files.roll_forward(folders)
    for path in stale_temp_files(folders, older_than):
        path.unlink(missing_ok=True)
        report.removed.append(path)
    for document in pending(db):
        behind = _file_of(labels_dir, document) != format_records(mirror.records(db, document))
        try:
            editor.write_files(db, labels_dir, [document])
        except editor.LabelFilesError as exc:
            report.failed.append(str(exc))
        else:
            if behind:
                report.rewritten.append(document)
    report.rewrote_links = _catch_up_log(db, labels_dir, links, report)
    report.rewrote_arguments = _catch_up_log(db, labels_dir, corrections, report)
    return report


def _catch_up_log(db, labels_dir: Path, log, report: Report) -> bool:
    """Rewrite a log file (links or corrections) behind a committed change; True if it was behind."""
    if not log.pending(db):
        return False
    behind = log.differs(db, labels_dir)
    try:
        log.export(db, labels_dir)
    except editor.LabelFilesError as exc:
        report.failed.append(str(exc))
        return False
    return behind


def _file_of(labels_dir: Path, document: str) -> str:
    path = mirror.label_file(labels_dir, document)
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def export_all(db, labels_dir: Path) -> list[Path]:
    """Rewrite every label file, labels/links.jsonl and labels/arguments.jsonl from the database,
    clearing the pending marks that covers; returns the label files written."""
    upto = db.execute("SELECT max(change) FROM label_files_pending").fetchone()[0]
    written = mirror.export(db, labels_dir)
    if upto is not None:
        editor.write(db, lambda: db.execute("DELETE FROM label_files_pending WHERE change <= ?", [upto]))
    # The remedy every "could not write" message names, so it must repair the links file too.
    links.export(db, labels_dir)
    corrections.export(db, labels_dir)
    return written
