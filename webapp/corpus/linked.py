"""A document by link, however it is asked for (the add screen, a feed's entries, the command line):
a link already in the corpus costs no request; otherwise the page is fetched, a feed is told
apart, and the text read is checked against the corpus once more, under its final address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from webapp.corpus import fetching


@dataclass(frozen=True)
class Linked:
    """Where a link leads: a document already in the corpus (`known`), a feed, or a new text."""

    known: str | None = None
    feed: fetching.Fetched | None = None
    fetched: fetching.Fetched | None = None
    text: str = ""
    found: dict[str, str] = field(default_factory=dict)


def open_link(db, url: str, **fetch_options) -> Linked:
    """Follow `url` with `fetching.fetch(**fetch_options)`; raises FetchError (a BadInput) when the
    fetch fails and BadInput when what came back cannot be read as a document."""
    if (known := fetching.already_in_corpus(db, url=url)) is not None:
        return Linked(known=known)
    fetched = fetching.fetch(url, **fetch_options)
    if fetching.is_feed(fetched):
        return Linked(feed=fetched)
    text, found = fetching.read_document(fetched)
    return Linked(fetching.already_in_corpus(db, url=fetched.url, text=text), None, fetched, text, found)


def fetch_options(config: Mapping, allow_private: bool) -> dict:
    """The `fetching.fetch` options the settings give (FETCH_TIMEOUT_SECONDS, FETCH_MAX_BYTES)."""
    return {"allow_private": allow_private, "timeout": float(config["FETCH_TIMEOUT_SECONDS"]),
            "max_bytes": int(config["FETCH_MAX_BYTES"])}
