"""Documents and their passages: reading a corpus folder and importing texts into the database."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import splitting

METADATA_FIELDS = ("title", "author", "outlet", "date", "date_note", "kind", "language", "url", "notes")
TEXT_SUFFIXES = (".txt", ".md")


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


def read_sources(seeds_dir: Path) -> dict[str, dict[str, str]]:
    """Read `sources.toml` beside the documents: metadata per document file name."""
    path = seeds_dir / "sources.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from None
    documents = data.get("documents", {})
    return {
        name: {f: str(meta.get(f, "") or "") for f in METADATA_FIELDS}
        for name, meta in documents.items()
        if isinstance(meta, dict)
    }


def document_files(seeds_dir: Path) -> list[Path]:
    """The document files of a corpus folder, in name order."""
    return sorted(p for p in seeds_dir.iterdir() if p.suffix in TEXT_SUFFIXES and p.is_file())


def read_text(path: Path) -> str:
    """Read a document as UTF-8, saying which file and byte break the encoding."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path.name}: not UTF-8 (byte {exc.start}: {exc.reason})") from None


def import_document(db, name: str, text: str, metadata: dict[str, str] | None = None) -> ImportResult:
    """Split `text` and store it as document `name`, keeping unchanged passages as they are."""
    passages = splitting.split(text)
    meta = {f: (metadata or {}).get(f, "") for f in METADATA_FIELDS}
    source_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with db.atomic():
        existing = db["documents"].get(name) if _exists(db, name) else None
        unchanged_doc = existing and existing["source_hash"] == source_hash and all(
            existing[f] == meta[f] for f in METADATA_FIELDS
        )
        if not unchanged_doc:
            imported = existing["imported"] if existing else _now()
            db["documents"].upsert(
                {"id": name, **meta, "source_hash": source_hash, "imported": imported}, pk="id"
            )
        return _store_passages(db, name, passages)


def _store_passages(db, name: str, passages: list[splitting.Passage]) -> ImportResult:
    old = {
        row["position"]: row
        for row in db.query("SELECT id, position, kind, text_hash FROM passages WHERE document = ?", [name])
    }
    added = changed = 0
    for p in passages:
        row = old.get(p.position)
        if row is None:
            db["passages"].insert(_row(name, p))
            added += 1
        elif (row["kind"], row["text_hash"]) != (p.kind, p.text_hash):
            db["passages"].update(row["id"], _row(name, p))
            changed += 1
    removed = [row["id"] for pos, row in old.items() if pos >= len(passages)]
    if removed:
        db.execute(
            f"DELETE FROM passages WHERE id IN ({', '.join('?' for _ in removed)})", removed
        )
    return ImportResult(name, len(passages), added, changed, len(removed))


def _row(name: str, p: splitting.Passage) -> dict:
    return {"document": name, "position": p.position, "kind": p.kind, "text": p.text, "text_hash": p.text_hash}


def _exists(db, name: str) -> bool:
    return bool(db.execute("SELECT 1 FROM documents WHERE id = ?", [name]).fetchone())


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def import_folder(db, seeds_dir: Path) -> list[ImportResult]:
    """Import every document of a corpus folder with its `sources.toml` metadata."""
    sources = read_sources(seeds_dir)
    return [import_document(db, p.name, read_text(p), sources.get(p.name)) for p in document_files(seeds_dir)]
