"""Bringing outside documents into a corpus: decoding, HTML extraction, names, and saving.

HTML is reduced to its main text with trafilatura: it is maintained, benchmarks among the best
at separating article prose from navigation, ads and footers, returns plain text one paragraph
per line (which is what the splitter needs) and reads title, author and site name from the page.
It works on the string it is given and never fetches anything.

Every document is first written to `seeds/` and then imported in one transaction, so the
database can always be rebuilt from the corpus folder (see `corpus` for the file formats).
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from webapp.corpus import sources, splitting
from webapp.store.files import WrittenFiles

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
EDITABLE_FIELDS = ("title", "author", "outlet", "date", "kind", "url")
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
    meta = {f: " ".join(str(raw.get(f) or "").split()) for f in sources.METADATA_FIELDS}
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
    if Path(stem).suffix.lower() in UPLOAD_SUFFIXES + (sources.PRESPLIT_SUFFIX,):
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
    return {f: str(data.get(f) or "") for f in sources.METADATA_FIELDS}


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
    sidecar = read_sidecar(path.with_name(path.name + sources.SIDECAR_SUFFIX))
    merged = {f: options.get(f) or sidecar.get(f) or found.get(f, "") for f in sources.METADATA_FIELDS}
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
    result: sources.ImportResult
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


def check_new_names(db, seeds_dir: Path, files: list[TextFile]) -> None:
    """Refuse files to import together when two would share a name or a name belongs to another document.

    Checked before anything is saved, so that one bad file stops the whole import.
    """
    twice = sorted(name for name, count in Counter(f.name for f in files).items() if count > 1)
    if twice:
        raise BadInput(f"Two files would both be saved as {twice[0]}; import them one at a time with --name.")
    for f in files:
        choose_name(db, seeds_dir, f.name, splitting.normalise(f.text), sources.format_sidecar(f.name, f.metadata), False)


def _taken(db, seeds_dir: Path, name: str) -> bool:
    in_db = db.execute("SELECT 1 FROM documents WHERE id = ?", [name]).fetchone()
    return bool(in_db) or (seeds_dir / name).exists() or (seeds_dir / f"{name}{sources.SIDECAR_SUFFIX}").exists()


def _same_files(seeds_dir: Path, name: str, text: str, sidecar: str) -> bool:
    paths = (seeds_dir / name, seeds_dir / f"{name}{sources.SIDECAR_SUFFIX}")
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
    sources.check_name(name)
    text = splitting.normalise(check_text(text))
    sidecar = sources.format_sidecar(name, metadata, kinds)
    chosen, same = choose_name(db, seeds_dir, name, text, sidecar, uniquify)
    with db.atomic(), WrittenFiles() as files:
        result = sources.import_document(db, chosen, text, metadata, kinds)
        if not same:
            files.write(seeds_dir / chosen, text)
            files.write(seeds_dir / f"{chosen}{sources.SIDECAR_SUFFIX}", sidecar)
    return Saved(chosen, result, None if chosen == name else name)
