"""Bringing outside documents into a corpus: decoding, HTML extraction, names, and saving.

HTML is reduced to its main text with trafilatura: it is maintained, benchmarks among the best
at separating article prose from navigation, ads and footers, returns plain text one paragraph
per line (which is what the splitter needs) and reads title, author and site name from the page.
It works on the string it is given and never fetches anything.

Every document is first written to `seeds/` and then imported in one transaction, so the
database can always be rebuilt from the corpus folder (see `corpus` for the file formats).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from webapp.corpus import sources, splitting
from webapp.store.files import WrittenFiles

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
HTML_SUFFIXES = (".html", ".htm")
EDITABLE_FIELDS = ("title", "author", "outlet", "date", "kind", "url")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# The encodings of the WHATWG Encoding Standard, which browsers read pages in, by Python's names.
# Python knows other codecs too ("undefined", unicode_escape, utf-7...) that fail on any page or
# make text no file can hold; a page declaring one of those, or a name nobody knows, is read as
# UTF-8, as a browser falls back to its default on a charset it does not know. (A page that
# declares UTF-16 in ASCII bytes is not UTF-16, so that too is read as UTF-8.)
_WEB_ENCODINGS = frozenset(codecs.lookup(name).name for name in (
    "utf-8", "ascii", "ibm866", "iso-8859-1", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6",
    "iso-8859-7", "iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r",
    "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258", "gbk", "gb18030", "big5", "euc-jp", "iso-2022-jp", "shift-jis", "euc-kr",
))


class BadInput(ValueError):
    """Input that cannot become a document; the message says what is wrong and what to do."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def decode(data: bytes, filename: str = "The text") -> str:
    """Decode uploaded bytes as UTF-8, or as the charset an HTML page declares if it is one browsers
    read (else as UTF-8 too), naming what was tried when the bytes do not fit."""
    codec, shown, unknown = "utf-8-sig", "UTF-8", ""
    if filename.lower().endswith(HTML_SUFFIXES) and (found := _CHARSET.search(data[:4096])):
        declared = found.group(1).decode("ascii").lower()
        known = _web_encoding(declared)
        if known is None:
            unknown = f" (its declared charset {declared!r} is none that browsers read, so it was read as UTF-8)"
        elif known != "utf-8":
            codec, shown = known, declared.upper()
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{filename} is not valid {shown} text{unknown}: byte 0x{data[exc.start]:02x} at"
            f" position {exc.start} cannot be decoded as {shown}. Save the file as UTF-8"
            " and try again."
        ) from None


def _web_encoding(label: str) -> str | None:
    """Python's name for a charset label if it is one of `_WEB_ENCODINGS`, else None."""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return name if name in _WEB_ENCODINGS else None


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
    if suffix in (".pdf", ".docx"):
        # Imported here: pypdf and python-docx are needed for these files only, and pdfword uses BadInput.
        from webapp.corpus import pdfword

        try:
            text, found = pdfword.read_pdf(data) if suffix == ".pdf" else pdfword.read_docx(data)
        except BadInput as exc:
            raise BadInput(f"{safe_basename(filename)}: {exc}") from None
        return check_text(text), found
    text = decode(data, safe_basename(filename))
    if suffix in HTML_SUFFIXES:
        # The lines of the article text are not the page's lines, so a long passage is named by number only.
        return check_text(html_to_text(text)), html_metadata(text)
    return check_text(text, safe_basename(filename)), {}


def check_text(text: str, source: str | None = None) -> str:
    """Return `text` if it has something to split and no passage over `splitting.MAX_PASSAGE`
    characters, else raise BadInput; with `source`, the file the text is, a long passage's
    refusal names the file and line."""
    if not text.strip():
        raise BadInput("The text is empty: paste the document's text or choose a file that has some.")
    try:
        splitting.check_paragraphs(text)
    except splitting.PassageError as exc:
        raise BadInput(f"{source} line {exc.line}: {exc}" if source else str(exc)) from None
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


def text_document_name(name: str) -> str:
    """The name a text document given a name by hand is saved under: .txt is added to a bare name.

    Only the suffixes the corpus loader reads as text documents are accepted, so that the saved
    file is loaded again on every rebuild; `check_new_name` checks the rest.
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        name = f"{name}.txt"
    elif f".{suffix.lower()}" in sources.TEXT_SUFFIXES:
        name = f"{stem}.{suffix.lower()}"
    elif sources.DOCUMENT_NAME.match(name):  # a plain name with another suffix; check_new_name explains the rest
        jsonl = " (.jsonl files hold pre-split passages: import those with --jsonl)" if (
            f".{suffix.lower()}" == sources.PRESPLIT_SUFFIX) else ""
        raise BadInput(
            f"The name {name} ends in .{suffix}, but a text document's name ends in"
            f" {' or '.join(sources.TEXT_SUFFIXES)}, or has no suffix and gets .txt{jsonl}."
        )
    return check_new_name(name)


def check_new_name(name: str) -> str:
    """Return `name` if a new document may take it (a plain file name Windows does not reserve), else raise BadInput."""
    try:
        return sources.check_name(name)
    except sources.CorpusError as exc:
        raise BadInput(f"The {exc}.") from None


def case_twins(db, seeds_dir: Path, names: list[str]) -> dict[str, str]:
    """Each of `names` that differs only in case from another document, mapped to that other name.

    The others are the corpus's documents (in the database or seeds/) and the rest of `names`:
    Windows and macOS take such names for one file, so seeds/ and labels/ would mix them up.
    """
    wanted = json.dumps(sorted({n.lower() for n in names}))
    known = [row[0] for row in db.execute(
        "SELECT id FROM documents WHERE lower(id) IN (SELECT value FROM json_each(?))", [wanted])]
    # Names only, no stat per file: an import of many files calls this once per file.
    known += [n for n in os.listdir(seeds_dir) if n.endswith(sources.TEXT_SUFFIXES)] if seeds_dir.is_dir() else []
    spellings = defaultdict(set)
    for name in [*known, *names]:
        spellings[name.lower()].add(name)
    return {n: min(spellings[n.lower()] - {n}) for n in names if spellings[n.lower()] - {n}}


def refuse_case_twins(db, seeds_dir: Path, names: list[str]) -> None:
    """Raise BadInput if any of `names` differs only in case from another document (`case_twins`)."""
    twins = case_twins(db, seeds_dir, names)
    if twins:
        name, twin = sorted(twins.items())[0]
        raise BadInput(
            f"The document name {name} differs only in case from {twin}; Windows and macOS would take"
            " them for one file. Rename one of them."
        )


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
    """A text, Markdown, HTML, PDF or Word file read for import: its document name, text and metadata."""

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
    return TextFile(text_document_name(name) if name else document_name(path.name, suffix), text, metadata)


@dataclass(frozen=True)
class Saved:
    """Where a document was saved, what the import changed, and whether the name was taken."""

    name: str
    result: sources.ImportResult
    renamed_from: str | None = None


def choose_name(db, seeds_dir: Path, name: str, text: str, sidecar: str, uniquify: bool) -> tuple[str, bool]:
    """Pick the name to save under: (name, already saved with this very content).

    A name taken by another document, or by one whose name differs only in case, is refused, or
    with `uniquify` replaced by `name-2`, `name-3`...
    """
    check_new_name(name)
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        candidate = name if n == 1 else f"{stem}-{n}{suffix}"
        if _taken(db, seeds_dir, candidate):
            if _same_files(seeds_dir, candidate, text, sidecar):
                return candidate, True
            problem = (f"A different document named {name} is already in the corpus. Choose another name"
                       f" (--name), or edit seeds/{name} and run `counterpoint load`.")
        elif twin := case_twins(db, seeds_dir, [candidate]).get(candidate):
            problem = (f"The document {twin} is already in the corpus, and {name} differs from it only in case:"
                       " Windows and macOS would take them for one file. Choose another name (--name).")
        else:
            return candidate, False
        if not uniquify:
            raise BadInput(problem)
    raise BadInput(f"Too many documents are named like {name}; choose another name.")


def check_new_names(db, seeds_dir: Path, files: list[TextFile]) -> None:
    """Refuse files to import together when two would share a name or a name belongs to another document.

    Checked before anything is saved, so that one bad file stops the whole import.
    """
    # Names that differ only in case count as one: Windows and macOS would save them as one file.
    twice = sorted(name for name, count in Counter(f.name.lower() for f in files).items() if count > 1)
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
    before_commit=None,
) -> Saved:
    """Write a text document and its sidecar to `seeds/`, then import it in one transaction.

    Saving the same text and metadata under the same name again changes nothing; a name taken
    by a different document is refused, or with `uniquify` replaced by `name-2`, `name-3`...
    `before_commit(db)` runs inside that transaction, after the import: the label layer passes
    its consensus refresh, which this layer cannot import.
    """
    sources.check_name(name)
    text = splitting.normalise(check_text(text))
    sidecar = sources.format_sidecar(name, metadata, kinds)
    chosen, same = choose_name(db, seeds_dir, name, text, sidecar, uniquify)
    with db.atomic(), WrittenFiles() as files:
        result = sources.import_document(db, chosen, text, metadata, kinds)
        if before_commit:
            before_commit(db)
        if not same:
            files.write(seeds_dir / chosen, text)
            files.write(seeds_dir / f"{chosen}{sources.SIDECAR_SUFFIX}", sidecar)
    return Saved(chosen, result, None if chosen == name else name)
