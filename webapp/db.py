"""The one place that owns the SQLite database: connections, pragmas and the schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import current_app, g
from sqlite_utils import Database

from .schema import migrations
from .taxonomy import from_db

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


def get_db() -> Database:
    """Return the request's database, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's database if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app) -> None:
    """Register the database teardown with the app."""
    app.teardown_appcontext(close_db)


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
