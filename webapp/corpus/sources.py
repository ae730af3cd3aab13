"""Documents and their passages: reading a corpus folder and importing texts into the database.

A corpus's `seeds/` folder holds every document, so the database can always be rebuilt from it:

- Text documents, `<name>.txt` or `<name>.md`, split into passages by `splitting.split`. Their
  metadata comes from `sources.toml` (a `[documents."<name>"]` table each) or from a sidecar
  file `<name>.toml` beside the text (documents added through the web or the CLI get one, so
  that concurrent additions never rewrite a shared file). A sidecar wins field by field. Either
  table may hold `kinds`, positions mapped to the passage kind a person chose by hand, e.g.
  `kinds = { "3" = "heading" }`; merges and splits made by hand live in the text itself.
- Pre-split documents, `<anything>.jsonl`: one JSON object per line, {"document": name,
  "text": passage, ...metadata}, passages in order, kept exactly as given and all content.
  Metadata fields may sit on any line of their document; the first non-empty value wins.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import tomli_w

from webapp.corpus import splitting
from webapp.store import jsonlines

METADATA_FIELDS = ("title", "author", "outlet", "date", "date_note", "kind", "language", "url", "notes")
TEXT_SUFFIXES = (".txt", ".md")
SIDECAR_SUFFIX = ".toml"
PRESPLIT_SUFFIX = ".jsonl"
SOURCES_FILE = "sources.toml"
# Document names become file names (seeds/, labels/passages/), so they are kept to a plain set.
DOCUMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
# Windows cannot create files with these device names, whatever the suffix or case (con.txt, Lpt1.md).
WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)


class CorpusError(ValueError):
    """A corpus file is missing or malformed."""


@dataclass(frozen=True)
class ImportResult:
    """What importing one document changed."""

    document: str
    passages: int
    added: int
    changed: int
    removed: int

    @property
    def unchanged(self) -> bool:
        """True when the import wrote nothing new."""
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True)
class SplitDocument:
    """A document ready for the database: its name, metadata, passages and source hash."""

    name: str
    passages: list[splitting.Passage]
    metadata: dict[str, str] = field(default_factory=dict)
    source_hash: str = ""


def check_name(name: str) -> str:
    """Return `name` if it can serve as a document and file name, else raise CorpusError."""
    if not DOCUMENT_NAME.match(name) or name.endswith((SIDECAR_SUFFIX, ".tmp")):
        raise CorpusError(
            f"document name {name!r} must start with a letter or digit and use only letters, digits,"
            " '.', '_' and '-' (at most 120 characters)"
        )
    if WINDOWS_RESERVED.fullmatch(name):
        raise CorpusError(
            f"document name {name!r} is reserved on Windows, which keeps CON, PRN, AUX, NUL, COM0-COM9 and"
            " LPT0-LPT9 for devices whatever the suffix or case; choose another name"
        )
    return name


def _source_tables(seeds_dir: Path) -> dict[str, dict]:
    """The raw metadata tables per document: `sources.toml`, then each sidecar over it."""
    tables: dict[str, dict] = {}
    path = seeds_dir / SOURCES_FILE
    if path.exists():
        documents = _read_toml(path).get("documents", {})
        tables.update({name: dict(meta) for name, meta in documents.items() if isinstance(meta, dict)})
    for sidecar in sorted(seeds_dir.glob(f"*{SIDECAR_SUFFIX}")):
        name = sidecar.name[: -len(SIDECAR_SUFFIX)]
        if sidecar.name != SOURCES_FILE and (seeds_dir / name).is_file():
            tables[name] = {**tables.get(name, {}), **_read_toml(sidecar)}
    return tables


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from None


def read_sources(seeds_dir: Path) -> dict[str, dict[str, str]]:
    """Read document metadata from `sources.toml` and the sidecar files: fields per file name."""
    return {
        name: {f: str(meta.get(f, "") or "") for f in METADATA_FIELDS}
        for name, meta in _source_tables(seeds_dir).items()
    }


def read_kind_overrides(seeds_dir: Path) -> dict[str, dict[int, str]]:
    """Read the hand-chosen passage kinds per document, validating positions and kinds."""
    overrides = {}
    for name, meta in _source_tables(seeds_dir).items():
        if "kinds" in meta:
            overrides[name] = parse_kinds(meta["kinds"], f"{seeds_dir / name}: kinds")
    return overrides


def parse_kinds(raw: object, where: str) -> dict[int, str]:
    """Turn a `kinds` table ({"3": "heading"}) into positions and kinds, or raise CorpusError."""
    if not isinstance(raw, dict):
        raise CorpusError(f"{where} must be a table of position = kind")
    kinds = {}
    for position, kind in raw.items():
        if not str(position).isdigit():
            raise CorpusError(f"{where}: position {position!r} is not a whole number")
        if kind not in splitting.KIND_LABELS:
            raise CorpusError(f"{where}: unknown kind {kind!r}; kinds are {', '.join(splitting.KIND_LABELS)}")
        kinds[int(position)] = kind
    return kinds


def format_sidecar(name: str, metadata: dict[str, str], kinds: dict[int, str] | None = None) -> str:
    """Serialise a document's metadata and kind overrides as its sidecar TOML file."""
    data: dict = {f: metadata[f] for f in METADATA_FIELDS if metadata.get(f)}
    if kinds:
        data["kinds"] = {str(p): k for p, k in sorted(kinds.items())}
    return f"# Metadata of {name}; fields as in sources.toml. Edit, then run `counterpoint load`.\n" + tomli_w.dumps(data)


def document_files(seeds_dir: Path) -> list[Path]:
    """The document files of a corpus folder, in name order."""
    return sorted(p for p in seeds_dir.iterdir() if p.suffix in TEXT_SUFFIXES and p.is_file())


def presplit_files(seeds_dir: Path) -> list[Path]:
    """The pre-split document files of a corpus folder, in name order."""
    return sorted(p for p in seeds_dir.iterdir() if p.suffix == PRESPLIT_SUFFIX and p.is_file())


def read_text(path: Path) -> str:
    """Read a document as UTF-8, saying which file and byte break the encoding."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path.name}: not UTF-8 (byte {exc.start}: {exc.reason})") from None


def split_document(
    name: str, text: str, metadata: dict[str, str] | None = None, kinds: dict[int, str] | None = None
) -> SplitDocument:
    """Split a text document, applying hand-chosen kinds, ready for `store_documents`."""
    return SplitDocument(
        name=name,
        passages=splitting.split(text, kinds),
        metadata={f: (metadata or {}).get(f, "") for f in METADATA_FIELDS},
        source_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def presplit_document(name: str, texts: list[str], metadata: dict[str, str] | None = None) -> SplitDocument:
    """A document whose passages were split elsewhere: kept exactly as given, all content."""
    return SplitDocument(
        name=name,
        passages=[splitting.Passage(i, t, splitting.CONTENT) for i, t in enumerate(texts)],
        metadata={f: (metadata or {}).get(f, "") for f in METADATA_FIELDS},
        source_hash=hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode("utf-8")).hexdigest(),
    )


def format_presplit(documents: list[SplitDocument]) -> str:
    """Serialise pre-split documents as a seeds `.jsonl` file, metadata on each first line."""
    lines = []
    for doc in documents:
        meta = {f: v for f, v in doc.metadata.items() if v}
        for p in doc.passages:
            lines.append(json.dumps({"document": doc.name, **meta, "text": p.text}, ensure_ascii=False))
            meta = {}
    return "".join(line + "\n" for line in lines)


def read_presplit(path: Path) -> list[SplitDocument]:
    """Read a pre-split document file, saying which line is wrong."""
    texts: dict[str, list[str]] = {}
    metadata: dict[str, dict[str, str]] = defaultdict(dict)
    # split("\n"), not splitlines(): JSON leaves U+2028, U+0085 and friends unescaped in strings.
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            jsonlines.check_line(line)
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise CorpusError('needs a non-empty "text"')
            name = check_name(str(obj.get("document", "")))
        except (json.JSONDecodeError, jsonlines.JsonTextError, CorpusError) as exc:
            raise CorpusError(f"{path.name} line {number}: {exc}") from None
        texts.setdefault(name, []).append(obj["text"])
        for f in METADATA_FIELDS:
            if obj.get(f) and not metadata[name].get(f):
                metadata[name][f] = str(obj[f])
    return [presplit_document(name, t, metadata[name]) for name, t in texts.items()]


def import_document(
    db, name: str, text: str, metadata: dict[str, str] | None = None, kinds: dict[int, str] | None = None
) -> ImportResult:
    """Split `text` and store it as document `name`, keeping unchanged passages as they are."""
    return store_documents(db, [split_document(name, text, metadata, kinds)])[0]


def store_documents(db, documents: list[SplitDocument]) -> list[ImportResult]:
    """Store documents in one transaction with bulk writes, leaving unchanged rows untouched."""
    names = json.dumps([d.name for d in documents])
    with db.atomic():
        existing = {
            row["id"]: row
            for row in db.query("SELECT * FROM documents WHERE id IN (SELECT value FROM json_each(?))", [names])
        }
        old: dict[str, dict[int, dict]] = defaultdict(dict)
        for row in db.query(
            """SELECT id, document, position, kind, text_hash FROM passages
            WHERE document IN (SELECT value FROM json_each(?))""",
            [names],
        ):
            old[row["document"]][row["position"]] = row
        plan = _Plan()
        results = [plan.add(doc, existing.get(doc.name), old[doc.name]) for doc in documents]
        plan.write(db)
    return results


@dataclass
class _Plan:
    """The bulk writes that bring stored documents in line with new ones."""

    documents: list[dict] = field(default_factory=list)
    inserts: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)

    def add(self, doc: SplitDocument, existing: dict | None, old: dict[int, dict]) -> ImportResult:
        """Plan the writes for one document and say what they change."""
        if not existing or existing["source_hash"] != doc.source_hash or any(
            existing[f] != doc.metadata[f] for f in METADATA_FIELDS
        ):
            imported = existing["imported"] if existing else _now()
            self.documents.append({"id": doc.name, **doc.metadata, "source_hash": doc.source_hash, "imported": imported})
        added = changed = 0
        for p in doc.passages:
            row = old.get(p.position)
            if row is None:
                self.inserts.append(_row(doc.name, p))
                added += 1
            elif (row["kind"], row["text_hash"]) != (p.kind, p.text_hash):
                self.updates.append({"id": row["id"], **_row(doc.name, p)})
                changed += 1
        removed = [row["id"] for pos, row in old.items() if pos >= len(doc.passages)]
        self.deletes.extend(removed)
        return ImportResult(doc.name, len(doc.passages), added, changed, len(removed))

    def write(self, db) -> None:
        """Carry out the planned writes, deletions before inserts so positions stay unique."""
        if self.documents:
            db["documents"].upsert_all(self.documents, pk="id")
        if self.deletes:
            db.execute("DELETE FROM passages WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(self.deletes)])
        if self.updates:
            db["passages"].upsert_all(self.updates, pk="id")
        if self.inserts:
            # One statement for all rows: SQLite ends each statement by syncing the full-text
            # index, so row-by-row inserts made it merge segments over and over (minutes at
            # 100,000 passages). sqlite-utils' insert_all would also inspect every value.
            db.execute(
                """INSERT INTO passages (document, position, kind, text, text_hash)
                SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?)""",
                [json.dumps([[r["document"], r["position"], r["kind"], r["text"], r["text_hash"]] for r in self.inserts])],
            )


def _row(name: str, p: splitting.Passage) -> dict:
    return {"document": name, "position": p.position, "kind": p.kind, "text": p.text, "text_hash": p.text_hash}


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_folder(seeds_dir: Path) -> list[SplitDocument]:
    """Read and split every document of a corpus folder, text and pre-split alike, in name order."""
    sources = read_sources(seeds_dir)
    overrides = read_kind_overrides(seeds_dir)
    found: list[tuple[str, SplitDocument]] = [
        (p.name, split_document(p.name, read_text(p), sources.get(p.name), overrides.get(p.name)))
        for p in document_files(seeds_dir)
    ]
    found += [(f.name, doc) for f in presplit_files(seeds_dir) for doc in read_presplit(f)]
    seen: dict[str, str] = {}
    for file_name, doc in found:
        if doc.name in seen:
            raise CorpusError(f"document {doc.name!r} is in both {seen[doc.name]} and {file_name}")
        seen[doc.name] = file_name
    return [doc for _, doc in sorted(found, key=lambda pair: (pair[0], pair[1].name))]


def import_folder(db, seeds_dir: Path) -> list[ImportResult]:
    """Import every document of a corpus folder with its metadata, in one transaction."""
    return store_documents(db, read_folder(seeds_dir))
