"""The one place that opens the SQLite database: connection, pragmas, the schema, and statement deadlines."""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from webapp.store.migrations import migrations

# Writers queue behind each other instead of failing with "database is locked".
BUSY_TIMEOUT_SECONDS = 30
# SQLite calls a progress handler every this many virtual-machine steps: a deadline then stops
# a statement within about a millisecond, and the calls cost too little to measure.
PROGRESS_STEPS = 1000
# The page cache of a bulk import (`bulk_cache`): room for a million passages' hot index pages,
# well inside the memory an import may take.
BULK_CACHE_MIB = 512


class DeadlineExceeded(Exception):
    """A statement ran past its time budget, and SQLite stopped it."""


def connect(path: str | Path) -> Database:
    """Open the database at `path` in WAL mode and bring its schema up to date."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    db = Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    migrations.apply(db)
    return db


@contextmanager
def deadline(conn: sqlite3.Connection, seconds: float | None):
    """Stop any statement run on `conn` inside the block once `seconds` have passed: DeadlineExceeded.

    SQLite checks between virtual-machine steps, so one long function call (FTS5's snippet() over
    a huge text, say) still runs to its end; callers keep such calls bounded. `seconds=None`
    sets no deadline. The handler is removed on leaving, so later statements run unhindered.
    """
    if seconds is None:
        yield
        return
    ends = time.monotonic() + seconds
    expired = False

    def past_deadline() -> bool:
        nonlocal expired
        expired = time.monotonic() > ends
        return expired

    conn.set_progress_handler(past_deadline, PROGRESS_STEPS)
    try:
        yield
    except sqlite3.OperationalError as exc:
        if expired:
            raise DeadlineExceeded(f"stopped after {seconds:g} s") from exc
        raise
    finally:
        conn.set_progress_handler(None, 0)


@contextmanager
def bulk_cache(db, mebibytes: int = BULK_CACHE_MIB):
    """Give this connection a page cache of `mebibytes` for a bulk write inside the block.

    A large import's tables and indexes outgrow SQLite's default 2 MB cache. The transaction's
    changed pages that it evicts go to the WAL, and go there again each time they change: 14 GB
    were written for a 1.6 GB database of a million passages.
    """
    before = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = {-int(mebibytes) * 1024}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {int(before)}")


def counters(db) -> tuple[tuple[str, int], ...]:
    """The counters that every write bumps (migration m080 and later), as (name, value) in name
    order. Each only grows, so of two readings the older compares smaller."""
    return tuple(db.execute("SELECT name, value FROM counters ORDER BY name").fetchall())


def data_version(db) -> str:
    """Everything stored, as one version string (the counters), so two reads with the same version saw the same data."""
    return repr(counters(db))
