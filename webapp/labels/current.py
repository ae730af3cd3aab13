"""Which labels count: the one rule that every page, search, export, API, chart and model reads.

A label counts while its passage still has the text it was made on (same document, position
and text hash). On a passage whose current text carries an adjudication, only the
adjudicator's labels count, on every topic. Where the labels that count differ on a topic,
the majority stance wins; see `consensus` for ties.

The SQL fragments name passages `p` and labels `l`, as the queries that use them do, so that
each query keeps the shape its covering index (migrations m070) was made for.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from webapp.corpus.taxonomy import STANCES

# A reserved annotator name: its labels on a passage are the adjudicated ones and replace
# everyone else's there, so adjudications travel in the label files like any other label.
ADJUDICATOR = "adjudicator"

# Join condition: label `l` was made on the text passage `p` has now.
SAME_TEXT = "l.document = p.document AND l.position = p.position AND l.text_hash = p.text_hash"

# Condition: label `l` on passage `p` is not replaced by an adjudication of the passage's text.
NOT_OVERRULED = f"""(l.annotator = '{ADJUDICATOR}' OR NOT EXISTS (
    SELECT 1 FROM labels a WHERE a.document = p.document AND a.position = p.position
    AND a.annotator = '{ADJUDICATOR}' AND a.text_hash = p.text_hash))"""

# Condition: passage `p` has labels that count. Same text is enough here, as an adjudication
# replaces a passage's labels but never leaves it without any.
LABELLED = f"EXISTS (SELECT 1 FROM labels l WHERE {SAME_TEXT})"

# Every label that counts, on content passages `p`, with their documents `d`; callers add
# `AND ...` conditions after it.
COUNTED = f"""
    FROM passages p
    JOIN labels l ON {SAME_TEXT}
    JOIN documents d ON d.id = p.document
    WHERE p.kind = 'content' AND {NOT_OVERRULED}
"""

# Expression: label `l` no longer counts because its passage `p` (LEFT JOINed on document and
# position) is gone or now has different text, so someone should review it.
STALE = "(p.text_hash IS NULL OR p.text_hash != l.text_hash)"


def consensus(votes: Iterable[str]) -> tuple[str, bool]:
    """The stance that counted votes give a passage on a topic, and whether the votes differ.

    The majority wins. A tie goes to neutral when neutral is among the leaders, else to the
    leader that comes first in STANCES order.
    """
    counts = Counter(votes)
    top = max(counts.values())
    leaders = [s for s in STANCES if counts.get(s) == top]
    stance = "neutral" if len(leaders) > 1 and "neutral" in leaders else leaders[0]
    return stance, len(counts) > 1


def passage_consensus(votes: Iterable[tuple[str, str]]) -> tuple[str, bool, str]:
    """The stance, the contested flag and the holder that one passage's counted (stance, holder)
    votes on one topic give it: the stance as `consensus` decides, the holder most votes name
    (ties to the first in alphabetical order), '' when no vote names one."""
    votes = list(votes)
    if len(votes) == 1:
        # Most passages have one vote; it decides alone, and an import counts a million of them.
        stance, holder = votes[0]
        return stance, False, holder or ""
    stance, contested = consensus(stance for stance, _ in votes)
    held = Counter(holder for _, holder in votes if holder)
    holder = min(held, key=lambda h: (-held[h], h)) if held else ""
    return stance, contested, holder


def topic_consensus(db, where: str = "", params=()) -> dict[tuple[int, str], tuple[str, bool, str]]:
    """The consensus (stance, contested, holder) of content passages on each of their topics,
    keyed by (passage id, topic); `where` adds `AND ...` conditions on `p` and `l`."""
    votes: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for pid, topic, stance, holder in db.execute(
        f"SELECT p.id, l.topic, l.stance, l.holder {COUNTED} AND l.topic != '' {where}", list(params)
    ):
        votes[(pid, topic)].append((stance, holder or ""))
    return {key: passage_consensus(found) for key, found in votes.items()}


def passage_stances(db, passage_ids) -> dict[int, dict[str, str]]:
    """The consensus stance of each given content passage on each of its topics."""
    ids = list(passage_ids)
    if not ids:
        return {}
    stances: dict[int, dict[str, str]] = defaultdict(dict)
    found = topic_consensus(db, f"AND p.id IN ({', '.join('?' for _ in ids)})", ids)
    for (pid, topic), (stance, _, _) in found.items():
        stances[pid][topic] = stance
    return stances


def passages_with_stances(db, wanted: set[tuple[str, str]]) -> set[int]:
    """Content passages that some counted label gives one of the wanted (topic, stance) pairs."""
    if not wanted:
        return set()
    pairs = sorted(wanted)
    values = ", ".join("(?, ?)" for _ in pairs)
    rows = db.execute(
        f"SELECT DISTINCT p.id {COUNTED} AND (l.topic, l.stance) IN (VALUES {values})",
        [v for pair in pairs for v in pair],
    )
    return {pid for (pid,) in rows}
