"""How documents read on screen: dates as people write them, and a title for untitled documents."""

from __future__ import annotations

import re
from datetime import date, datetime

# Spelled out here rather than by strftime, whose month names follow the server's locale.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
UNTITLED = "Untitled document"


def natural_date(value: str | None) -> str:
    """An ISO 8601 date or timestamp as people write it: "9 Mar 2024", "23 Nov 2026, 09:00".

    A year or a year and month alone ("2024", "2024-03") and anything that is not a date are
    shown as given: rounding them out to a day would claim a precision the source lacks.
    """
    value = (value or "").strip()
    try:
        if _DAY.fullmatch(value):
            day = date.fromisoformat(value)
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if _MOMENT.fullmatch(value):
            # Shown in the zone it was written in: UTC for everything the app records itself.
            moment = datetime.fromisoformat(value)
            return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"
    except ValueError:
        pass
    return value


def display_title(title: str | None, kind: str | None = "", outlet: str | None = "", date: str | None = "") -> str:
    """The title to show for a document: its own, else its kind, outlet and date ("News report, 9 Mar 2024").

    Never the file name: a name like `003_bbfe681b051be986.txt` tells a reader nothing.
    """
    if title and title.strip():
        return title.strip()
    kind = (kind or "").strip()
    parts = [kind[:1].upper() + kind[1:] if kind else UNTITLED, (outlet or "").strip(), natural_date(date)]
    return ", ".join(p for p in parts if p)


# Per process: database file -> (documents counter, {document id: (display title, outlet)}).
_TITLES: dict[str, tuple[int, dict[str, tuple[str, str]]]] = {}


def document_titles(db) -> dict[str, tuple[str, str]]:
    """Every document's display title and outlet, by id; read again only after documents change.

    A topic of a million passages draws on thousands of documents, and reading and titling them
    on every page after a label save took longer than the rest of the counts (store.migrations
    m130 gives documents a counter of their own).
    """
    path = db.execute("PRAGMA database_list").fetchone()[2]
    version = db.execute("SELECT value FROM counters WHERE name = 'documents'").fetchone()[0]
    held = _TITLES.get(path) if path else None
    if held is None or held[0] != version:
        titles = {
            document: (display_title(title, kind, outlet, when), outlet or "")
            for document, title, kind, outlet, when in db.execute("SELECT id, title, kind, outlet, date FROM documents")
        }
        held = (version, titles)
        if path:
            _TITLES[path] = held
    return held[1]
