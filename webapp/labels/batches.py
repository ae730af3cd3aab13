"""A JSONL batch: pre-split documents with their labels, checked whole and saved all or nothing."""


from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from webapp.corpus import sources, splitting, taxonomy
from webapp.corpus.textfiles import (
    BadInput,
    check_metadata,
    check_new_name,
    decode,
    document_name,
    refuse_case_twins,
)
from webapp.labels import mirror, validation
from webapp.labels.records import LabelRecord, format_records
from webapp.store import jsonlines
from webapp.store.files import WrittenFiles


@dataclass
class Batch:
    """Pre-split documents read from a JSONL file, with their labels and any topics to add."""

    documents: list[sources.SplitDocument] = field(default_factory=list)
    labels: list[LabelRecord] = field(default_factory=list)
    new_topics: dict[str, dict[str, str]] = field(default_factory=dict)


def read_lines(path: Path) -> list[str]:
    """The lines of a JSONL file, decoded like any imported text."""
    # Not splitlines(): JSON leaves U+2028 and friends unescaped inside strings.
    return decode(path.read_bytes(), path.name).split("\n")


def parse_jsonl(
    lines: Iterable[str], topics: tuple[str, ...], annotator: str, updated: str, add_topics: bool = False
) -> Batch:
    """Read pre-split passages, one JSON object per line, reporting every bad line by number.

    Each line is {"document", "text", "title"?, "outlet"?, "date"?, ..., "labels"?: [{"topic",
    "stance", "holder"?, "annotator"?, "topic_name"?, "topic_target"?}]}; a document's passages
    are its lines in order.
    """
    texts: dict[str, list[str]] = {}
    metadata: dict[str, dict[str, str]] = {}
    batch, problems = Batch(), []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            jsonlines.check_line(line)
            obj = _jsonl_object(line)
            name = obj["document"]
            position = len(texts.setdefault(name, []))
            texts[name].append(obj["text"])
            meta = metadata.setdefault(name, {})
            for f in sources.METADATA_FIELDS:
                meta[f] = meta.get(f) or obj.get(f) or ""
            given = []
            for raw in obj.get("labels") or []:
                if add_topics:
                    _add_topic(raw, topics, batch.new_topics)
                known = (*topics, *batch.new_topics)
                given.append(_label(raw, name, position, obj["text"], annotator, updated, known))
            for who in {label.annotator for label in given}:
                validation.check_label_set([label.topic for label in given if label.annotator == who])
            batch.labels += given
        except validation.LabelError as exc:
            hint = " (--add-topics creates missing ones)" if exc.field == "topic" and not add_topics else ""
            problems.append(f"line {number}: {exc}{hint}")
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise BadInput("; ".join(problems[:10]) + more, problems)
    if not texts:
        raise BadInput("The file has no passages: each line needs a JSON object with a document and a text.")
    for name, meta in metadata.items():
        try:
            metadata[name] = check_metadata(meta)
        except BadInput as exc:
            raise BadInput(f"document {name}: {exc}") from None
    batch.documents = [sources.presplit_document(name, t, metadata[name]) for name, t in texts.items()]
    return batch


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
        if obj.get(f) is not None and not isinstance(obj[f], str):
            raise ValueError(f"{f} must be a string")
    if not isinstance(obj.get("labels") or [], list):
        raise ValueError('"labels" must be a list of {"topic", "stance", "holder"} objects')
    return obj


def _label(raw: object, document: str, position: int, text: str, annotator: str, updated: str,
           topics: tuple[str, ...]) -> LabelRecord:
    if not isinstance(raw, dict) or "topic" not in raw or "stance" not in raw:
        raise ValueError('each label must be an object with "topic" and "stance"')
    label = validation.check_label(raw["topic"], raw["stance"], raw.get("holder"), topics=topics)
    if raw.get("annotator") is not None and not isinstance(raw["annotator"], str):
        raise ValueError("annotator must be a string")
    return LabelRecord(
        document=document,
        position=position,
        topic=label.topic,
        stance=label.stance,
        holder=label.holder,
        annotator=validation.check_annotator(raw.get("annotator") or annotator),
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
    seed, same = _seed_file(seeds_dir, check_new_name(document_name(stem, sources.PRESPLIT_SUFFIX)), content)
    if not same:
        _refuse_existing(db, [d.name for d in batch.documents])
        refuse_case_twins(db, seeds_dir, [d.name for d in batch.documents])
    with db.atomic(), WrittenFiles() as files:
        # Seed, taxonomy and label files are written together, so a crash leaves all or none.
        contents = {} if same else {seed: content}
        if batch.new_topics:
            path = labels_dir / "taxonomy.toml"
            contents[path] = append_topics(path, list(batch.new_topics.values()))
            taxonomy.sync(db, taxonomy.parse(tomllib.loads(contents[path]), str(path)))
        results = sources.store_documents(db, batch.documents)
        changed = _changed_labels(db, batch.labels)
        mirror.store(db, changed)
        files.write_many({**contents, **label_files(db, labels_dir, {r.document for r in changed})})
    missing = tuple(t for t, entry in batch.new_topics.items() if not str(entry.get("target") or "").strip())
    return BatchSaved(seed.name, results, len(changed), tuple(batch.new_topics), missing)


def label_files(db, labels_dir: Path, documents: set[str]) -> dict[Path, str]:
    """The label files of `documents` as `labels.export` writes them, read in one query.

    Exporting document by document costs a query and two disk syncs each, which for an
    import of thousands of documents takes minutes; this is the same content in bulk.
    """
    by_document: dict[str, list[LabelRecord]] = {d: [] for d in documents}
    for record in mirror.records(db):
        if record.document in by_document:
            by_document[record.document].append(record)
    contents = {mirror.label_file(labels_dir, d): format_records(r) for d, r in by_document.items()}
    return {path: text for path, text in contents.items() if not path.exists() or path.read_text(encoding="utf-8") != text}


def _seed_file(seeds_dir: Path, name: str, content: str) -> tuple[Path, bool]:
    stem = name[: -len(sources.PRESPLIT_SUFFIX)]
    for n in range(1, 1000):
        path = seeds_dir / (name if n == 1 else f"{stem}-{n}{sources.PRESPLIT_SUFFIX}")
        if not path.exists():
            return path, False
        if path.read_text(encoding="utf-8") == content:
            return path, True
    raise BadInput(f"Too many seed files are named like {name}; rename the file.")


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


def _changed_labels(db, records: list[LabelRecord]) -> list[LabelRecord]:
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
