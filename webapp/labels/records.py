"""The label file format: UTF-8 JSON Lines, one record per (passage, topic, annotator).

Records are written in one order with one key order, so a one-label change is a one-line diff,
and files are replaced atomically so a crash never leaves half a file behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from webapp.labels import validation
from webapp.store import jsonlines

FIELDS = ("document", "position", "topic", "stance", "holder", "annotator", "updated", "text")
# One encoder for every record: json.dumps with a non-default option builds a new one per call,
# which was a third of the cost of writing a million labels' files.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


class LabelFileError(ValueError):
    """A label file has records that cannot be loaded; `problems` lists each with its line."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
        self.problems = problems


@dataclass(frozen=True)
class LabelRecord:
    """One label as stored in a file: topic None means "no topic applies" to the passage."""

    document: str
    position: int
    topic: str | None
    stance: str | None
    holder: str | None
    annotator: str
    updated: str
    text: str

    def sort_key(self) -> tuple:
        """The order records take in a file."""
        return (self.document, self.position, self.topic or "", self.annotator)


def format_record(record: LabelRecord) -> str:
    """Serialise a record as one JSON line with keys in the documented order."""
    return _ENCODER.encode({f: getattr(record, f) for f in FIELDS})


def format_records(records) -> str:
    """Serialise records in file order, one per line."""
    return "".join(format_record(r) + "\n" for r in sorted(records, key=LabelRecord.sort_key))


def parse_lines(lines, source: str, topics: tuple[str, ...]) -> list[LabelRecord]:
    """Parse JSON Lines into records, raising LabelFileError with every problem and its line number."""
    located, problems = locate_records(lines, source, topics)
    if problems:
        raise LabelFileError(problems)
    return [record for _, record in located]


def locate_records(lines, source: str, topics: tuple[str, ...]) -> tuple[list[tuple[str, LabelRecord]], list[str]]:
    """Parse JSON Lines into (place, record) pairs, and every bad line's problem, each placed
    as "<source> line <n>"."""
    located, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            jsonlines.check_line(line)
            located.append((where, parse_record(json.loads(line), topics)))
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return located, problems


def parse_record(obj: object, topics: tuple[str, ...]) -> LabelRecord:
    """Validate one decoded JSON object as a label record, its label by the rules of `validation`."""
    if not isinstance(obj, dict):
        raise ValueError("a record must be a JSON object")
    missing = [f for f in ("document", "position", "topic", "stance", "annotator", "text") if f not in obj]
    if missing:
        raise ValueError(f"missing field {missing[0]!r}")
    position = validation.check_position(obj["position"])
    label = validation.check_label(obj["topic"], obj["stance"], obj.get("holder"), topics=topics)
    for name in ("document", "annotator", "text"):
        if not isinstance(obj[name], str) or not obj[name]:
            raise ValueError(f"{name} must be a non-empty string")
    return LabelRecord(
        document=obj["document"],
        position=position,
        topic=label.topic,
        stance=label.stance,
        holder=label.holder,
        annotator=obj["annotator"],
        updated=str(obj.get("updated") or ""),
        text=obj["text"],
    )


def read_file(path: Path, topics: tuple[str, ...]) -> list[LabelRecord]:
    """Read and validate one label file."""
    try:
        lines = jsonlines.read_lines(path)
    except UnicodeDecodeError as exc:
        raise LabelFileError([f"{path.name}: not UTF-8 (byte {exc.start}: {exc.reason})"]) from None
    return parse_lines(lines, path.name, topics)
