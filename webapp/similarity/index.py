"""Related-passage suggestions for the app: a per-process index kept in step with the database.

The TF-IDF index (engine.py) is a cache rebuilt from the database, never stored; the caller
keeps it between requests. Every write to `passages` is logged in `passage_changes` by
triggers, so each worker process catches up with imports made by any other process by
re-indexing just the changed passages.

scikit-learn and scipy load with the first index built (engine.py imports them), not with the
app, so a worker starts without them and only the pages that show related passages pay for them.

A large corpus's index takes a while to build (13 s of CPU at 100k passages, more on a busy
machine), so when the caller says how to open a connection of its own, that build runs in a
background thread: until it is done `current_index` raises `Preparing` (a due rebuild keeps the
old index answering instead).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from webapp.corpus.display import display_title
from webapp.labels import current, links
from webapp.similarity import memory
from webapp.similarity.counterpoints import opposing, sides

if TYPE_CHECKING:
    from webapp.similarity import engine

MODES = ("all", "same_topic", "counterpoints")
# Incremental updates keep the vocabulary of the last full build; past this share of changed
# passages a full rebuild gives better suggestions.
REBUILD_AFTER = 0.2
# Content passages indexed per second of build, for "about how long": a background build of 100k
# passages took 29 s on a busy 2-core machine while the panel was polled, 20 s inside a request
# (benchmarks/bench_related_startup.py); 13 s of CPU without the contention.
BUILD_RATE = 4_000
_lock = threading.Lock()
_log = logging.getLogger(__name__)


class Preparing(Exception):
    """The index is being built in the background: there is nothing to answer with yet."""

    def __init__(self, passages: int, started: float):
        super().__init__(f"building the related-passages index of {passages:,} passages")
        self.passages = passages
        self.seconds = max(round(passages / BUILD_RATE), 1)  # about how long the whole build takes
        self.remaining = max(round(started + passages / BUILD_RATE - time.monotonic()), 1)


@dataclass
class _Build:
    passages: int
    thread: threading.Thread
    started: float = field(default_factory=time.monotonic)


@dataclass
class _Cached:
    index: engine.RelatedIndex | None
    seq: int
    building: _Build | None = None  # a full build running in the background


def current_index(db, caches: dict, key: str, open_db: Callable | None = None,
                  background_above: int = 0) -> engine.RelatedIndex | None:
    """The index of `db`, kept in `caches` under `key` and brought up to date; None for an empty corpus.

    Given `open_db` (which opens a connection of its own to the same database), a full build of
    more than `background_above` content passages runs in a background thread, one per key at a
    time, and the call returns at once: raising Preparing if there is no index yet, else with the
    previous index caught up. A failed build is logged, and the next call starts another.
    """
    with _lock:
        latest = _latest(db)
        cached = caches.get(key)
        due = cached is None or cached.index is None or cached.index.stale_fraction > REBUILD_AFTER
        if due and (cached is None or cached.building is None):
            passages = _count(db) if open_db is not None else 0
            if passages <= background_above:
                cached = caches[key] = _Cached(_build(db), latest)
            else:
                cached = _start(caches, key, cached, open_db, passages)
        if cached.building is not None and cached.index is None:
            raise Preparing(cached.building.passages, cached.building.started)
        if cached.seq < latest:
            _catch_up(db, cached.index, cached.seq)
            cached.seq = latest
        return cached.index


def wait_for_build(caches: dict, key: str, timeout: float | None = None) -> bool:
    """Wait for the background build of `key`, if one runs; False if it is still running after `timeout` s."""
    with _lock:
        cached = caches.get(key)
        build = cached.building if cached is not None else None
    if build is not None:
        build.thread.join(timeout)
        return not build.thread.is_alive()
    return True


def _start(caches: dict, key: str, cached: _Cached | None, open_db: Callable, passages: int) -> _Cached:
    # The marker is set before the thread starts, under the lock, so no other request starts a second build.
    if cached is None:
        cached = caches[key] = _Cached(None, 0)
    thread = threading.Thread(target=_build_apart, args=(caches, key, cached, open_db), daemon=True,
                              name=f"related-index {key}")
    cached.building = _Build(passages, thread)
    thread.start()
    return cached


def _build_apart(caches: dict, key: str, cached: _Cached, open_db: Callable) -> None:
    """Build the index on a connection of this thread's own, without the lock, then swap it in."""
    try:
        db = open_db()
        try:
            # Read before the passages, so changes made during the build are caught up afterwards.
            seq = _latest(db)
            built = _build(db)
        finally:
            db.close()
    except Exception:
        _log.exception("Building the related-passages index of %s failed; the next request tries again.", key)
        with _lock:
            cached.building = None
            if cached.index is None and caches.get(key) is cached:
                del caches[key]
        return
    with _lock:
        caches[key] = _Cached(built, seq)


def _latest(db) -> int:
    return db.execute("SELECT coalesce(max(seq), 0) FROM passage_changes").fetchone()[0]


def _count(db) -> int:
    return db.execute("SELECT count(*) FROM passages WHERE kind = 'content'").fetchone()[0]


def _content(db, where: str = "", params: list | None = None) -> list[tuple[int, str, str]]:
    return list(db.execute(f"SELECT id, document, text FROM passages WHERE kind = 'content' {where}", params or []))


def _build(db) -> engine.RelatedIndex | None:
    from webapp.similarity import engine

    passages = _content(db)
    built = engine.build_index(passages) if passages else None
    del passages  # the texts too are garbage by now, so their pages are trimmed with the rest
    memory.give_back()
    return built


def _catch_up(db, index: engine.RelatedIndex, since: int) -> None:
    changed = [pid for (pid,) in db.execute("SELECT DISTINCT passage_id FROM passage_changes WHERE seq > ?", [since])]
    fresh = _content(db, f"AND id IN ({', '.join('?' for _ in changed)})", changed) if changed else []
    index.remove(set(changed) - {pid for pid, _, _ in fresh})
    index.add(fresh)


def suggestions(db, index: engine.RelatedIndex | None, passage_id: int, mode: str = "all",
                k: int = 10) -> list[dict]:
    """The passages in `index` most related to one passage, from other documents, for a panel or the API.

    `same_topic` keeps passages labelled with a topic the passage has; `counterpoints` lists
    the passage's counterpoints (see `counterpoints`). Pairs someone dismissed are left out.
    """
    if mode == "counterpoints":
        return counterpoints(db, index, passage_id, k).found
    if index is None or passage_id not in index:
        return []
    wanted = _same_topic(db, passage_id) if mode == "same_topic" else None
    allowed = None if wanted is None else current.passages_with_stances(db, wanted)
    if allowed is not None and not allowed:
        return []
    from webapp.similarity import engine

    dismissed = links.dismissed_ids(db, passage_id)
    # Candidates are found from any annotator's label; the consensus stance decides.
    matches = [
        m for m in engine.related(index, passage_id, k=2 * k + len(dismissed), allowed=allowed)
        if m.id not in dismissed
    ]
    found = describe(db, matches)
    if wanted is not None:
        found = [f for f in found if any((l["topic"], l["stance"]) in wanted for l in f["labels"])]
    return found[:k]


def _same_topic(db, passage_id: int) -> set[tuple[str, str]]:
    stances = current.passage_stances(db, [passage_id]).get(passage_id, {})
    return {(topic, other) for topic in stances for other in ("favour", "neutral", "against")}


@dataclass(frozen=True)
class Counterpoints:
    """A page of a passage's counterpoints in other documents, and what the rest of them are."""

    found: list[dict]  # the page, most similar first, as `describe` gives them
    total: int  # counterpoints in other documents, less the dismissed ones
    dismissed: int
    same_document: int  # in the passage's own document: not listed, the panel shows other sources
    takes_sides: bool  # False when the passage is neutral or unlabelled, which nothing counters


def counterpoints(db, index: engine.RelatedIndex | None, passage_id: int, k: int = 10,
                  offset: int = 0) -> Counterpoints:
    """The passage's counterpoints (counterpoints.py) in other documents, most similar first.

    Every one is ranked, those sharing no word with the passage last; `k` and `offset` choose
    the page. If the passage is not in the index (yet) they come in id order.
    """
    wanted = sides(db, passage_id)
    candidates = opposing(db, wanted) if wanted else {}
    row = db.execute("SELECT document FROM passages WHERE id = ?", [passage_id]).fetchone()
    same = {pid for pid, document in candidates.items() if row and document == row[0]}
    dismissed = links.dismissed_ids(db, passage_id) & (candidates.keys() - same)
    chosen = candidates.keys() - same - dismissed
    from webapp.similarity import engine

    if index is not None and passage_id in index:
        matches = engine.rank(index, passage_id, chosen, k, offset)
    else:
        matches = [engine.Match(pid, 0.0, ()) for pid in sorted(chosen)[offset : offset + k]]
    return Counterpoints(describe(db, matches), len(chosen), len(dismissed), len(same), bool(wanted))


def describe(db, matches: list[engine.Match]) -> list[dict]:
    """Matches with their text, source and current labels, in score order."""
    if not matches:
        return []
    ids = [m.id for m in matches]
    rows = {
        row["id"]: row
        for row in db.query(
            f"""SELECT p.id, p.document, p.position, p.text, d.title, d.kind, d.outlet, d.date FROM passages p
            JOIN documents d ON d.id = p.document WHERE p.id IN ({', '.join('?' for _ in ids)})""",
            ids,
        )
    }
    for row in rows.values():
        row["title"] = display_title(row["title"], row.pop("kind"), row["outlet"], row["date"])
    stances = current.passage_stances(db, ids)
    return [
        {
            **rows[m.id],
            "score": round(m.score, 4),
            "terms": list(m.terms),
            "labels": [{"topic": t, "stance": s} for t, s in sorted(stances.get(m.id, {}).items())],
        }
        for m in matches
        if m.id in rows
    ]
