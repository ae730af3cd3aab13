"""Related-passage suggestions for the app: a per-process index kept in step with the database.

The TF-IDF index (engine.py) is a cache rebuilt from the database, never stored; the caller
keeps it between requests. Every write to `passages` is logged in `passage_changes` by
triggers, so each worker process catches up with imports made by any other process by
re-indexing just the changed passages.

scikit-learn and scipy load with the first index built (engine.py imports them), not with the
app, so a worker starts without them and only the pages that show related passages pay for them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
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
