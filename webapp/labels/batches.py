"""A JSONL batch: pre-split documents with their labels, checked whole and saved all or nothing."""


from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from webapp.corpus import sources, splitting, taxonomy
from webapp.corpus.textfiles import (
    BadInput,
    check_metadata,
    check_new_name,
    document_name,
    refuse_case_twins,
)
from webapp.labels import mirror, validation
from webapp.labels.records import LabelRecord, format_records
from webapp.store import jsonlines
from webapp.store.files import WrittenFiles

_FIELDS = frozenset(sources.METADATA_FIELDS)
# Distinct labels remembered as checked: a batch's labels repeat a few topics, stances and holders.
MAX_CHECKED = 100_000


@dataclass
class Batch:
    """Pre-split documents read from a JSONL file, with their labels and any topics to add."""

    documents: list[sources.SplitDocument] = field(default_factory=list)
    labels: list[LabelRecord] = field(default_factory=list)
    new_topics: dict[str, dict[str, str]] = field(default_factory=dict)


class LineReader:
    """Checks a JSONL batch line by line, keeping per document only what the whole file decides.

    That is each document's metadata (the first non-empty value of a field wins), its passage
    count and last line, the topics to add and the problems found: a file of any size is checked
    holding little more than its document names.
    """

    def __init__(self, topics: tuple[str, ...], annotator: str, updated: str, add_topics: bool = False):
        self.topics, self.annotator, self.updated, self.add_topics = topics, annotator, updated, add_topics
        self.metadata: dict[str, dict[str, str]] = {}
        self.counts: dict[str, int] = {}
        self.last_line: dict[str, int] = {}
        self.new_topics: dict[str, dict[str, str]] = {}
        self.problems: list[str] = []
        self.checked: dict[tuple, tuple] = {}

    def read(self, number: int, line: str) -> tuple[str, str, list[LabelRecord]] | None:
        """A line's document, passage text and labels; None for a blank line or a bad one (kept in `problems`)."""
        if not line.strip():
            return None
        try:
            jsonlines.check_line(line)
            obj = _jsonl_object(line)
            name = obj["document"]
            position = self.counts.get(name, 0)
            self.counts[name] = position + 1
            self.last_line[name] = number
            meta = self.metadata.setdefault(name, {})
            for f in _FIELDS.intersection(obj):
                if obj[f] and not meta.get(f):
                    meta[f] = obj[f]
            given = []
            for raw in obj.get("labels") or []:
                if self.add_topics:
                    _add_topic(raw, self.topics, self.new_topics)
                known = (*self.topics, *self.new_topics) if self.new_topics else self.topics
                given.append(_label(raw, name, position, obj["text"], self.annotator, self.updated, known, self.checked))
            if len(given) > 1:
                for who in {label.annotator for label in given}:
                    validation.check_label_set([label.topic for label in given if label.annotator == who])
            return name, obj["text"], given
        except validation.LabelError as exc:
            hint = " (--add-topics creates missing ones)" if exc.field == "topic" and not self.add_topics else ""
            self.problems.append(f"line {number}: {exc}{hint}")
        except ValueError as exc:
            self.problems.append(f"line {number}: {exc}")
        return None

    def finish(self) -> dict[str, dict[str, str]]:
        """Each document's checked metadata; raises BadInput naming the bad lines (ten of them at most)."""
        if self.problems:
            more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
            raise BadInput("; ".join(self.problems[:10]) + more, self.problems)
        if not self.counts:
            raise BadInput("The file has no passages: each line needs a JSON object with a document and a text.")
        checked = {}
        for name, meta in self.metadata.items():
            try:
                checked[name] = check_metadata(meta)
            except BadInput as exc:
                raise BadInput(f"document {name}: {exc}") from None
        return checked


def parse_jsonl(
    lines: Iterable[str], topics: tuple[str, ...], annotator: str, updated: str, add_topics: bool = False
) -> Batch:
    """Read pre-split passages, one JSON object per line, reporting every bad line by number.

    Each line is {"document", "text", "title"?, "outlet"?, "date"?, ..., "labels"?: [{"topic",
    "stance", "holder"?, "annotator"?, "topic_name"?, "topic_target"?}]}; a document's passages
    are its lines in order.
    """
    reader = LineReader(topics, annotator, updated, add_topics)
    texts: dict[str, list[str]] = {}
    labels: list[LabelRecord] = []
    for number, line in enumerate(lines, start=1):
        if read := reader.read(number, line):
            texts.setdefault(read[0], []).append(read[1])
            labels += read[2]
    metadata = reader.finish()
    documents = [sources.presplit_document(name, t, metadata[name]) for name, t in texts.items()]
    return Batch(documents, labels, reader.new_topics)


def _jsonl_object(line: str) -> dict:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    if not isinstance(obj.get("document"), str):
        raise ValueError('missing "document" (the name of the document the passage belongs to)')
    sources.check_name(obj["document"])
    if not isinstance(obj.get("text"), str) or not obj["text"].strip():
        raise ValueError('missing "text", or it is empty')
    splitting.check_passage(obj["text"])
    for f in sources.METADATA_FIELDS:
        if f in obj and obj[f] is not None and not isinstance(obj[f], str):
            raise ValueError(f"{f} must be a string")
    if not isinstance(obj.get("labels") or [], list):
        raise ValueError('"labels" must be a list of {"topic", "stance", "holder"} objects')
    return obj


def _label(raw: object, document: str, position: int, text: str, annotator: str, updated: str,
           topics: tuple[str, ...], checked: dict[tuple, tuple] | None = None) -> LabelRecord:
    """A label record from a line's raw label, checked; `checked` remembers the labels of text values
    already accepted (a batch repeats a few thousand of them), so each is checked once."""
    if not isinstance(raw, dict) or "topic" not in raw or "stance" not in raw:
        raise ValueError('each label must be an object with "topic" and "stance"')
    key = (raw["topic"], raw["stance"], raw.get("holder"), raw.get("annotator"))
    # Only text values are remembered: a list or dict as a topic cannot be a key, and is refused anyway.
    remembered = checked is not None and all(v is None or type(v) is str for v in key)
    found = checked.get(key) if remembered else None
    if found is None:
        label = validation.check_label(raw["topic"], raw["stance"], raw.get("holder"), topics=topics)
        if raw.get("annotator") is not None and not isinstance(raw["annotator"], str):
            raise ValueError("annotator must be a string")
        found = (label.topic, label.stance, label.holder, validation.check_annotator(raw.get("annotator") or annotator))
        if remembered and len(checked) < MAX_CHECKED:
            checked[key] = found
    return LabelRecord(
        document=document,
        position=position,
        topic=found[0],
        stance=found[1],
        holder=found[2],
        annotator=found[3],
        updated=updated,
        text=text,
    )


def _add_topic(raw: object, topics: tuple[str, ...], new_topics: dict) -> None:
    """Collect a label's topic as one to add to the taxonomy, if it is a new, well-formed id."""
    topic = raw.get("topic") if isinstance(raw, dict) else None
    if not isinstance(topic, str) or not topic or topic in topics or topic in new_topics:
        return
    name = raw.get("topic_name") or topic.replace("_", " ").capitalize()
    # Passed on as given: the taxonomy refuses a name or target that is not text (a list, say).
    # Without a target the topic is written without one, and pages show it as "target missing".
    entry = {"id": topic, "name": name}
    if raw.get("topic_target") is not None:
        entry["target"] = raw["topic_target"]
    try:
        taxonomy.parse({"topics": [entry]}, "new topic")
    except taxonomy.TaxonomyError as exc:
        raise ValueError(str(exc)) from None
    new_topics[topic] = entry


def append_topics(path: Path, new_topics: list[dict[str, str]]) -> str:
    """The taxonomy file's text with `[[topics]]` tables appended for new topics (a new file if none)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Counterpoint taxonomy: the topics of this corpus.\n"
    tables = "".join(f"\n[[topics]]\n{tomli_w.dumps(t)}" for t in new_topics)
    note = "\n# Added by `counterpoint documents import --add-topics`: check each name and target proposition.\n"
    return text.rstrip("\n") + "\n" + note + tables


@dataclass(frozen=True)
class BatchSaved:
    """What saving a JSONL batch wrote: its seed file, import results, labels and topics."""

    seed_file: str
    results: list[sources.ImportResult]
    labels: int
    topics: tuple[str, ...]
    without_target: tuple[str, ...] = ()


def save_batch(db, seeds_dir: Path, labels_dir: Path, batch: Batch, stem: str) -> BatchSaved:
    """Write a batch to `seeds/<stem>.jsonl` and import it, labels and topics, in one transaction.

    Importing the same batch again changes nothing. Documents already in the corpus from
    elsewhere are refused: edit their seed file and run `counterpoint load` instead.
    """
    content = sources.format_presplit(batch.documents)
    name = check_new_name(document_name(stem, sources.PRESPLIT_SUFFIX))
    seed, same = seed_file(seeds_dir, name, lambda path: path.read_text(encoding="utf-8") == content)
    if not same:
        refuse_existing(db, seeds_dir, [d.name for d in batch.documents])
    with db.atomic(), WrittenFiles() as files:
        # Seed, taxonomy and label files are written together, so a crash leaves all or none.
        contents = {} if same else {seed: content}
        if batch.new_topics:
            contents.update(add_topics(db, labels_dir, batch.new_topics))
        results = sources.store_documents(db, batch.documents)
        changed = changed_labels(db, batch.labels)
        mirror.store(db, changed)
        files.write_many(LabelFiles(db, labels_dir, {r.document for r in changed}, contents))
    return BatchSaved(seed.name, results, len(changed), tuple(batch.new_topics), without_target(batch.new_topics))


def add_topics(db, labels_dir: Path, new_topics: dict[str, dict[str, str]]) -> dict[Path, str]:
    """Add new topics to the database's taxonomy; returns the taxonomy file's new content to write."""
    path = labels_dir / "taxonomy.toml"
    content = append_topics(path, list(new_topics.values()))
    taxonomy.sync(db, taxonomy.parse(tomllib.loads(content), str(path)))
    return {path: content}


def without_target(new_topics: dict[str, dict[str, str]]) -> tuple[str, ...]:
    """The new topics given no target proposition."""
    return tuple(t for t, entry in new_topics.items() if not str(entry.get("target") or "").strip())


class LabelFiles(Mapping):
    """Files for `WrittenFiles.write_many`: `first` as given, then the label files of `documents`.

    A label file is read from the database only when the writing reaches it, so an import of a
    million labels never holds every file's text at once; files already up to date are skipped.
    """

    def __init__(self, db, labels_dir: Path, documents: set[str], first: dict[Path, str | Path] | None = None):
        self.db, self.first = db, first or {}
        self.documents = {mirror.label_file(labels_dir, d): d for d in sorted(documents)}
        self.documents = {p: d for p, d in self.documents.items() if p not in self.first}

    def __getitem__(self, path: Path) -> str:
        if path in self.first:
            return self.first[path]
        return format_records(mirror.records(self.db, self.documents[path]))

    def __iter__(self) -> Iterator[Path]:
        yield from self.first
        yield from self.documents

    def __len__(self) -> int:
        return len(self.first) + len(self.documents)

    def items(self) -> Iterator[tuple[Path, str]]:  # type: ignore[override]
        """Each file and its content, leaving out label files that already hold it."""
        for path in self:
            content = self[path]
            if path in self.first or not path.exists() or path.read_text(encoding="utf-8") != content:
                yield path, content


def seed_file(seeds_dir: Path, name: str, same: Callable[[Path], bool]) -> tuple[Path, bool]:
    """The seed file to write a batch to, and whether it already holds that batch (`same` compares)."""
    stem = name[: -len(sources.PRESPLIT_SUFFIX)]
    for n in range(1, 1000):
        path = seeds_dir / (name if n == 1 else f"{stem}-{n}{sources.PRESPLIT_SUFFIX}")
        if not path.exists():
            return path, False
        if same(path):
            return path, True
    raise BadInput(f"Too many seed files are named like {name}; rename the file.")


def refuse_existing(db, seeds_dir: Path, names: list[str]) -> None:
    """Raise BadInput if a document of a new batch is already in the corpus, or is another's case twin."""
    _refuse_existing(db, names)
    refuse_case_twins(db, seeds_dir, names)


def _refuse_existing(db, names: list[str]) -> None:
    taken = [
        row[0]
        for row in db.execute(
            "SELECT id FROM documents WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", [json.dumps(names)]
        )
    ]
    if taken:
        listed = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
        raise BadInput(
            f"Already in the corpus: {listed}. Import only new documents, or edit their seed file"
            " and run `counterpoint load`.",
        )


def changed_labels(db, records: list[LabelRecord]) -> list[LabelRecord]:
    """The records that are new or differ from the stored labels, so a re-import writes nothing."""
    documents = json.dumps(sorted({r.document for r in records}))
    stored = {
        (row[0], row[1], row[2], row[3]): (row[4], row[5], row[6])
        for row in db.execute(
            """SELECT document, position, topic, annotator, stance, holder, text FROM labels
            WHERE document IN (SELECT value FROM json_each(?))""",
            [documents],
        )
    }
    return [
        r
        for r in records
        if stored.get((r.document, r.position, r.topic or "", r.annotator)) != (r.stance, r.holder, r.text)
    ]
