"""`counterpoint labels import`: check label files against the database, then apply all or nothing."""

from __future__ import annotations

from pathlib import Path

from webapp.corpus import splitting
from webapp.labels import editor, validation
from webapp.labels.records import LabelFileError, LabelRecord, locate_records
from webapp.store import jsonlines


def import_files(db, paths: list[Path], topics: tuple[str, ...]) -> list[editor.Change]:
    """Check every record of the label files, then apply them all in one transaction, or none.

    Each (passage, annotator) in the files gets exactly the labels the files give it, recorded
    as a change. Raises LabelFileError listing every problem with its file and line.
    """
    located, problems = [], []
    for path in paths:
        found, bad = _read_located(path, topics)
        located += found
        problems += bad
    located, refused = _importable(located)
    problems += refused
    problems += _check_against_db(db, located)
    if problems:
        raise LabelFileError(problems)
    groups: dict[tuple, list[LabelRecord]] = {}
    for _, record in located:
        groups.setdefault((record.document, record.position, record.annotator), []).append(record)
    note = _note(paths)

    def work():
        changes = []
        for (document, position, annotator), records in groups.items():
            change = editor.replace(db, document, position, annotator, _rows(records), note)
            if change:
                changes.append(change)
        return changes

    return editor.write(db, work)


def _rows(records: list[LabelRecord]) -> list[dict]:
    rows = [
        {"topic": r.topic or "", "stance": r.stance, "holder": r.holder, "updated": r.updated or editor.now(),
         "text": r.text}
        for r in records
    ]
    return sorted(rows, key=lambda row: row["topic"])


def _note(paths: list[Path]) -> str:
    names = "Imported from " + ", ".join(path.name for path in paths)
    # The history note has the same limit as a typed one; a long list of files is summed up.
    return names if len(names) <= validation.MAX_NOTE else f"Imported from {len(paths)} label files"


def _read_located(path: Path, topics) -> tuple[list[tuple[str, LabelRecord]], list[str]]:
    try:
        lines = jsonlines.read_lines(path)
    except UnicodeDecodeError as exc:
        return [], [f"{path.name}: not UTF-8 (byte {exc.start}: {exc.reason})"]
    return locate_records(lines, path.name, topics)


def _importable(located) -> tuple[list[tuple[str, LabelRecord]], list[str]]:
    """The records an import may bring in, and a problem for each other one.

    A label file written here holds the adjudicator's labels, but an import must not: those are
    made on the Disagreements page. A passage over the limit or a position past SQLite's
    integers can match no passage, and the position could not even be looked up.
    """
    kept, problems = [], []
    for where, record in located:
        try:
            validation.check_annotator(record.annotator)
            validation.check_position(record.position)
            splitting.check_passage(record.text)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
        else:
            kept.append((where, record))
    return kept, problems


def _check_against_db(db, located) -> list[str]:
    problems, seen, groups = [], {}, {}
    for where, r in located:
        rows = list(db.query("SELECT kind, text FROM passages WHERE document = ? AND position = ?",
                             [r.document, r.position]))
        if not rows:
            problems.append(f"{where}: passage not found: {r.document} position {r.position}")
        elif rows[0]["kind"] != "content":
            problems.append(f"{where}: passage {r.position} of {r.document} is {rows[0]['kind']}, not content")
        elif rows[0]["text"] != r.text:
            problems.append(f"{where}: the text of passage {r.position} of {r.document} changed since this label")
        key = (r.document, r.position, r.topic or "", r.annotator)
        if key in seen:
            problems.append(f"{where}: same passage, topic and annotator as {seen[key]}")
        seen.setdefault(key, where)
        groups.setdefault(key[:2] + (r.annotator,), []).append((where, r.topic))
    for items in groups.values():
        try:
            validation.check_no_topic_alone([topic for _, topic in items])
        except validation.LabelError as exc:
            problems.append(f"{next(w for w, topic in items if topic is None)}: {exc}")
    return problems
