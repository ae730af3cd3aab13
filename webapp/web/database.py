"""The request's view of the database: one connection per thread, cached reads, the taxonomy,
and this process's related-passages index and suggestion models fitted on it."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, g
from sqlite_utils import Database
from werkzeug.routing import IntegerConverter

from webapp.corpus.taxonomy import from_db
from webapp.similarity import engine, index, suggester
from webapp.store.db import connect

# The largest id SQLite stores; a bigger number in a URL would overflow the query, not miss.
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` URL parts that fit an SQLite INTEGER, so a huge number is a 404 like any unknown id."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def get_db() -> Database:
    """Return this thread's database connection for the app, opening it on first use.

    Connections outlive requests: a fresh one per request would start with an empty page
    cache and re-check the schema, which cost a large topic page most of its time.
    """
    if "db" not in g:
        held = current_app.extensions.setdefault("counterpoint_connections", threading.local())
        path = current_app.config["DATABASE"]
        if getattr(held, "path", None) != path:
            if getattr(held, "db", None) is not None:
                held.db.close()
            held.db, held.path = connect(path), path
        g.db = held.db
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """End the request's use of its connection, leaving no transaction open on it."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def init_app(app) -> None:
    """Register the database teardown, and id-sized `<int:...>` URL parts, with the app."""
    app.url_map.converters["int"] = IdConverter
    app.teardown_appcontext(close_db)


# Results kept per process and data version; a topic's cards at 100k passages take a few MB.
CACHE_ENTRIES = 16


def cached(name: str, args: tuple, compute):
    """`compute()`, remembered by this process until the data it reads next changes.

    Every write to documents, passages, labels, links or topics bumps one counter (see
    store.migrations.m080), so a cached result is never older than the database.
    """
    db = get_db()
    version = db.execute("SELECT value FROM counters WHERE name = 'data'").fetchone()[0]
    store, lock = current_app.extensions.setdefault("counterpoint_cache", (OrderedDict(), threading.Lock()))
    key = (current_app.config["DATABASE"], version, name, args)
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    value = compute()
    with lock:
        store[key] = value
        while len(store) > CACHE_ENTRIES:
            store.popitem(last=False)
    return value


def get_taxonomy():
    """The corpus's topics, re-read from the database only when they changed."""
    if "taxonomy" not in g:
        db = get_db()
        version = db.execute("SELECT value FROM counters WHERE name = 'topics'").fetchone()[0]
        cache = current_app.extensions.setdefault("counterpoint_taxonomy", {})
        key = current_app.config["DATABASE"]
        if key not in cache or cache[key][0] != version:
            cache[key] = (version, from_db(db))
        g.taxonomy = cache[key][1]
    return g.taxonomy


def similarity_enabled() -> bool:
    """Whether related passages are switched on in this installation (SIMILARITY)."""
    return bool(current_app.config.get("SIMILARITY", True))


def related_index(db) -> engine.RelatedIndex | None:
    """This process's related-passages index of the app's database, brought up to date."""
    caches = current_app.extensions.setdefault("counterpoint_similarity", {})
    return index.current_index(db, caches, current_app.config["DATABASE"])


def suggestion_model(db, topics: tuple[str, ...]) -> suggester.Suggester | None:
    """This process's label-suggestion models for the app's database; None until enough labels."""
    cache = current_app.extensions.setdefault("counterpoint_suggester", {})
    return suggester.current_suggester(db, topics, cache, current_app.config["DATABASE"])
