"""Reading PDF and Word files as text: one paragraph per block, with the file's own metadata.

A PDF holds positioned lines, not paragraphs. pypdf gives each page's text line by line, with
the running headers, footers and page numbers printed on every page; those are dropped, and the
lines are joined back into paragraphs. A Word file already holds paragraphs, which python-docx
reads in order. Both return the paragraphs one per line with a blank line between them, which
the splitter (`splitting.paragraphs`) reads as one passage each.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections import Counter
from datetime import date, datetime

import docx
import pypdf
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from lxml.etree import XMLSyntaxError
from pypdf.errors import DependencyError, PyPdfError

from webapp.corpus import splitting
from webapp.corpus.textfiles import BadInput

MAX_PAGES = 2_000
# A .docx is a zip file; one that unpacks past this is a zip bomb, not a report.
MAX_UNPACKED = 200 * 1024 * 1024
# Running headers and footers are among the first or last lines a page's text yields.
_EDGE_LINES = 3
# A line at the edge of this share of the pages (when there are at least _MIN_PAGES) is furniture.
_REPEATED_SHARE = 0.6
_MIN_PAGES = 3
# A paragraph's last line is clearly shorter than the lines it ends; wrapped lines are not.
_SHORT_LINE = 0.7
# Justified text whose last lines run full width gives no cue where a paragraph ends; a block
# past the passage limit is such a run, and is cut at sentence ends into pieces about this long.
_RUN_ON_PIECE = 1_500
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…]['\"”’)\]]))\s+")
_ROMAN = r"(?=[ivxlc])c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})"
_PAGE_NUMBER = re.compile(
    rf"^(?:(?i:page|p\.)\s*)?[-–—]?\s*(\d{{1,4}}|{_ROMAN})\s*[-–—]?(?:\s*(?i:of|/)\s*\d{{1,4}})?$"
)
_SENTENCE_END = re.compile(r"[.!?…:]['\"”’)\]]*$")
# A numbered heading ("2.1 Water rights") or a contents line ("Findings ..... 12") stands alone.
_NUMBERED = re.compile(r"^\d{1,2}(\.\d{1,2})*\.?\s+[A-Z]")
_LEADER = re.compile(r"(\.\s?){4,}\s*\d{1,4}$")
# A dash opens a list item only as a hyphen: a wrapped line may well start with "— and".
_LIST_ITEM = re.compile(r"^([•▪●◦‣∙·*]|-\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)")
# Producers fill the title with the name of the file the PDF was made from.
_FILE_TITLE = re.compile(r"(?i)^(microsoft \w+ - |untitled$)|\.(docx?|pdf|indd|rtf|odt|pptx?|xlsx?|tex)$")
# Everything pypdf raises on a damaged file: its own errors and the ones of the parsers under it.
_BROKEN_PDF = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError, AssertionError,
               RecursionError, NotImplementedError, OSError, zlib.error)
_BROKEN_DOCX = (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError, AttributeError,
                zlib.error, NotImplementedError, EOFError, OSError)


def read_pdf(data: bytes) -> tuple[str, dict[str, str]]:
    """The text of a PDF, one paragraph per block, with its title, author and creation date."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        _unlock(reader)
        if len(reader.pages) > MAX_PAGES:
            raise BadInput(f"This PDF has {len(reader.pages):,} pages; at most {MAX_PAGES:,} can be added."
                           " Split it into parts and add them one by one.")
        pages = [_lines(page.extract_text()) for page in reader.pages]
        metadata = _pdf_metadata(reader.metadata)
    except BadInput:
        raise
    except _BROKEN_PDF:
        raise BadInput("This file could not be read as a PDF: it is damaged or not a PDF. Open it in a PDF"
                       " reader and save or export it again, or paste its text.") from None
    text = "\n\n".join(piece for block in join_lines(drop_furniture(pages)) for piece in within_limit(block))
    if not text.strip():
        raise BadInput("This PDF has no text layer (it looks scanned): its pages are images of text. Run OCR"
                       " on it first (for example with ocrmypdf), or paste the text.")
    return text, metadata


def _unlock(reader: pypdf.PdfReader) -> None:
    """Open an encrypted PDF that needs no password to read (many only restrict printing), else refuse it."""
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("")
    except DependencyError:
        opened = None
    if not opened:
        raise BadInput("This PDF is password-protected (encrypted), so its text cannot be read. Save a copy"
                       " without the password (Print → Save as PDF), or paste the text.")


def _lines(text: str | None) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").split("\n")]


def drop_furniture(pages: list[list[str]]) -> list[list[str]]:
    """The pages without bare page numbers, and without lines repeated at the top or bottom of most pages."""
    pages = [_trim_blank(lines) for lines in pages]
    with_text = [lines for lines in pages if lines]
    seen = Counter(key for lines in with_text for key in {_key(line) for _, line in _edges(lines)})
    repeated = {key for key, count in seen.items()
                if len(with_text) >= _MIN_PAGES and count >= _REPEATED_SHARE * len(with_text)}
    result = []
    for lines in pages:
        edge = {i for i, line in _edges(lines) if _PAGE_NUMBER.match(line) or _key(line) in repeated}
        result.append(_trim_blank([line for i, line in enumerate(lines) if i not in edge]))
    return result


def _trim_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0]:
        lines = lines[1:]
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def _edges(lines: list[str]) -> list[tuple[int, str]]:
    """The non-blank lines among the first and last few of a page, with their indexes."""
    texts = [(i, line) for i, line in enumerate(lines) if line]
    return texts[:_EDGE_LINES] + texts[_EDGE_LINES:][-_EDGE_LINES:]


def _key(line: str) -> str:
    # A running header differs from page to page only by its numbers ("Report 2024 · page 3").
    return re.sub(r"\d+", "#", line.casefold())


def join_lines(pages: list[list[str]]) -> list[str]:
    """Join a PDF's lines into paragraphs, across page breaks too.

    A blank line ends a paragraph; so does a line clearly shorter than the page's usual line that
    ends a sentence, or that stands alone (a heading). A word hyphenated at a line's end is joined.
    """
    widths = [len(line) for lines in pages for line in lines if line]
    document_width = _usual_width(widths)
    stream = []
    for lines in pages:
        page_widths = [len(line) for line in lines if line]
        width = _usual_width(page_widths) if len(page_widths) > _EDGE_LINES else document_width
        stream += [(line, width) for line in lines]
    # The next non-blank line after each line, found in one pass from the end.
    following, after = [""] * len(stream), ""
    for i in range(len(stream) - 1, -1, -1):
        following[i] = after
        after = stream[i][0] or after
    paragraphs: list[str] = []
    current: list[str] = []  # the paragraph's lines and the spaces between them, joined at its end
    for i, (line, width) in enumerate(stream):
        short = len(line) < _SHORT_LINE * width
        starts = _LIST_ITEM.match(line) or _LEADER.search(line) or (short and _NUMBERED.match(line))
        if current and (not line or starts):
            paragraphs.append("".join(current))
            current = []
        if not line:
            continue
        alone = not current
        _append(current, line)
        heading = alone and not following[i][:1].islower() and not line.endswith((",", "-"))
        if _LEADER.search(line) or (short and (_SENTENCE_END.search(line) or heading)):
            paragraphs.append("".join(current))
            current = []
    return paragraphs + ["".join(current)] if current else paragraphs


def within_limit(block: str) -> list[str]:
    """A block as one paragraph, or, past the passage limit, cut at sentence ends (else at spaces)."""
    if len(block) <= splitting.MAX_PASSAGE:
        return [block]
    pieces, current = [], ""
    for sentence in _SENTENCE_BREAK.split(block):
        while len(sentence) > _RUN_ON_PIECE:
            # A "sentence" this long has no full stops at all: cut it at the last space that fits.
            cut = sentence.rfind(" ", 0, _RUN_ON_PIECE)
            cut = cut if cut > 0 else _RUN_ON_PIECE
            pieces += [p for p in (current, sentence[:cut]) if p]
            current, sentence = "", sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > _RUN_ON_PIECE:
            pieces.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
    return pieces + [current] if current else pieces


def _usual_width(widths: list[int]) -> int:
    """The width of a full line: the upper quartile of the line lengths, so short last lines do not count."""
    return sorted(widths)[len(widths) * 3 // 4] if widths else 0


def _append(parts: list[str], line: str) -> None:
    """Add a line to a paragraph: after a space, or joined to the word the previous line hyphenated."""
    if parts:
        previous = parts[-1]
        if previous.endswith("\u00ad"):
            parts[-1] = previous[:-1]
        elif re.search(r"[^\W\d_]-$", previous):
            # "govern-" + "ment" is one word; "Franco-" + "German" keeps its hyphen.
            if line[:1].islower():
                parts[-1] = previous[:-1]
        else:
            parts.append(" ")
    parts.append(line)


def _pdf_metadata(info) -> dict[str, str]:
    """Title, author and creation date from a PDF's document information, where they are plausible."""
    if info is None:
        return {}
    title, author = (" ".join(str(value or "").split()) for value in (info.title, info.author))
    return {
        "title": "" if _FILE_TITLE.search(title) else title,
        "author": author,
        "date": _pdf_date(str(info.get("/CreationDate") or "")),
    }


def _pdf_date(raw: str) -> str:
    """A PDF date ("D:20240309120000+01'00'") as 2024-03-09, or "" when it is not a real date."""
    found = re.match(r"^(?:D:)?(\d{4})(\d{2})(\d{2})", raw.strip())
    if not found:
        return ""
    try:
        return date(*(int(part) for part in found.groups())).isoformat()
    except ValueError:
        return ""


def read_docx(data: bytes) -> tuple[str, dict[str, str]]:
    """The paragraphs and table rows of a Word (.docx) file, with its title, author and creation date."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED:
                raise BadInput("This Word file unpacks to more than 200 MB; it cannot be added.")
        document = docx.Document(io.BytesIO(data))
        blocks = [_block_text(block) for block in document.iter_inner_content()]
        props = document.core_properties
        metadata = {"title": props.title or "", "author": props.author or "", "date": _docx_date(props.created)}
    except BadInput:
        raise
    except _BROKEN_DOCX:
        raise BadInput("This file could not be read as a Word document: it is damaged, or not a .docx file (an"
                       " old .doc file must first be saved as .docx). Save it again as .docx, or paste its text.")\
            from None
    text = "\n\n".join(block for block in blocks if block)
    return text, {field: " ".join(value.split()) for field, value in metadata.items()}


def _block_text(block) -> str:
    """A paragraph's text on one line, or a table's rows one per line, each row's cells joined by " | "."""
    if isinstance(block, Table):
        rows = []
        for row in block.rows:
            # A merged cell is returned once for every grid column it spans.
            cells = list(dict.fromkeys(" ".join(cell.text.split()) for cell in row.cells))
            rows.append(" | ".join(cell for cell in cells if cell))
        return "\n\n".join(row for row in rows if row)
    return " ".join(block.text.split())


def _docx_date(created: datetime | None) -> str:
    return created.date().isoformat() if created else ""
