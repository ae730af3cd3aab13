"""The consensus table: each passage's current stance on each topic, kept in step on write.

Pages read `consensus` (one row per content passage and topic) and its aggregates
`consensus_counts` (passages per topic, stance and document) and `consensus_documents`
(content and labelled passages per document) instead of taking votes over every label.

Triggers (migration m110) note every (document, position) whose labels or passage change, and
every passage of a document whose metadata changes, in `consensus_pending`; `refresh`, called
before each write transaction commits (`editor.write`, `mirror.store`, `mirror.reanchor`),
recomputes just those passages with the rule in `current.py`. Writers in the corpus layer
(which cannot import this package) leave their marks for the next refresh or `catch_up`.
"""

from __future__ import annotations

import json
import sqlite3

from webapp.labels import current

PENDING = "SELECT document, position FROM consensus_pending"


def refresh(db) -> int:
    """Within a write transaction, recompute the rows of every pending passage; returns how many
    (document, position) places were pending."""
    pending = db.execute("SELECT count(*) FROM consensus_pending").fetchone()[0]
    if not pending:
        return 0
    documents = [d for (d,) in db.execute("SELECT DISTINCT document FROM consensus_pending")]
    db.execute(f"DELETE FROM consensus WHERE (document, position) IN ({PENDING})")
    # CROSS JOIN: from the few pending places to their passages, never a walk over every passage.
    ids = [pid for (pid,) in db.execute(
        """SELECT p.id FROM consensus_pending c CROSS JOIN passages p
        ON p.document = c.document AND p.position = c.position"""
    )]
    found = current.topic_consensus(db, "AND p.id IN (SELECT value FROM json_each(?))", [json.dumps(ids)])
    _insert(db, found)
    _recount(db, documents)
    db.execute("DELETE FROM consensus_pending")
    return pending


def catch_up(db) -> None:
    """Refresh when writes outside the label layer left marks, in a transaction of its own
    unless one is open. A reader that finds the write lock taken reads on and leaves the marks
    for the next reader or writer."""
    if not db.execute("SELECT 1 FROM consensus_pending LIMIT 1").fetchone():
        return
    if db.conn.in_transaction:
        refresh(db)
        return
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return
    try:
        refresh(db)
        db.execute("COMMIT")
    except BaseException:
        db.conn.rollback()
        raise


def rebuild(db) -> None:
    """Recompute the whole table, as after loading a database made before it existed."""
    with db.atomic():
        for table in ("passages", "consensus"):
            db.execute(f"INSERT OR IGNORE INTO consensus_pending SELECT document, position FROM {table}")
        refresh(db)


def fresh(db) -> dict[tuple[int, str], tuple[str, bool, str]]:
    """The consensus of every content passage computed from the labels, for checking the table."""
    return current.topic_consensus(db)


def stored(db) -> dict[tuple[int, str], tuple[str, bool, str]]:
    """The consensus as the table holds it, in the shape `fresh` returns."""
    return {
        (pid, topic): (stance, bool(contested), holder)
        for pid, topic, stance, contested, holder in db.execute(
            "SELECT passage, topic, stance, contested, holder FROM consensus"
        )
    }


def _insert(db, found: dict[tuple[int, str], tuple[str, bool, str]]) -> None:
    if not found:
        return
    ids = sorted({pid for pid, _ in found})
    places = {
        pid: (document, position, date or "")
        for pid, document, position, date in db.execute(
            """SELECT p.id, p.document, p.position, d.date FROM passages p
            JOIN documents d ON d.id = p.document WHERE p.id IN (SELECT value FROM json_each(?))""",
            [json.dumps(ids)],
        )
    }
    rows = (
        (*places[pid], topic, pid, stance, int(contested), holder)
        for (pid, topic), (stance, contested, holder) in found.items()
    )
    db.conn.executemany(
        """INSERT INTO consensus (document, position, date, topic, passage, stance, contested, holder)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        rows,
    )


def _recount(db, documents: list[str]) -> None:
    chosen = json.dumps(documents)
    db.execute("DELETE FROM consensus_counts WHERE document IN (SELECT value FROM json_each(?))", [chosen])
    db.execute(
        """INSERT INTO consensus_counts (topic, stance, document, n)
        SELECT c.topic, c.stance, c.document, count(*) FROM json_each(?) j
        CROSS JOIN consensus c ON c.document = j.value GROUP BY c.topic, c.stance, c.document""",
        [chosen],
    )
    db.execute("DELETE FROM consensus_documents WHERE document IN (SELECT value FROM json_each(?))", [chosen])
    # CROSS JOIN: from the chosen documents to their passages. Left to choose, SQLite without fresh
    # statistics (in the middle of a large import) walked every content passage for each chunk.
    db.execute(
        f"""INSERT INTO consensus_documents (document, content, labelled)
        SELECT p.document, count(*), sum({current.LABELLED}) FROM json_each(?) j
        CROSS JOIN passages p ON p.document = j.value WHERE p.kind = 'content' GROUP BY p.document""",
        [chosen],
    )
