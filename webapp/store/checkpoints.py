"""WAL checkpoints moved off the request path: one thread per process copies the log into the database.

SQLite checkpoints in whichever commit takes the write-ahead log past 1,000 pages, so one label
save in about fifty paid for copying the pages of all of them: at 100k passages a save took 45 ms
instead of 17 then, and those saves made the 95th percentile. A serving process's connections
leave that to a thread of its own (`hand_over`), which checkpoints every database its process
registered each CHECKPOINT_SECONDS. The sqlite3 module releases the GIL while SQLite works, so
the requests of the same process carry on meanwhile.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

# Short enough that the log stays small between checkpoints, long enough that an idle process
# does next to nothing.
CHECKPOINT_SECONDS = 1.0
_log = logging.getLogger(__name__)
_lock = threading.Lock()
# In this process: the databases to checkpoint, and the pid that started the thread (a forked
# worker starts its own, as threads do not survive a fork).
_paths: set[str] = set()
_started_in: int | None = None


def hand_over(conn: sqlite3.Connection, path: str) -> None:
    """Stop `conn` checkpointing in its commits, and have this process's thread checkpoint `path` instead."""
    global _started_in
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    with _lock:
        if _started_in != os.getpid():
            _paths.clear()
            _started_in = os.getpid()
            threading.Thread(target=_run, name="wal-checkpoints", daemon=True).start()
        _paths.add(str(path))


def _run() -> None:
    # Per database, the log's (size, modification time) after its last checkpoint: a log that has
    # not changed since needs nothing, so a process that registered many databases (a test run)
    # only stats them.
    done: dict[str, tuple[int, int]] = {}
    while True:
        time.sleep(CHECKPOINT_SECONDS)
        with _lock:
            paths = sorted(_paths)
        for path in paths:
            try:
                _checkpoint(path, done)
            except (OSError, sqlite3.Error) as exc:
                # The next round tries again; the log only grows meanwhile.
                _log.warning("Checkpointing %s failed: %s", path, exc)


def _checkpoint(path: str, done: dict[str, tuple[int, int]]) -> None:
    if not os.path.exists(path):
        # A database removed from under its server (a test's, say) is forgotten, never recreated.
        with _lock:
            _paths.discard(path)
        done.pop(path, None)
        return
    log = _state(path)
    if log is None or done.get(path) == log:
        return
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=rw", uri=True, timeout=1)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    done[path] = _state(path)


def _state(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(f"{path}-wal")
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns
