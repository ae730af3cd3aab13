"""Key arguments: a topic's passages on each side, grouped by the argument they make.

The grouping of a side is computed from all of its passages (`grouping.group`), then people's
corrections (labels/corrections.py) are replayed over it in the order they were made. Filters
narrow which passages are shown, never how they are grouped, so an argument keeps its shape
whichever source or holder one looks at.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field

from webapp.analysis import comparison
from webapp.analysis.comparison import Card, Filters
from webapp.corpus.taxonomy import STANCES
from webapp.labels import consensus, corrections

# Groupings kept per worker, keyed on what they were computed from; a save elsewhere in the
# corpus leaves every other side's grouping valid.
_CACHE: OrderedDict[str, "Side"] = OrderedDict()
_CACHE_SIZE = 256


@dataclass
class Argument:
    """Passages on one side of a topic that make the same argument."""

    key: int
    topic: str
    stance: str
    name: str
    sentence: str
    representative: Card
    cards: list[Card]
    sources: list[str] = field(default_factory=list)
    holders: list[str] = field(default_factory=list)
    corrected: bool = False

    @property
    def passages(self) -> int:
        """How many passages make the argument."""
        return len(self.cards)

    @property
    def label(self) -> str:
        """What to call the argument: the name people gave it, else its representative sentence."""
        return self.name or self.sentence


@dataclass(frozen=True)
class Side:
    """One side's grouping: passage ids per argument, each argument's anchor and name."""

    groups: tuple[tuple[int, ...], ...]
    anchors: tuple[int, ...]
    names: tuple[str, ...]
    corrected: tuple[bool, ...]
    sentences: tuple[str, ...]
    # How many documents each argument's passages come from.
    sources: tuple[int, ...]


@dataclass(frozen=True)
class Single:
    """An argument made in one source only: its anchor passage, label and size."""

    key: int
    label: str
    passages: int


@dataclass
class Summary:
    """What the overview says about one side of a topic."""

    arguments: int
    single_source: list[Single]


def side(db, topic: str, stance: str, replayed: list[tuple] | None = None) -> Side:
    """The grouping of a topic's passages that take `stance`, corrections applied (`replayed`, the
    topic's `corrections.replay`, when the caller has read it already for another side)."""
    # Imported here: scikit-learn and SciPy load with the first page that groups, not at start.
    from webapp.findings import grouping

    consensus.catch_up(db)
    rows = db.execute(
        """SELECT c.passage, p.text_hash, c.document FROM consensus c JOIN passages p ON p.id = c.passage
        WHERE c.topic = ? AND c.stance = ? ORDER BY c.date DESC, c.document, c.position""",
        [topic, stance],
    ).fetchall()
    replayed = corrections.replay(db, topic) if replayed is None else replayed
    digest = hashlib.sha256(json.dumps([topic, stance, grouping.THRESHOLD, rows, replayed]).encode()).hexdigest()
    if digest in _CACHE:
        _CACHE.move_to_end(digest)
        return _CACHE[digest]
    found = _compute(db, rows, replayed, grouping)
    _CACHE[digest] = found
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return found


def _compute(db, rows: list[tuple], replayed: list[tuple], grouping) -> Side:
    ids = [pid for pid, _, _ in rows]
    document = {pid: doc for pid, _, doc in rows}
    texts = _texts(db, ids)
    # A passage deleted since `rows` were read (another process's write) groups as empty text.
    matrix = grouping.vectors([texts.get(pid, "") for pid in ids]) if ids else None
    labels = dict(zip(ids, grouping.group_vectors(matrix) if ids else [], strict=True))
    names: dict[int, str] = {}
    touched: set[int] = set()
    fresh = max(labels.values(), default=-1) + 1
    for action, pid, anchor, name in replayed:
        if pid not in labels:
            continue
        if action == "move" and anchor == pid:
            labels[pid], fresh = fresh, fresh + 1
        elif action == "move" and anchor in labels:
            labels[pid] = labels[anchor]
        elif action == "name":
            names[labels[pid]] = name
        else:
            continue
        touched.add(labels[pid])
    members: dict[int, list[int]] = {}
    for pid in ids:
        members.setdefault(labels[pid], []).append(pid)
    position = {pid: i for i, pid in enumerate(ids)}
    order = sorted(members, key=lambda k: (-len(members[k]), position[members[k][0]]))
    anchors = [ids[grouping.central(matrix, [position[p] for p in members[k]])] for k in order]
    return Side(
        groups=tuple(tuple(members[k]) for k in order),
        anchors=tuple(anchors),
        names=tuple(names.get(k, "") for k in order),
        corrected=tuple(k in touched for k in order),
        sentences=tuple(grouping.sentence(texts.get(a, "")) for a in anchors),
        sources=tuple(len({document[pid] for pid in members[k]}) for k in order),
    )


def _texts(db, ids: list[int]) -> dict[int, str]:
    rows = db.execute("SELECT id, text FROM passages WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(ids)])
    return dict(rows)


def topic_arguments(db, topic: str, filters: Filters | None = None) -> dict[str, list[Argument]]:
    """Each stance's arguments, biggest first, narrowed to the passages `filters` lets through.

    An argument none of whose passages pass the filters is left out; the others keep only their
    passages that pass, and the representative stays the argument's own even when filtered out.
    """
    filters = filters or Filters()
    cards = {card.id: card for card in comparison.topic_cards(db, topic, filters)}
    replayed = corrections.replay(db, topic)
    result: dict[str, list[Argument]] = {}
    for stance in STANCES:
        found = side(db, topic, stance, replayed) if not filters.stance or filters.stance == stance else None
        result[stance] = _arguments(db, topic, stance, found, cards) if found else []
    shown = [card for arguments in result.values() for a in arguments for card in a.cards]
    representatives = [a.representative for arguments in result.values() for a in arguments]
    comparison.with_details(db, topic, list({c.id: c for c in shown + representatives}.values()))
    return result


def _arguments(db, topic: str, stance: str, found: Side, cards: dict[int, Card]) -> list[Argument]:
    arguments = []
    missing = [a for a, g in zip(found.anchors, found.groups, strict=True) if a not in cards and set(g) & cards.keys()]
    extra = {c.id: c for c in comparison.cards_by_id(db, topic, missing)} if missing else {}
    for group, anchor, name, corrected, sentence in zip(
        found.groups, found.anchors, found.names, found.corrected, found.sentences, strict=True
    ):
        shown = [cards[pid] for pid in group if pid in cards]
        if not shown:
            continue
        # The anchor's card, even when filters leave it out; another process may have just removed it.
        representative = cards.get(anchor) or extra.get(anchor) or shown[0]
        shown.sort(key=lambda c: c.id != anchor)
        arguments.append(Argument(
            key=anchor, topic=topic, stance=stance, name=name, sentence=sentence,
            representative=representative, cards=shown,
            sources=sorted({c.title for c in shown}, key=str.casefold),
            holders=sorted({c.holder for c in shown if c.holder}, key=str.casefold),
            corrected=corrected,
        ))
    arguments.sort(key=lambda a: -a.passages)
    return arguments


def summaries(db, topic_ids) -> dict[str, dict[str, Summary]]:
    """Per topic and stance: how many distinct arguments, and which appear in one source only.

    Read from the groupings alone (no passage text), so the overview stays cheap.
    """
    result: dict[str, dict[str, Summary]] = {}
    for topic in topic_ids:
        result[topic] = {}
        replayed = corrections.replay(db, topic)
        for stance in STANCES:
            found = side(db, topic, stance, replayed)
            single = [
                Single(anchor, name or sentence, len(group))
                for group, anchor, name, sentence, sources
                in zip(found.groups, found.anchors, found.names, found.sentences, found.sources, strict=True)
                if sources == 1
            ]
            result[topic][stance] = Summary(len(found.groups), single)
    return result


@dataclass(frozen=True)
class Place:
    """Where a passage stands in its side's grouping: for the move and merge screens."""

    stance: str
    members: tuple[int, ...]
    anchor: int
    name: str
    sentence: str
    others: list[tuple[int, str, int]]


def place(db, topic: str, passage_id: int) -> Place | None:
    """The argument holding `passage_id` on `topic` and the other arguments of its side, as
    (anchor, label, passages); None when the passage takes no stance on the topic."""
    row = db.execute("SELECT stance FROM consensus WHERE topic = ? AND passage = ?", [topic, passage_id]).fetchone()
    if row is None:
        return None
    found = side(db, topic, row[0])
    for i, group in enumerate(found.groups):
        if passage_id in group:
            others = [
                (anchor, name or sentence, len(members))
                for j, (anchor, name, sentence, members)
                in enumerate(zip(found.anchors, found.names, found.sentences, found.groups, strict=True))
                if j != i
            ]
            return Place(row[0], group, found.anchors[i], found.names[i], found.sentences[i], others)
    return None
