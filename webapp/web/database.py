"""The request's view of the database: one connection per thread, cached reads, the taxonomy,
and this process's related-passages index and suggestion models fitted on it."""

from __future__ import annotations

import itertools
import sys
import threading
from collections import OrderedDict
from functools import partial
from typing import TYPE_CHECKING

from flask import current_app, g
from sqlite_utils import Database
from werkzeug.routing import IntegerConverter

from webapp.corpus.taxonomy import from_db
from webapp.similarity import index, suggester
from webapp.store import checkpoints
from webapp.store.db import connect

if TYPE_CHECKING:
    from webapp.similarity import engine

# Cached page results per worker process; a topic's cards at 100k passages take a few MB.
DEFAULT_PAGE_CACHE_BYTES = 32 * 1024 * 1024
# Above this many content passages a worker builds its related index in the background and the
# panel says so meanwhile. At 5,000 the first panel built in the request took 1.1 s on a busy 2-core
# machine (benchmarks/bench_related_startup.py): below that, waiting once beats a second round trip.
DEFAULT_BACKGROUND_PASSAGES = 5_000
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
            if str(path) != ":memory:":
                checkpoints.hand_over(held.db.conn, path)
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


# Long containers are sized from this many of their items, so sizing a topic's thousands of
# cards costs about as much as sizing a few dozen.
SIZE_SAMPLE = 32
_ATOMS = (str, bytes, int, float, complex, bool, type(None))


def approximate_size(value) -> int:
    """Bytes of memory `value` holds, estimated with `sys.getsizeof` over what it contains.

    Containers longer than SIZE_SAMPLE are sized from an even sample of their items, so the
    cost stays flat: 1 ms for 17,000 topic cards. A pickle's length would take a full pass (90 ms
    for those cards) and say little about memory, which the cap is on: it stores a repeated
    string once and a small int in a byte or two. Those cards took 9.4 MB (tracemalloc), pickled
    to 4.4 MB and are estimated at 11.5 MB.
    """
    seen: set[int] = set()

    def size(obj) -> float:
        if id(obj) in seen:
            return 0
        seen.add(id(obj))
        total = sys.getsizeof(obj)
        if isinstance(obj, _ATOMS):
            return total
        if isinstance(obj, dict):
            items = [part for pair in itertools.islice(obj.items(), SIZE_SAMPLE) for part in pair]
            return total + _scaled(sum(map(size, items)), len(obj), len(items) // 2)
        if isinstance(obj, (list, tuple)):
            step = max(len(obj) // SIZE_SAMPLE, 1)
            items = obj[::step]
            return total + _scaled(sum(map(size, items)), len(obj), len(items))
        if isinstance(obj, (set, frozenset)):
            items = list(itertools.islice(obj, SIZE_SAMPLE))
            return total + _scaled(sum(map(size, items)), len(obj), len(items))
        if hasattr(obj, "__dict__"):
            total += size(vars(obj))
        slots = (name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ()))
        return total + sum(size(getattr(obj, name)) for name in slots if hasattr(obj, name))

    return int(size(value))


def _scaled(sampled: float, length: int, sample: int) -> float:
    return sampled * length / sample if sample else 0


class PageCache:
    """Results by key, least recently used first, with the estimated bytes they hold."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: OrderedDict = OrderedDict()  # key -> (value, bytes)
        self.bytes = 0

    def get(self, key):
        """(True, the value) when `key` is kept, which makes it the most recently used; else (False, None)."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return True, self.entries[key][0]
        return False, None

    def put(self, key, value, size: int, cap: int) -> None:
        """Keep `value` unless it alone exceeds `cap`, then drop the least recently used past `cap`."""
        database, version = key[:2]
        with self.lock:
            # A result of an older data version can never be read again: it only takes room.
            for old in [k for k in self.entries if k[0] == database and k[1] < version or k == key]:
                self.bytes -= self.entries.pop(old)[1]
            if size > cap:
                return
            self.entries[key] = (value, size)
            self.bytes += size
            while self.bytes > cap:
                self.bytes -= self.entries.popitem(last=False)[1][1]


def cached(name: str, args: tuple, compute):
    """`compute()`, remembered by this process until the data it reads next changes.

    Every write to documents, passages, labels, links or topics bumps one counter (see
    store.migrations.m080), so a cached result is never older than the database. The results
    kept take at most PAGE_CACHE_BYTES (estimated by `approximate_size`), least recently used
    going first; a result larger than that on its own is not kept.
    """
    db = get_db()
    version = db.execute("SELECT value FROM counters WHERE name = 'data'").fetchone()[0]
    cache = current_app.extensions.setdefault("counterpoint_cache", PageCache())
    key = (current_app.config["DATABASE"], version, name, args)
    found, value = cache.get(key)
    if found:
        return value
    value = compute()
    cap = int(current_app.config.get("PAGE_CACHE_BYTES", DEFAULT_PAGE_CACHE_BYTES))
    cache.put(key, value, approximate_size(value), cap)
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
    """This process's related-passages index of the app's database, brought up to date.

    Raises index.Preparing while a large corpus's first index is built in the background
    (SIMILARITY_BACKGROUND_PASSAGES).
    """
    caches = current_app.extensions.setdefault("counterpoint_similarity", {})
    path = current_app.config["DATABASE"]
    above = int(current_app.config.get("SIMILARITY_BACKGROUND_PASSAGES", DEFAULT_BACKGROUND_PASSAGES))
    return index.current_index(db, caches, path, partial(connect, path), above)


def suggestion_model(db, topics: tuple[str, ...]) -> suggester.Suggester | None:
    """This process's label-suggestion models for the app's database; None until enough labels."""
    cache = current_app.extensions.setdefault("counterpoint_suggester", {})
    return suggester.current_suggester(db, topics, cache, current_app.config["DATABASE"])
