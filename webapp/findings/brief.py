"""A brief per topic: the proposition, who takes which side where, the key arguments with a quoted
passage each as numbered citations, and the blind spots, for a page, a Markdown file or a PDF.

Blind spots are what a reader of the brief cannot see in it, because the corpus does not hold it:
- a side with no passages at all;
- an argument made in one source only (it may be that source's view, not a side's);
- a source that was labelled on other topics but never on this one (it was read and said nothing);
  sources nobody has labelled yet are counted apart, since their silence means nothing yet;
- passages labelled on the topic with no holder, whose view is nobody's in particular.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from webapp.corpus.display import display_title, natural_date
from webapp.corpus.taxonomy import STANCES, TARGET_MISSING, Topic
from webapp.findings.arguments import Argument, topic_arguments
from webapp.labels import consensus

# The brief is read by people: the biggest arguments per side, the biggest sources, a capped list
# of what is missing; the counts beside each list say how many more there are.
ARGUMENTS_PER_SIDE = 6
SOURCES_SHOWN = 30
BLIND_SPOTS_SHOWN = 20
# A quoted passage longer than this is cut at a word and marked as cut.
QUOTE_CHARS = 1200


@dataclass
class Citation:
    """A numbered reference: the quoted passage, who holds its view and where it was published."""

    number: int
    passage: int
    document: str
    holder: str
    title: str
    outlet: str
    date: str
    url: str


@dataclass
class KeyArgument:
    """One argument of a side as the brief states it, with its quoted passage and citation number."""

    label: str
    passages: int
    sources: list[str]
    holders: list[str]
    quote: str
    citation: int


@dataclass
class Side:
    """One stance on the topic: its wording, how many passages take it and its key arguments."""

    stance: str
    wording: str
    passages: int
    arguments: list[KeyArgument]
    more_arguments: int


@dataclass
class SourceCount:
    """How many of a source's passages take each stance on the topic."""

    title: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Passages of this source labelled on the topic."""
        return sum(self.counts.values())


@dataclass
class BlindSpots:
    """What the corpus does not show about the topic (see the module's docstring)."""

    empty_sides: list[str] = field(default_factory=list)
    single_source: list[tuple[str, str, str]] = field(default_factory=list)
    more_single_source: int = 0
    silent_sources: list[str] = field(default_factory=list)
    more_silent_sources: int = 0
    unlabelled_sources: int = 0
    unattributed: dict[str, int] = field(default_factory=dict)

    @property
    def unattributed_total(self) -> int:
        """Passages labelled on the topic with no holder, on every side."""
        return sum(self.unattributed.values())

    @property
    def any(self) -> bool:
        """True when there is at least one blind spot to report."""
        return bool(self.empty_sides or self.single_source or self.silent_sources or self.unlabelled_sources
                    or self.unattributed_total)


@dataclass
class Brief:
    """Everything a brief on one topic says, in the order it says it."""

    topic_id: str
    name: str
    description: str
    target: str
    stances: dict[str, str]
    total: int
    per_source: list[SourceCount]
    more_sources: int
    sides: list[Side]
    citations: list[Citation]
    blind_spots: BlindSpots

    @property
    def target_missing(self) -> bool:
        """True while nobody has stated the proposition the stances are taken toward."""
        return not self.target

    @property
    def target_text(self) -> str:
        """The proposition, or the words the app shows while it is missing."""
        return self.target or TARGET_MISSING


def build_brief(db, topic: Topic) -> Brief:
    """The brief on `topic` from the current labels: counts, key arguments, citations, blind spots."""
    consensus.catch_up(db)
    per_source = _per_source(db, topic.id)
    overall = sum((Counter(s.counts) for s in per_source), Counter())
    arguments = topic_arguments(db, topic.id)
    citations: list[Citation] = []
    sides = [_side(topic, stance, overall[stance], arguments.get(stance, []), citations) for stance in STANCES]
    _fill_urls(db, citations)
    return Brief(
        topic_id=topic.id,
        name=topic.name,
        description=topic.description,
        target=topic.target,
        stances={s: topic.label(s) for s in STANCES},
        total=sum(overall.values()),
        per_source=per_source[:SOURCES_SHOWN],
        more_sources=max(len(per_source) - SOURCES_SHOWN, 0),
        sides=sides,
        citations=citations,
        blind_spots=_blind_spots(db, topic, overall, arguments),
    )


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """A passage as the brief quotes it: one line, cut at a word with "[…]" when longer than `limit`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " […]"


def _side(topic: Topic, stance: str, passages: int, arguments: list[Argument], citations: list[Citation]) -> Side:
    """A side's key arguments, each citing its representative passage under the next number."""
    stated = []
    for argument in arguments[:ARGUMENTS_PER_SIDE]:
        card = argument.representative
        number = len(citations) + 1
        citations.append(Citation(number, card.id, card.document, card.holder, card.title, card.outlet,
                                  natural_date(card.date), ""))
        stated.append(KeyArgument(argument.label, argument.passages, list(argument.sources),
                                  list(argument.holders), quoted(card.text), number))
    return Side(stance, topic.label(stance), passages, stated, max(len(arguments) - ARGUMENTS_PER_SIDE, 0))


def _per_source(db, topic_id: str) -> list[SourceCount]:
    """Stance counts per source title (documents sharing a title count together), biggest first."""
    by_title: dict[str, Counter] = defaultdict(Counter)
    for stance, n, title, kind, outlet, date in db.execute(
        """SELECT c.stance, c.n, d.title, d.kind, d.outlet, d.date FROM consensus_counts c
        JOIN documents d ON d.id = c.document WHERE c.topic = ?""",
        [topic_id],
    ):
        by_title[display_title(title, kind, outlet, date)][stance] += n
    found = [SourceCount(title, {s: counts.get(s, 0) for s in STANCES}) for title, counts in by_title.items()]
    return sorted(found, key=lambda s: (-s.total, s.title.casefold()))


def _fill_urls(db, citations: list[Citation]) -> None:
    """Give each citation its document's web address, when the document has one."""
    documents = {c.document for c in citations}
    if not documents:
        return
    marks = ", ".join("?" for _ in documents)
    urls = dict(db.execute(f"SELECT id, url FROM documents WHERE id IN ({marks})", sorted(documents)))
    for citation in citations:
        citation.url = _web_address(urls.get(citation.document) or "")


def _web_address(url: str) -> str:
    """`url` if it is an http(s) address; a `javascript:` URL or a local path in metadata never becomes a link."""
    url = url.strip()
    web = url.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in url)
    return url if web else ""


def _blind_spots(db, topic: Topic, overall: Counter, arguments: dict[str, list[Argument]]) -> BlindSpots:
    """The four kinds of blind spot listed in the module's docstring."""
    spots = BlindSpots(empty_sides=[topic.label(s) for s in STANCES if not overall.get(s)])
    single = [(topic.label(stance), a.label, a.sources[0])
              for stance in STANCES for a in arguments.get(stance, []) if len(a.sources) == 1]
    spots.single_source = single[:BLIND_SPOTS_SHOWN]
    spots.more_single_source = max(len(single) - BLIND_SPOTS_SHOWN, 0)
    silent = sorted(
        {display_title(*row) for row in db.execute(
            """SELECT d.title, d.kind, d.outlet, d.date FROM documents d
            JOIN consensus_documents s ON s.document = d.id
            WHERE s.labelled > 0 AND d.id NOT IN (SELECT document FROM consensus_counts WHERE topic = ?)""",
            [topic.id],
        )},
        key=str.casefold,
    )
    spots.silent_sources = silent[:BLIND_SPOTS_SHOWN]
    spots.more_silent_sources = max(len(silent) - BLIND_SPOTS_SHOWN, 0)
    spots.unlabelled_sources = db.execute(
        """SELECT count(*) FROM documents d LEFT JOIN consensus_documents s ON s.document = d.id
        WHERE coalesce(s.labelled, 0) = 0"""
    ).fetchone()[0]
    unattributed = dict(db.execute(
        "SELECT stance, count(*) FROM consensus WHERE topic = ? AND holder = '' GROUP BY stance", [topic.id]
    ))
    spots.unattributed = {topic.label(s): unattributed[s] for s in STANCES if unattributed.get(s)}
    return spots


def to_markdown(brief: Brief) -> str:
    """The brief as a Markdown document; every field from the corpus is escaped, so it stays text."""
    md = escape_markdown
    lines = [f"# Brief: {md(brief.name)}", ""]
    if brief.target_missing:
        lines += [f"**Target proposition:** _{md(brief.target_text)}_: nobody has stated what this topic takes"
                  " sides on, so its stances have no stated proposition.", ""]
    else:
        lines += [f"**Target proposition:** {md(brief.target)}", ""]
    if brief.description:
        lines += [md(brief.description), ""]
    lines += [f"{_passages(brief.total)} labelled on this topic: "
              + "; ".join(f"{md(s.wording)} {s.passages}" for s in brief.sides) + ".", ""]
    lines += _source_table(brief)
    lines += ["## Key arguments", ""]
    for side in brief.sides:
        lines += [f"### {md(side.wording)} ({_passages(side.passages)})", ""]
        if not side.arguments:
            lines += ["No passages take this side.", ""]
        for number, argument in enumerate(side.arguments, start=1):
            held = f"; held by {', '.join(md(h) for h in argument.holders)}" if argument.holders else ""
            lines += [
                f"{number}. **{md(argument.label)}**: {_passages(argument.passages)} in"
                f" {_count(len(argument.sources), 'source')}{held}.",
                "",
                f"   > {md(argument.quote)} [{argument.citation}]",
                "",
            ]
        if side.more_arguments:
            lines += [f"And {_count(side.more_arguments, 'more argument')} on this side.", ""]
    lines += _blind_spot_lines(brief.blind_spots)
    lines += ["## Citations", ""]
    for c in brief.citations:
        where = ", ".join(md(part) for part in (c.title, c.outlet, c.date) if part)
        url = f" {md(c.url)}" if c.url else ""
        lines.append(f"{c.number}. {md(c.holder) if c.holder else 'No holder named'}. {where}.{url}")
    if not brief.citations:
        lines.append("No passages are cited: nothing is labelled on this topic yet.")
    return "\n".join(lines) + "\n"


def _source_table(brief: Brief) -> list[str]:
    """The stance-by-source counts as a Markdown table."""
    if not brief.per_source:
        return ["No source has passages labelled on this topic yet.", ""]
    md = escape_markdown
    lines = ["## Stances by source", "",
             "| Source | " + " | ".join(md(brief.stances[s]) for s in STANCES) + " | Total |",
             "|---" * (len(STANCES) + 2) + "|"]
    for source in brief.per_source:
        counts = " | ".join(str(source.counts[s]) for s in STANCES)
        lines.append(f"| {md(source.title)} | {counts} | {source.total} |")
    if brief.more_sources:
        lines += ["", f"And {_count(brief.more_sources, 'more source')}."]
    return lines + [""]


def _blind_spot_lines(spots: BlindSpots) -> list[str]:
    """The blind spots as a Markdown list."""
    md = escape_markdown
    lines = ["## Blind spots", ""]
    if spots.empty_sides:
        lines.append(f"- Sides no passage takes: {', '.join(md(s) for s in spots.empty_sides)}.")
    if spots.single_source:
        lines.append("- Arguments made in one source only:")
        lines += [f"  - {md(label)} ({md(side)}), only in {md(source)}" for side, label, source in spots.single_source]
        if spots.more_single_source:
            lines.append(f"  - and {_count(spots.more_single_source, 'more argument')}")
    if spots.silent_sources:
        lines.append("- Sources labelled on other topics but never on this one:")
        lines += [f"  - {md(title)}" for title in spots.silent_sources]
        if spots.more_silent_sources:
            lines.append(f"  - and {_count(spots.more_silent_sources, 'more source')}")
    if spots.unlabelled_sources:
        lines.append(f"- {_count(spots.unlabelled_sources, 'source')} not labelled on any topic yet.")
    if spots.unattributed:
        parts = ", ".join(f"{md(side)} {n}" for side, n in spots.unattributed.items())
        lines.append(f"- {_passages(spots.unattributed_total)} with no holder named ({parts}).")
    if not spots.any:
        lines.append("None found.")
    return lines + [""]


# Characters that start Markdown syntax anywhere in a line: emphasis, code, links, images, raw HTML,
# entities, tables, strike-through, headings. A backslash makes each one literal (CommonMark 2.4).
_SIGNIFICANT = frozenset("\\`*_[]<>&|~#!")
# At the start of a line these open a list item, a setext heading or an ordered list.
_LINE_START = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")


def escape_markdown(text: str) -> str:
    """`text` as literal Markdown on one line: every significant character backslash-escaped."""
    text = "".join("\\" + c if c in _SIGNIFICANT else c for c in " ".join(str(text).split()))
    found = _LINE_START.match(text)
    if found is None:
        return text
    end = found.end()
    # "1." is escaped at its dot ("1\."), "-" before itself ("\-").
    return text[:end] + "\\" + text[end:] if text[0].isdigit() else "\\" + text


def _passages(n: int) -> str:
    return _count(n, "passage")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
