"""Label rows every format shares: what an export collects, and how imported items become label changes.

Exports hold the labels that count on content passages (labels whose passage text changed since
are left out: they live on in the label files until reviewed; on an adjudicated passage only the
adjudication is exported). Every format carries the passage's document and position, so an
import finds its passage again, and its text, so an import refuses labels made on different text.

An import gives each (passage, annotator) in the file exactly the labels the file lists, all
or nothing, each recorded in the label history like a save from the labelling screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.corpus.splitting import check_passage, text_hash
from webapp.corpus.taxonomy import Taxonomy
from webapp.labels import editor, validation
from webapp.labels.current import NOT_OVERRULED, SAME_TEXT

DOCUMENT_FIELDS = ("title", "author", "outlet", "date", "kind", "language", "url")


class ExchangeError(ValueError):
    """A file cannot be imported; `problems` lists each with its line, row or item number."""

    def __init__(self, problems: list[str]):
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__("; ".join(problems[:5]) + more)
        self.problems = problems


@dataclass(frozen=True)
class Label:
    """One topic's stance on a passage, and whose view it is."""

    topic: str
    stance: str
    holder: str | None = None


@dataclass
class Item:
    """One annotator's labels on one passage, as a file holds them; no labels means no topic applies."""

    where: str
    annotator: str
    text: str = ""
    document: str | None = None
    position: int | None = None
    updated: str | None = None
    labels: list[Label] = field(default_factory=list)


def label_rows(db) -> list[dict]:
    """Every label that counts on a content passage, with its passage id and document metadata."""
    columns = ", ".join(f"d.{f}" if f != "kind" else "d.kind AS document_kind" for f in DOCUMENT_FIELDS)
    return list(
        db.query(
            f"""SELECT p.id AS passage_id, l.document, l.position, l.topic, l.stance, l.holder,
            l.annotator, l.updated, p.text, {columns}
            FROM labels l
            JOIN passages p ON {SAME_TEXT}
            JOIN documents d ON d.id = l.document
            WHERE p.kind = 'content' AND {NOT_OVERRULED}
            ORDER BY l.document, l.position, l.annotator, l.topic"""
        )
    )


def items_from_rows(rows: list[dict]) -> list[dict]:
    """Group label rows into one entry per (passage, annotator), in file order."""
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = (row["document"], row["position"], row["annotator"])
        group = groups.setdefault(key, {**row, "labels": [], "updated": row["updated"]})
        group["updated"] = max(group["updated"], row["updated"])
        if row["topic"]:
            group["labels"].append(Label(row["topic"], row["stance"], row["holder"]))
    return list(groups.values())


def passages_from_rows(rows: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Group (passage, annotator) entries by passage: the passage's first row and its entries."""
    passages: dict[int, tuple[dict, list[dict]]] = {}
    for item in items_from_rows(rows):
        passages.setdefault(item["passage_id"], (item, []))[1].append(item)
    return list(passages.values())


def check_label(topic: object, stance: object, holder: object, taxonomy: Taxonomy) -> Label | None:
    """Validate one topic, stance and holder from a file by the label rules, raising
    validation.LabelError with the reason; None when an empty topic says no topic applies."""
    label = validation.check_label(topic, stance, holder, topics=taxonomy.ids)
    return Label(*label) if label.topic else None


def import_items(db, items: list[Item], note: str) -> list[editor.Change]:
    """Check every item against the database, then set all their labels in one transaction, or none."""
    problems, targets, seen = [], [], {}
    for item in items:
        try:
            passage = _find_passage(db, item)
        except ValueError as exc:
            problems.append(f"{item.where}: {exc}")
            continue
        key = (passage["id"], item.annotator)
        if key in seen:
            problems.append(f"{item.where}: same passage and annotator as {seen[key]}")
        seen.setdefault(key, item.where)
        try:
            validation.check_distinct([label.topic for label in item.labels])
        except validation.LabelError as exc:
            problems.append(f"{item.where}: {exc}")
        targets.append((passage, item))
    if problems:
        raise ExchangeError(problems)

    def work():
        changes = []
        for passage, item in targets:
            change = editor.replace(db, passage["document"], passage["position"], item.annotator,
                                     _rows(item, passage["text"]), note)
            if change:
                changes.append(change)
        return changes

    return editor.write(db, work)


def _find_passage(db, item: Item) -> dict:
    if item.document is not None and item.position is not None:
        rows = list(db.query("SELECT * FROM passages WHERE document = ? AND position = ?",
                             [item.document, item.position]))
        if not rows:
            raise ValueError(f"passage not found: {item.document} position {item.position}")
        if item.text and rows[0]["text"] != item.text:
            raise ValueError(f"the text of passage {item.position} of {item.document} differs from the file's")
    else:
        # Tools that drop extra fields still keep the text, which finds a passage if unique.
        rows = list(db.query("SELECT * FROM passages WHERE text_hash = ? AND text = ?",
                             [text_hash(item.text), item.text]))
        if len(rows) != 1:
            raise ValueError("no document and position, and the text matches "
                             + ("no passage" if not rows else f"{len(rows)} passages"))
    if rows[0]["kind"] != "content":
        raise ValueError(f"passage {rows[0]['position']} of {rows[0]['document']} is {rows[0]['kind']}, not content")
    return rows[0]


def _rows(item: Item, text: str) -> list[dict]:
    updated = item.updated or editor.now()
    labels = item.labels or [Label("", None, None)]
    rows = [{"topic": lb.topic, "stance": lb.stance, "holder": lb.holder, "updated": updated, "text": text}
            for lb in labels]
    return sorted(rows, key=lambda row: row["topic"])


def collect(entries, parse) -> list[Item]:
    """Parse each (where, entry) pair, gathering every entry's problem rather than the first.

    An entry that is already a ValueError (a line that was not JSON) is reported as it is. Each
    item's annotator is checked here, whichever field of whichever format named it.
    """
    items, problems = [], []
    for where, entry in entries:
        try:
            if isinstance(entry, ValueError):
                raise entry
            item = parse(where, entry)
            if item is not None:
                validation.check_annotator(item.annotator)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if item is not None:
            items.append(item)
    if problems:
        raise ExchangeError(problems)
    return items


def passage_text(value: object, name: str) -> str:
    """A passage's text from a file: non-empty and at most `splitting.MAX_PASSAGE` characters, or ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"“{name}” must be non-empty text")
    return check_passage(value)


def optional_text(value: object, name: str) -> str | None:
    """An optional string field from a file: None when absent or empty, ValueError when not text."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"“{name}” must be text, not {value!r}")
    return value


def optional_position(value: object) -> int | None:
    """A passage position from a file (whole number >= 0, possibly written as text), or None."""
    if value is None or value == "":
        return None
    # Digits past 20 are no position, and Python will not even read a number of 4,300 digits.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        value = int(value)
    return validation.check_position(value)
