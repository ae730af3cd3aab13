"""PDF and Word files built in the tests: small, valid, and holding only the text a test gives."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import docx
from pypdf import PdfReader, PdfWriter

# The lines sit 14 points apart from the top of an A4 page, in 11-point Helvetica.
_LEADING = 14
_TOP = 800


def _pdf_string(line: str) -> bytes:
    """A PDF literal string: Helvetica's standard encoding covers Latin-1."""
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _content(lines: list[str]) -> bytes:
    if not lines:
        return b""
    shown = b" T*\n".join(_pdf_string(line) + b" Tj" for line in lines)
    return b"BT /F1 11 Tf %d TL 56 %d Td\n" % (_LEADING, _TOP) + shown + b"\nET"


def make_pdf(
    pages: list[list[str]],
    title: str | None = None,
    author: str | None = None,
    created: str | None = None,
    encrypt_password: str | None = None,
) -> bytes:
    """A PDF with one page per list of lines, each line where a text editor's wrapped line would be.

    A page with no lines has no text at all, as a scanned page has none. `created` is a PDF date
    ("D:20240309"); `encrypt_password` locks the file with that password.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        None,  # the page tree, written once the pages have numbers
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for lines in pages:
        content = _content(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % len(objects)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    info = {"/Title": title, "/Author": author, "/CreationDate": created}
    objects.append(b"<< " + b" ".join(key.encode() + b" " + _pdf_string(value) for key, value in info.items() if value)
                   + b" >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, len(objects), xref))
    data = out.getvalue()
    if encrypt_password is None:
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=encrypt_password, owner_password=encrypt_password, algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    return locked.getvalue()


def make_docx(
    paragraphs: list[str],
    title: str = "",
    author: str = "",
    headings: tuple[int, ...] = (),
    table: list[list[str]] | None = None,
    created: datetime | None = None,
) -> bytes:
    """A Word file with these paragraphs (those at `headings` as Heading 1), an optional table after them,
    and the title, author and creation time in its properties."""
    document = docx.Document()
    for number, text in enumerate(paragraphs):
        if number in headings:
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, cells in zip(grid.rows, table):
            for cell, text in zip(row.cells, cells):
                cell.text = text
    document.core_properties.title = title
    document.core_properties.author = author
    # python-docx's template says it was made in 2013; a test file made now should not.
    document.core_properties.created = created or datetime.now(timezone.utc)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
