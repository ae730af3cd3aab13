"""Related-passage suggestions for the app: a per-process index kept in step with the database.

The TF-IDF index (engine.py) is a cache rebuilt from the database, never stored; the caller
keeps it between requests. Every write to `passages` is logged in `passage_changes` by
triggers, so each worker process catches up with imports made by any other process by
re-indexing just the changed passages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from webapp.labels import current, links
from webapp.similarity import engine

MODES = ("all", "same_topic", "counterpoints")
OPPOSITE = {"favour": "against", "against": "favour"}
# Incremental updates keep the vocabulary of the last full build; past this share of changed
# passages a full rebuild gives better suggestions.
REBUILD_AFTER = 0.2
_lock = threading.Lock()


@dataclass
class _Cached:
    index: engine.RelatedIndex | None
    seq: int


def current_index(db, caches: dict, key: str) -> engine.RelatedIndex | None:
    """The index of `db`, kept in `caches` under `key` and brought up to date; None for an empty corpus."""
    with _lock:
        latest = db.execute("SELECT coalesce(max(seq), 0) FROM passage_changes").fetchone()[0]
        cached = caches.get(key)
        if cached is None or cached.index is None or cached.index.stale_fraction > REBUILD_AFTER:
            cached = caches[key] = _Cached(_build(db), latest)
        elif cached.seq < latest:
            _catch_up(db, cached.index, cached.seq)
            cached.seq = latest
        return cached.index


def _content(db, where: str = "", params: list | None = None) -> list[tuple[int, str, str]]:
    return list(db.execute(f"SELECT id, document, text FROM passages WHERE kind = 'content' {where}", params or []))


def _build(db) -> engine.RelatedIndex | None:
    passages = _content(db)
    return engine.build_index(passages) if passages else None


def _catch_up(db, index: engine.RelatedIndex, since: int) -> None:
    changed = [pid for (pid,) in db.execute("SELECT DISTINCT passage_id FROM passage_changes WHERE seq > ?", [since])]
    fresh = _content(db, f"AND id IN ({', '.join('?' for _ in changed)})", changed) if changed else []
    index.remove(set(changed) - {pid for pid, _, _ in fresh})
    index.add(fresh)


def suggestions(db, index: engine.RelatedIndex | None, passage_id: int, mode: str = "all",
                k: int = 10) -> list[dict]:
    """The passages in `index` most related to one passage, from other documents, for a panel or the API.

    `same_topic` keeps passages labelled with a topic the passage has; `counterpoints` keeps
    passages taking the opposite stance on such a topic. Pairs someone dismissed are left out.
    """
    if index is None or passage_id not in index:
        return []
    wanted = _wanted(db, passage_id, mode)
    allowed = None if wanted is None else current.passages_with_stances(db, wanted)
    if allowed is not None and not allowed:
        return []
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


def _wanted(db, passage_id: int, mode: str) -> set[tuple[str, str]] | None:
    if mode == "all":
        return None
    stances = current.passage_stances(db, [passage_id]).get(passage_id, {})
    if mode == "same_topic":
        return {(topic, other) for topic in stances for other in ("favour", "neutral", "against")}
    return {(topic, OPPOSITE[stance]) for topic, stance in stances.items() if stance in OPPOSITE}


def describe(db, matches: list[engine.Match]) -> list[dict]:
    """Matches with their text, source and current labels, in score order."""
    if not matches:
        return []
    ids = [m.id for m in matches]
    rows = {
        row["id"]: row
        for row in db.query(
            f"""SELECT p.id, p.document, p.position, p.text, d.title, d.outlet, d.date FROM passages p
            JOIN documents d ON d.id = p.document WHERE p.id IN ({', '.join('?' for _ in ids)})""",
            ids,
        )
    }
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
