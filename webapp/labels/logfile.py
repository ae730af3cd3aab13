"""A JSON Lines file in labels/ that mirrors one table: links.jsonl, arguments.jsonl.

Each such file has a one-row table of two counters (migrations m090 and m120). A change bumps
`changes` in the transaction that makes it; rewriting the file raises `written` to the count it
read before reading the rows. The file may lag while changes > written, and since neither number
ever goes back, a slow writer cannot clear the mark of a change it did not see. The modules that
own a file call these with its name, its counter table and how to write its text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from webapp.labels import editor
from webapp.labels.records import LabelFileError
from webapp.store import jsonlines

T = TypeVar("T")


def mark_pending(db, counter_table: str) -> None:
    """Within a write transaction, note that the file of `counter_table` lags behind this change."""
    # In the change's own transaction, so no committed change can go unmarked; export clears it.
    db.execute(f"UPDATE {counter_table} SET changes = changes + 1")


def pending(db, counter_table: str) -> bool:
    """Whether a committed change may not have reached the file of `counter_table` yet."""
    return bool(db.execute(f"SELECT changes > written FROM {counter_table}").fetchone()[0])


def export(db, labels_dir: Path, file_name: str, counter_table: str, content: Callable[[], str],
           write: Callable[[Path, str], None]) -> Path:
    """Rewrite labels/`file_name` with `content()` by `write` (an atomic writer), under the file's
    cross-process lock, and clear the pending mark of every change it holds.

    Raises editor.LabelFilesError when the file cannot be written (read-only folder, full disk):
    the database keeps the change and its mark, for `reconcile` to repair.
    """
    path = labels_dir / file_name
    try:
        with editor.document_lock(labels_dir, f"@{Path(file_name).stem}"):
            # Counted before the rows are read, so the file holds at least `upto` changes; one
            # committed meanwhile stays marked.
            upto, written = db.execute(f"SELECT changes, written FROM {counter_table}").fetchone()
            text = content()
            if file_text(path) != text:
                write(path, text)
    except OSError as exc:
        raise editor.LabelFilesError(labels_dir, path, exc.strerror or str(exc)) from exc
    if upto > written:
        editor.write(db, lambda: db.execute(f"UPDATE {counter_table} SET written = max(written, ?)", [upto]))
    return path


def file_text(path: Path) -> str:
    """The file's text, "" when it is absent: no rows get no file, and an absent file reads as none."""
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def read(labels_dir: Path, file_name: str, parse: Callable[[object], T]) -> list[T]:
    """Every record of labels/`file_name` in file order, each line checked and given to `parse`
    (which raises ValueError or TypeError); LabelFileError lists every bad line by number."""
    path = labels_dir / file_name
    if not path.exists():
        return []
    try:
        lines = jsonlines.read_lines(path)
    except UnicodeDecodeError as exc:
        raise LabelFileError([f"{file_name}: not UTF-8 (byte {exc.start}: {exc.reason})"]) from None
    items, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            jsonlines.check_line(line)
            items.append(parse(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            problems.append(f"{file_name} line {number}: {exc}")
    if problems:
        raise LabelFileError(problems)
    return items
