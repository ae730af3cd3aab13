"""The data behind the viewpoint charts: who takes which stance, where, when, and what is missing."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from webapp.corpus.display import display_title
from webapp.corpus.taxonomy import DEFAULT_STANCE_LABELS, STANCES, Topic
from webapp.labels import consensus

GROUPINGS = ("holder", "source")
UNATTRIBUTED = "Unattributed"
# Balance is (favour - against) / passages; beyond these it reads as a lean, then as one-sided.
LEAN = 0.2
STRONG = 0.6
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?")


@dataclass(frozen=True)
class Group:
    """A chart row: a holder or a source, and the value that filters a topic page to it."""

    name: str
    key: str


@dataclass
class Cell:
    """The stances one group takes on one topic."""

    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """How many passages the cell holds."""
        return sum(self.counts.values())

    @property
    def tone(self) -> str:
        """The stance balance as a word the page colours: favour(-strong), against(-strong), split, neutral, none."""
        if not self.total:
            return "none"
        balance = (self.counts["favour"] - self.counts["against"]) / self.total
        if abs(balance) > LEAN:
            side = "favour" if balance > 0 else "against"
            return f"{side}-strong" if abs(balance) >= STRONG else side
        return "split" if self.counts["favour"] and self.counts["against"] else "neutral"


@dataclass
class Row:
    """One group's cells, topic by topic."""

    group: Group
    cells: dict[str, Cell] = field(default_factory=lambda: defaultdict(Cell))

    @property
    def total(self) -> int:
        """How many passages the group has across topics."""
        return sum(cell.total for cell in self.cells.values())


@dataclass(frozen=True)
class Tally:
    """How many of a topic's passages take one stance within one group (holder or source), and the
    date of their source (empty for holders, whose passages span sources)."""

    group: Group
    stance: str
    n: int
    date: str = ""


def tallies(db, topic_ids, by: str) -> dict[str, list[Tally]]:
    """Each topic's stance counts per holder or per source, read from the maintained aggregates
    (labels/consensus.py), never from the passages themselves."""
    consensus.catch_up(db)
    wanted = set(topic_ids)
    found: dict[str, list[Tally]] = {t: [] for t in topic_ids}
    if by == "holder":
        # Walks the (topic, holder, stance) index, not the passages.
        rows = db.execute("SELECT topic, holder, stance, count(*) FROM consensus GROUP BY topic, holder, stance")
        for topic, holder, stance, n in rows:
            if topic in wanted:
                found[topic].append(Tally(Group(holder or UNATTRIBUTED, holder), stance, n))
        return found
    documents = {
        row[0]: (Group(row[3] or display_title(*row[1:]), row[3] or row[0]), row[4] or "")
        for row in db.execute(
            """SELECT id, title, kind, outlet, date FROM documents
            WHERE id IN (SELECT DISTINCT document FROM consensus_counts)"""
        )
    }
    for topic, document, stance, n in db.execute("SELECT topic, document, stance, n FROM consensus_counts"):
        if topic in wanted and document in documents:
            group, date = documents[document]
            found[topic].append(Tally(group, stance, n, date))
    return found


def matrix(counts: dict[str, list[Tally]]) -> list[Row]:
    """Groups x topics with stance counts per cell, the busiest groups first."""
    rows: dict[Group, Row] = {}
    for topic, topic_tallies in counts.items():
        for tally in topic_tallies:
            rows.setdefault(tally.group, Row(tally.group)).cells[topic].counts[tally.stance] += tally.n
    return sorted(rows.values(), key=lambda r: (-r.total, r.group.name.casefold()))


@dataclass
class Chart:
    """Stacked bars for one topic: one bar of stance counts per group or period."""

    bars: list[tuple[Group, Counter]]

    @property
    def scale(self) -> int:
        """The longest bar's total, which spans the full width."""
        return max((sum(c.values()) for _, c in self.bars), default=0)


def by_topic(rows: list[Row], topic_ids) -> dict[str, Chart]:
    """Each topic's bars, one per group that has passages on it."""
    return {
        t: Chart([(row.group, row.cells[t].counts) for row in rows if t in row.cells and row.cells[t].total])
        for t in topic_ids
    }


def period(date: str, by_month: bool) -> str | None:
    """The year (or year-month) of an ISO 8601 date; None when there is no usable date."""
    match = _DATE.match(date or "")
    if match is None:
        return None
    year, month = match.groups()
    return f"{year}-{month}" if by_month and month else year


def timeline(counts: dict[str, list[Tally]]) -> tuple[dict[str, Chart], bool, int]:
    """Stance counts per topic and period, whether periods are months, and the undated passages,
    from the per-source tallies (a passage is dated by its source).

    Years when the dated documents span several; months when they all fall in one year.
    """
    years = {p for ts in counts.values() for t in ts if (p := period(t.date, False))}
    by_month = len(years) == 1
    charts, undated = {}, 0
    for topic, topic_tallies in counts.items():
        per: dict[str, Counter] = defaultdict(Counter)
        for tally in topic_tallies:
            when = period(tally.date, by_month)
            if when is None:
                undated += tally.n
            else:
                per[when][tally.stance] += tally.n
        charts[topic] = Chart([(Group(when, ""), per[when]) for when in sorted(per)])
    return charts, by_month, undated


@dataclass
class Gaps:
    """What one group never says: stances missing on topics it covers, and topics it never covers."""

    group: Group
    missing: list[tuple[str, list[str]]]
    silent: list[str]


def corpus_gaps(rows: list[Row], topic_ids) -> list[tuple[str, str]]:
    """The (topic, stance) pairs no passage in the corpus takes."""
    totals: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        for topic, cell in row.cells.items():
            totals[topic].update(cell.counts)
    return [(t, s) for t in topic_ids for s in STANCES if not totals[t][s]]


def group_gaps(rows: list[Row], topic_ids) -> list[Gaps]:
    """Per group, the topic x stance cells with no passage, in the order of `rows`."""
    result = []
    for row in rows:
        covered = [t for t in topic_ids if t in row.cells and row.cells[t].total]
        missing = [(t, [s for s in STANCES if not row.cells[t].counts[s]]) for t in covered]
        result.append(Gaps(row.group, [(t, s) for t, s in missing if s], [t for t in topic_ids if t not in covered]))
    return result


def stance_phrase(topic: Topic, stance: str) -> str:
    """A stance as a verb phrase for a sentence such as "No passage … opposes returns"."""
    label = topic.label(stance)
    if stance == "neutral":
        return f"is neutral on {topic.name}"
    if label == DEFAULT_STANCE_LABELS[stance]:
        return f"is {'in favour of' if stance == 'favour' else 'against'} “{topic.target.rstrip('.')}”"
    return label[:1].lower() + label[1:]
