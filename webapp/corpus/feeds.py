"""RSS and Atom feeds: their entries listed, the ones already in the corpus marked, the chosen ones imported.

feedparser reads RSS 0.9x to 2.0, RSS 1.0 (RDF) and Atom, forgives the small errors real feeds
have, and turns every date format they use into one. It is given the bytes `fetching.fetch`
read, in a file object: given a string, it would fetch a URL or open a local file itself, past
the address checks. Its XML parser does not load external entities.
"""

from __future__ import annotations

import html
import io
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax import SAXParseException

import feedparser

from webapp.corpus import fetching, linked, sources, textfiles
from webapp.corpus.textfiles import BadInput

# A feed page lists at most this many entries, newest first as the feed gives them.
MAX_ENTRIES = 200
# Each entry is fetched in turn within one request, so a batch stays short.
MAX_IMPORT = 20
_SUMMARY_CHARACTERS = 300


@dataclass(frozen=True)
class Entry:
    """One item of a feed: its title, link, date (YYYY-MM-DD or ""), author, a plain-text summary,
    and the name of the document that already holds it, if any."""

    title: str
    url: str
    date: str = ""
    author: str = ""
    summary: str = ""
    known: str | None = None


@dataclass(frozen=True)
class Feed:
    """A feed's title and its entries."""

    title: str
    entries: list[Entry]


@dataclass(frozen=True)
class Outcome:
    """What importing one entry did: saved as a document, found already in the corpus, or failed (why)."""

    entry: Entry
    saved: textfiles.Saved | None = None
    known: str | None = None
    error: str | None = None


def parse_feed(data: bytes, base_url: str) -> Feed:
    """The title and entries of an RSS or Atom feed; relative links are read against `base_url`."""
    parsed = feedparser.parse(io.BytesIO(data), response_headers={"content-location": base_url})
    error = parsed.get("bozo_exception")
    broken = isinstance(error, SAXParseException)
    # feedparser reads what it can of broken XML; a broken feed that yields no link is of no use.
    if not (parsed.get("version") or parsed.entries) or (broken and not any(e.get("link") for e in parsed.entries)):
        why = (f"its XML is malformed: {error.getMessage()} at line {error.getLineNumber()}"
               if broken else "it holds no RSS or Atom elements")
        shown = base_url if len(base_url) <= 120 else base_url[:117] + "…"
        raise BadInput(f"{shown} is not an RSS or Atom feed that can be read ({why}). Check the link, or add"
                       " its articles one by one.")
    entries = [_entry(item) for item in parsed.entries[:MAX_ENTRIES]]
    return Feed(_plain(parsed.feed.get("title", "")), entries)


def _entry(item) -> Entry:
    url = item.get("link", "").strip()
    if not re.match(r"^https?://[^\s/]+", url):
        url = ""  # an entry without a web link cannot be fetched
    when = item.get("published_parsed") or item.get("updated_parsed")
    summary = _plain(item.get("summary", ""))
    if len(summary) > _SUMMARY_CHARACTERS:
        summary = summary[: _SUMMARY_CHARACTERS - 1].rsplit(" ", 1)[0] + "…"
    return Entry(
        title=_plain(item.get("title", "")) or url,
        url=url,
        date=time.strftime("%Y-%m-%d", when) if when else "",
        author=_author(_plain(item.get("author", ""))),
        summary=summary,
    )


def _author(value: str) -> str:
    """A name without the e-mail address RSS puts with it: "desk@x.org (Ana Ruiz)" or "Ana Ruiz <desk@x.org>"."""
    if found := re.fullmatch(r"\S+@\S+\s*\((.+)\)", value):
        return found.group(1).strip()
    return " ".join(re.sub(r"<?[\w.+-]+@[\w-]+(\.[\w-]+)+>?", " ", value).split())


def _plain(value: str) -> str:
    """Text without its HTML tags and entities, on one line."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", value or "")).split())


def mark_known(db, feed: Feed) -> Feed:
    """The feed with each entry whose link is already a document's marked with that document's name."""
    return replace(feed, entries=[replace(e, known=fetching.already_in_corpus(db, url=e.url) if e.url else None)
                                  for e in feed.entries])


def import_entries(db, seeds_dir: Path, entries: list[Entry], feed_title: str, *, before_commit=None,
                   **fetch_options) -> list[Outcome]:
    """Fetch each entry's page and save it as a document; one entry failing does not stop the others.

    The page's own title, author and date win; the entry's fill what the page lacks, and the feed's
    title stands for the outlet when the page names none. `fetch_options` go to `fetching.fetch`;
    `before_commit` to `textfiles.save_text`.
    """
    if len(entries) > MAX_IMPORT:
        raise BadInput(f"{len(entries)} entries were chosen; import at most {MAX_IMPORT} at a time.")
    outcomes = []
    for entry in entries:
        try:
            outcomes.append(_import_entry(db, seeds_dir, entry, feed_title, fetch_options, before_commit))
        except (BadInput, sources.CorpusError) as exc:
            outcomes.append(Outcome(entry, error=str(exc)))
    return outcomes


def _import_entry(db, seeds_dir: Path, entry: Entry, feed_title: str, fetch_options: dict, before_commit) -> Outcome:
    if not entry.url:
        raise BadInput("This entry has no web link to fetch.")
    # Feeds are not accepted, so what comes back is a known document or a new text.
    opened = linked.open_link(db, entry.url, accept=fetching.DOCUMENT_TYPES, **fetch_options)
    if opened.known:
        return Outcome(entry, known=opened.known)
    given = {"title": entry.title, "author": entry.author, "date": entry.date, "outlet": feed_title}
    metadata = textfiles.check_metadata({**given, **{f: v for f, v in opened.found.items() if v}})
    name = fetching.document_name_for(opened.fetched, metadata["title"])
    saved = textfiles.save_text(db, seeds_dir, name, opened.text, metadata, uniquify=True, before_commit=before_commit)
    return Outcome(entry, saved=saved)


def import_new(db, seeds_dir: Path, fetched: fetching.Fetched, *, before_commit=None, **fetch_options) -> list[Outcome]:
    """Import the entries of a fetched feed that are not in the corpus yet, as `counterpoint documents import
    FEED_URL` does: at most MAX_IMPORT, the first the feed lists (the newest); a later run takes the rest."""
    feed = mark_known(db, parse_feed(fetched.data, fetched.url))
    new = [e for e in feed.entries if e.url and not e.known][:MAX_IMPORT]
    return import_entries(db, seeds_dir, new, feed.title, before_commit=before_commit, **fetch_options)


def summary(outcomes: list[Outcome]) -> str:
    """What an import did in one sentence, e.g. "2 imported, 1 failed: <title>: <why>."."""
    saved = [o for o in outcomes if o.saved]
    known = [o for o in outcomes if o.known]
    failed = [o for o in outcomes if o.error]
    parts = [f"{len(saved)} imported"]
    if known:
        parts.append(f"{len(known)} already in the corpus")
    if failed:
        reasons = "; ".join(f"{o.entry.title}: {o.error}" for o in failed)
        parts.append(f"{len(failed)} failed: {reasons}")
    return ", ".join(parts) + ("" if parts[-1].endswith(".") else ".")
