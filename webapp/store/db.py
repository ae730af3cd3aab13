"""The one place that opens the SQLite database: connection, pragmas and the schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from webapp.store.migrations import migrations

# Writers queue behind each other instead of failing with "database is locked".
BUSY_TIMEOUT_SECONDS = 30


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
