"""Bringing outside documents into a corpus: decoding, HTML extraction, names, and saving.

HTML is reduced to its main text with trafilatura: it is maintained, benchmarks among the best
at separating article prose from navigation, ads and footers, returns plain text one paragraph
per line (which is what the splitter needs) and reads title, author and site name from the page.
It works on the string it is given and never fetches anything.

Every document is first written to `seeds/` and then imported in one transaction, so the
database can always be rebuilt from the corpus folder (see `corpus` for the file formats).
"""

from __future__ import annotations

import json
import os
import re
import threading
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import tomli_w

from . import corpus, labels, splitting, taxonomy
from .labelfile import LabelRecord, atomic_write, format_records

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
EDITABLE_FIELDS = ("title", "author", "outlet", "date", "kind", "url")
JOURNAL_SUFFIX = ".journal"
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class BadInput(ValueError):
    """Input that cannot become a document; the message says what is wrong and what to do."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def decode(data: bytes, filename: str = "The text") -> str:
    """Decode uploaded bytes as UTF-8 (or an HTML page's declared charset), naming what was tried."""
    encoding = "utf-8"
    if filename.lower().endswith(HTML_SUFFIXES) and (found := _CHARSET.search(data[:4096])):
        encoding = found.group(1).decode("ascii").lower()
    try:
        return data.decode("utf-8-sig" if encoding in ("utf-8", "utf8") else encoding)
    except LookupError:
        raise BadInput(f"{filename} declares the unknown encoding {encoding!r}.") from None
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{filename} is not valid {encoding.upper()} text: byte 0x{data[exc.start]:02x} at"
            f" position {exc.start} cannot be decoded as {encoding.upper()}. Save the file as UTF-8"
            " and try again."
        ) from None


def html_to_text(html: str) -> str:
    """Reduce an HTML page to its main text, one paragraph per line."""
    import trafilatura  # imported here: it takes half a second and most imports are plain text

    text = trafilatura.extract(html, include_comments=False, include_tables=True, include_images=False)
    if not text or not text.strip():
        raise BadInput(
            "No article text could be found in this HTML page (it may hold only navigation,"
            " scripts or images). Paste the article's text instead."
        )
    return text


def html_metadata(html: str) -> dict[str, str]:
    """Title, author and outlet that an HTML page declares about itself (empty when absent)."""
    import trafilatura

    # A date guessed from copyright lines or URLs would look authoritative; take declared ones only.
    meta = trafilatura.extract_metadata(html, extensive=False, date_config={"extensive_search": False})
    found = {"title": meta.title, "author": meta.author, "outlet": meta.sitename, "date": meta.date}
    found = {k: (v or "").strip() for k, v in found.items()}
    if not _valid_date(found["date"]):
        found["date"] = ""
    return found


def read_source(filename: str, data: bytes) -> tuple[str, dict[str, str]]:
    """Turn an uploaded or named file into text plus any metadata it declares."""
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise BadInput(f"{safe_basename(filename)}: only {', '.join(UPLOAD_SUFFIXES)} files can be added.")
    text = decode(data, safe_basename(filename))
    if suffix in HTML_SUFFIXES:
        return check_text(html_to_text(text)), html_metadata(text)
    return check_text(text), {}


def check_text(text: str) -> str:
    """Return `text` if it has something to split, else raise BadInput."""
    if not text.strip():
        raise BadInput("The text is empty: paste the document's text or choose a file that has some.")
    return text


def check_metadata(raw: dict[str, str]) -> dict[str, str]:
    """Trim the metadata fields and check the date and URL, which pages show as facts and links."""
    meta = {f: " ".join(str(raw.get(f) or "").split()) for f in corpus.METADATA_FIELDS}
    if meta["date"] and not _valid_date(meta["date"]):
        raise BadInput(f"The date {meta['date']!r} is not a date like 2024-03-09, 2024-03 or 2024.")
    if meta["url"] and not re.match(r"^https?://[^\s/]+", meta["url"]):
        raise BadInput(f"The URL {meta['url']!r} must start with http:// or https://.")
    return meta


def _valid_date(value: str) -> bool:
    if re.fullmatch(r"\d{4}", value):
        return True
    try:
        date.fromisoformat(value if len(value) == 10 else f"{value}-01")
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value))


def safe_basename(filename: str) -> str:
    """The last part of a client-supplied file name, for messages only (never for paths)."""
    return re.split(r"[\\/]", filename or "")[-1][:120] or "The file"


def document_name(source: str, suffix: str = ".txt") -> str:
    """Derive a safe document (and file) name from a client file name or a title."""
    stem = re.split(r"[\\/]", source or "")[-1]
    if Path(stem).suffix.lower() in UPLOAD_SUFFIXES + (corpus.PRESPLIT_SUFFIX,):
        stem = stem[: -len(Path(stem).suffix)]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_stem.lower()).strip("-_")[:80].strip("-_")
    return f"{slug or 'document'}{suffix}"


def read_sidecar(path: Path) -> dict[str, str]:
    """Metadata from a `<file>.toml` beside an input file, if there is one."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"{path.name}: {exc}") from None
    return {f: str(data.get(f) or "") for f in corpus.METADATA_FIELDS}


@dataclass(frozen=True)
class TextFile:
    """A text, Markdown or HTML file read for import: its document name, text and metadata."""

    name: str
    text: str
    metadata: dict[str, str]


def read_text_file(path: Path, options: dict[str, str], size_limit: int | None, name: str | None = None) -> TextFile:
    """Read a file to import: size, encoding and metadata checked (options over sidecar over page)."""
    if size_limit and path.stat().st_size > size_limit:
        raise BadInput(f"{path.name} is {path.stat().st_size:,} bytes, over the limit of {size_limit:,} bytes.")
    text, found = read_source(path.name, path.read_bytes())
    sidecar = read_sidecar(path.with_name(path.name + corpus.SIDECAR_SUFFIX))
    merged = {f: options.get(f) or sidecar.get(f) or found.get(f, "") for f in corpus.METADATA_FIELDS}
    try:
        metadata = check_metadata(merged)
    except BadInput as exc:
        raise BadInput(f"{path.name}: {exc}") from None
    suffix = ".md" if path.suffix.lower() == ".md" else ".txt"
    return TextFile(name or document_name(path.name, suffix), text, metadata)


@dataclass(frozen=True)
class Saved:
    """Where a document was saved, what the import changed, and whether the name was taken."""

    name: str
    result: corpus.ImportResult
    renamed_from: str | None = None


def choose_name(db, seeds_dir: Path, name: str, text: str, sidecar: str, uniquify: bool) -> tuple[str, bool]:
    """Pick the name to save under: (name, already saved with this very content)."""
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem}-{n}{suffix}"
        if not _taken(db, seeds_dir, candidate):
            return candidate, False
        if _same_files(seeds_dir, candidate, text, sidecar):
            return candidate, True
        if not uniquify:
            raise BadInput(
                f"A different document named {name} is already in the corpus. Choose another name"
                f" (--name), or edit seeds/{name} and run `counterpoint load`."
            )
    raise BadInput(f"Too many documents are named like {name}; choose another name.")


def _taken(db, seeds_dir: Path, name: str) -> bool:
    in_db = db.execute("SELECT 1 FROM documents WHERE id = ?", [name]).fetchone()
    return bool(in_db) or (seeds_dir / name).exists() or (seeds_dir / f"{name}{corpus.SIDECAR_SUFFIX}").exists()


def _same_files(seeds_dir: Path, name: str, text: str, sidecar: str) -> bool:
    paths = (seeds_dir / name, seeds_dir / f"{name}{corpus.SIDECAR_SUFFIX}")
    return all(p.is_file() for p in paths) and [p.read_text(encoding="utf-8") for p in paths] == [text, sidecar]


def save_text(
    db,
    seeds_dir: Path,
    name: str,
    text: str,
    metadata: dict[str, str],
    kinds: dict[int, str] | None = None,
    uniquify: bool = False,
) -> Saved:
    """Write a text document and its sidecar to `seeds/`, then import it in one transaction.

    Saving the same text and metadata under the same name again changes nothing; a name taken
    by a different document is refused, or with `uniquify` replaced by `name-2`, `name-3`...
    """
    corpus.check_name(name)
    text = splitting.normalise(check_text(text))
    sidecar = corpus.format_sidecar(name, metadata, kinds)
    chosen, same = choose_name(db, seeds_dir, name, text, sidecar, uniquify)
    with db.atomic(), WrittenFiles() as files:
        result = corpus.import_document(db, chosen, text, metadata, kinds)
        if not same:
            files.write(seeds_dir / chosen, text)
            files.write(seeds_dir / f"{chosen}{corpus.SIDECAR_SUFFIX}", sidecar)
    return Saved(chosen, result, None if chosen == name else name)


class WrittenFiles:
    """Files written inside a transaction: removed again (or restored) if the block fails."""

    def __init__(self):
        self.undo: list[tuple[Path, str | None]] = []

    def write(self, path: Path, content: str) -> None:
        """Write `path` atomically, remembering what was there before."""
        self._remember(path)
        atomic_write(path, content)

    def write_many(self, contents: dict[Path, str]) -> None:
        """Write many files as one: after a crash either all of them are new or none is.

        Every file goes to a temporary name first; one sync makes all of them durable, then a
        journal listing the renames is written before any rename. A crash before the journal
        leaves only temporary files (never read); a crash after it is completed by
        `roll_forward`, which `counterpoint load` runs. Two disk syncs in all, not two per file.
        """
        if not contents:
            return
        temps: list[tuple[Path, Path]] = []
        journal = next(iter(contents)).parent / f".{os.getpid()}-{threading.get_ident()}{JOURNAL_SUFFIX}"
        try:
            for path, content in contents.items():
                self._remember(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                # A name unique to this thread, not mkstemp's random one: creating thousands of
                # files, mkstemp takes five times as long as the writes.
                tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
                temps.append((tmp, path))
                with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                    handle.write(content)
            os.sync()
            atomic_write(journal, json.dumps([[str(tmp), str(path)] for tmp, path in temps]))
            for tmp, path in temps:
                os.replace(tmp, path)
            os.sync()
        finally:
            journal.unlink(missing_ok=True)
            for tmp, _ in temps:
                tmp.unlink(missing_ok=True)

    def _remember(self, path: Path) -> None:
        self.undo.append((path, path.read_text(encoding="utf-8") if path.exists() else None))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for path, before in reversed(self.undo):
                if before is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, before)
        return False


def roll_forward(folders: list[Path]) -> list[Path]:
    """Finish the renames of any `write_many` a crash interrupted; returns the files completed."""
    done = []
    for journal in sorted(j for folder in folders if folder.is_dir() for j in folder.glob(f".*{JOURNAL_SUFFIX}")):
        try:
            pairs = json.loads(journal.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            pairs = []  # cut short before its own rename: no file was renamed yet
        for tmp, path in pairs:
            if Path(tmp).exists():
                os.replace(tmp, path)
                done.append(Path(path))
        journal.unlink()
    return done


@dataclass
class Batch:
    """Pre-split documents read from a JSONL file, with their labels and any topics to add."""

    documents: list[corpus.SplitDocument] = field(default_factory=list)
    labels: list[LabelRecord] = field(default_factory=list)
    new_topics: dict[str, dict[str, str]] = field(default_factory=dict)


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
            obj = _jsonl_object(line)
            name = obj["document"]
            position = len(texts.setdefault(name, []))
            texts[name].append(obj["text"])
            meta = metadata.setdefault(name, {})
            for f in corpus.METADATA_FIELDS:
                meta[f] = meta.get(f) or obj.get(f) or ""
            for raw in obj.get("labels") or []:
                batch.labels.append(_label(raw, name, position, obj["text"], annotator, updated))
                _check_topic(raw, topics, add_topics, batch.new_topics)
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
    batch.documents = [corpus.presplit_document(name, t, metadata[name]) for name, t in texts.items()]
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
    corpus.check_name(obj["document"])
    if not isinstance(obj.get("text"), str) or not obj["text"].strip():
        raise ValueError('missing "text", or it is empty')
    for f in corpus.METADATA_FIELDS:
        if obj.get(f) is not None and not isinstance(obj[f], str):
            raise ValueError(f"{f} must be a string")
    if not isinstance(obj.get("labels") or [], list):
        raise ValueError('"labels" must be a list of {"topic", "stance", "holder"} objects')
    return obj


def _label(raw: object, document: str, position: int, text: str, annotator: str, updated: str) -> LabelRecord:
    if not isinstance(raw, dict) or "topic" not in raw or "stance" not in raw:
        raise ValueError('each label must be an object with "topic" and "stance"')
    topic, stance = raw["topic"], raw["stance"]
    if topic is None and stance is not None:
        raise ValueError("a label with no topic cannot have a stance")
    if topic is not None and stance not in taxonomy.STANCES:
        raise ValueError(f"unknown stance {stance!r}; stances are {', '.join(taxonomy.STANCES)}")
    for key in ("holder", "annotator"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{key} must be a string")
    return LabelRecord(
        document=document,
        position=position,
        topic=topic,
        stance=stance,
        holder=raw.get("holder") or None,
        annotator=raw.get("annotator") or annotator,
        updated=updated,
        text=text,
    )


def _check_topic(raw: dict, topics: tuple[str, ...], add_topics: bool, new_topics: dict) -> None:
    topic = raw["topic"]
    if topic is None or topic in topics or topic in new_topics:
        return
    if not isinstance(topic, str) or not add_topics:
        raise ValueError(
            f"unknown topic {topic!r}; topics are {', '.join(topics)} (--add-topics creates missing ones)"
        )
    name = raw.get("topic_name") or topic.replace("_", " ").capitalize()
    target = raw.get("topic_target") or f"TODO: state the proposition that stances on {name} are taken toward."
    entry = {"id": topic, "name": str(name), "target": str(target)}
    try:
        taxonomy.parse({"topics": [entry]}, "new topic")
    except taxonomy.TaxonomyError as exc:
        raise ValueError(str(exc)) from None
    new_topics[topic] = entry


def append_topics(path: Path, new_topics: list[dict[str, str]]) -> str:
    """The taxonomy file's text with `[[topics]]` tables appended for new topics."""
    text = path.read_text(encoding="utf-8")
    tables = "".join(f"\n[[topics]]\n{tomli_w.dumps(t)}" for t in new_topics)
    note = "\n# Added by `counterpoint import --add-topics`: check each name and target proposition.\n"
    return text.rstrip("\n") + "\n" + note + tables


@dataclass(frozen=True)
class BatchSaved:
    """What saving a JSONL batch wrote: its seed file, import results, labels and topics."""

    seed_file: str
    results: list[corpus.ImportResult]
    labels: int
    topics: tuple[str, ...]


def save_batch(db, seeds_dir: Path, labels_dir: Path, batch: Batch, stem: str) -> BatchSaved:
    """Write a batch to `seeds/<stem>.jsonl` and import it, labels and topics, in one transaction.

    Importing the same batch again changes nothing. Documents already in the corpus from
    elsewhere are refused: edit their seed file and run `counterpoint load` instead.
    """
    content = corpus.format_presplit(batch.documents)
    seed, same = _seed_file(seeds_dir, document_name(stem, corpus.PRESPLIT_SUFFIX), content)
    if not same:
        _refuse_existing(db, [d.name for d in batch.documents])
    with db.atomic(), WrittenFiles() as files:
        # Seed, taxonomy and label files are written together, so a crash leaves all or none.
        contents = {} if same else {seed: content}
        if batch.new_topics:
            path = labels_dir / "taxonomy.toml"
            contents[path] = append_topics(path, list(batch.new_topics.values()))
            taxonomy.sync(db, taxonomy.parse(tomllib.loads(contents[path]), str(path)))
        results = corpus.store_documents(db, batch.documents)
        changed = _changed_labels(db, batch.labels)
        labels.store(db, changed)
        files.write_many({**contents, **label_files(db, labels_dir, {r.document for r in changed})})
    return BatchSaved(seed.name, results, len(changed), tuple(batch.new_topics))


def label_files(db, labels_dir: Path, documents: set[str]) -> dict[Path, str]:
    """The label files of `documents` as `labels.export` writes them, read in one query.

    Exporting document by document costs a query and two disk syncs each, which for an
    import of thousands of documents takes minutes; this is the same content in bulk.
    """
    by_document: dict[str, list[LabelRecord]] = {d: [] for d in documents}
    for record in labels.records(db):
        if record.document in by_document:
            by_document[record.document].append(record)
    contents = {labels.label_file(labels_dir, d): format_records(r) for d, r in by_document.items()}
    return {path: text for path, text in contents.items() if not path.exists() or path.read_text(encoding="utf-8") != text}


def _seed_file(seeds_dir: Path, name: str, content: str) -> tuple[Path, bool]:
    stem = name[: -len(corpus.PRESPLIT_SUFFIX)]
    for n in range(1, 1000):
        path = seeds_dir / (name if n == 1 else f"{stem}-{n}{corpus.PRESPLIT_SUFFIX}")
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
