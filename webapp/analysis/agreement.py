"""Inter-annotator agreement per topic, the passages annotators differ on, and adjudication."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from webapp.corpus.display import display_title
from webapp.labels import editor, validation
from webapp.labels.current import ADJUDICATOR, SAME_TEXT

# Krippendorff's guidance: rely on data with alpha >= .800, draw only tentative conclusions
# from .667 up. We apply the same bands to kappa so the page reads one way throughout.
RELIABLE = 0.8
TENTATIVE = 0.667
PRESENT, ABSENT = "present", "absent"

# passage id -> annotator -> topic -> stance; an empty dict means "reviewed, no topic applies".
Annotations = dict[int, dict[str, dict[str, str]]]


@dataclass(frozen=True)
class Figure:
    """An agreement coefficient and the number of passages it rests on, or why there is none."""

    value: float | None
    items: int
    reason: str = ""

    @property
    def band(self) -> str:
        """How far the figure can be relied on: high, tentative, low, or none."""
        if self.value is None:
            return "none"
        return "high" if self.value >= RELIABLE else "tentative" if self.value >= TENTATIVE else "low"


@dataclass(frozen=True)
class Pair:
    """Cohen's kappa for two annotators on one topic."""

    first: str
    second: str
    presence: Figure
    stance: Figure


@dataclass(frozen=True)
class TopicAgreement:
    """Agreement on one topic: every annotator pair, and Krippendorff's alpha across all."""

    topic: str
    pairs: list[Pair]
    presence: Figure
    stance: Figure


def annotations(db) -> Annotations:
    """Every annotator's current labels on content passages; adjudications are left out."""
    data: Annotations = defaultdict(dict)
    # Same text only: agreement is between the annotators' own labels, adjudicated or not.
    rows = db.execute(
        f"""SELECT p.id, l.annotator, l.topic, l.stance FROM passages p
        JOIN labels l ON {SAME_TEXT}
        WHERE p.kind = 'content' AND l.annotator != ?""",
        [ADJUDICATOR],
    )
    for passage_id, annotator, topic, stance in rows:
        topics = data[passage_id].setdefault(annotator, {})
        if topic:
            topics[topic] = stance
    return dict(data)


def cohen_kappa(first: list[str], second: list[str]) -> Figure:
    """Cohen's kappa for two annotators' values on the same passages, in the same order."""
    items = len(first)
    if items < 2:
        return Figure(None, items, "not enough data: fewer than two passages labelled by both")
    if len(set(first) | set(second)) < 2:
        # Chance agreement is then certain and kappa is 0/0: perfect agreement on no variation.
        return Figure(None, items, f"not enough data: every label is “{first[0]}”")
    # Imported here: scikit-learn takes seconds to import, and starting the app must not wait.
    from sklearn.metrics import cohen_kappa_score

    return Figure(float(cohen_kappa_score(first, second)), items)


def krippendorff_alpha(units: list[list[str]]) -> Figure:
    """Nominal Krippendorff's alpha over units, each the values its annotators gave it."""
    pairable = [unit for unit in units if len(unit) >= 2]
    if not pairable:
        return Figure(None, 0, "not enough data: no passage has labels from two annotators")
    values = sorted({value for unit in pairable for value in unit})
    if len(values) < 2:
        return Figure(None, len(pairable), f"not enough data: every label is “{values[0]}”")
    # Nominal alpha depends only on how often each value occurs per unit, not on who gave it.
    import krippendorff
    import numpy as np

    counts = np.array([[unit.count(value) for value in values] for unit in pairable])
    alpha = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    return Figure(float(alpha), len(pairable))


def topic_agreement(data: Annotations, topic: str) -> TopicAgreement:
    """Agreement on whether `topic` applies to a passage and, where both say so, on its stance."""
    presence_units = [[_presence(labels, topic) for labels in by.values()] for by in data.values()]
    stance_units = [[labels[topic] for labels in by.values() if topic in labels] for by in data.values()]
    pairs = []
    for first, second in combinations(annotator_names(data), 2):
        both = [by for by in data.values() if first in by and second in by]
        presence = cohen_kappa(*_columns([(_presence(by[first], topic), _presence(by[second], topic)) for by in both]))
        stances = [(by[first][topic], by[second][topic]) for by in both if topic in by[first] and topic in by[second]]
        pairs.append(Pair(first, second, presence, cohen_kappa(*_columns(stances))))
    return TopicAgreement(topic, pairs, krippendorff_alpha(presence_units), krippendorff_alpha(stance_units))


def _presence(labels: dict[str, str], topic: str) -> str:
    return PRESENT if topic in labels else ABSENT


def _columns(pairs: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return [a for a, _ in pairs], [b for _, b in pairs]


def annotator_names(data: Annotations) -> list[str]:
    """The annotators who labelled any passage, by name."""
    return sorted({annotator for by in data.values() for annotator in by})


def reviewed_counts(data: Annotations) -> tuple[Counter, int]:
    """Passages reviewed per annotator, and how many passages two or more annotators reviewed."""
    per_annotator = Counter(annotator for by in data.values() for annotator in by)
    return per_annotator, sum(1 for by in data.values() if len(by) >= 2)


@dataclass
class Disagreement:
    """A passage whose annotators differ on its topics or stances, with any adjudication."""

    passage: dict
    labels: dict[str, dict[str, dict]]
    adjudication: dict[str, dict] | None
    differing: set[str] = field(default_factory=set)

    def topics(self, order: tuple[str, ...]) -> list[str]:
        """The topics anyone gave this passage, in taxonomy order."""
        used = {t for by in self.labels.values() for t in by} | set(self.adjudication or {})
        return [t for t in order if t in used]

    def proposal(self, topic: str) -> tuple[str | None, str]:
        """The stance ('' for "not about it", None for undecided) and holder the form starts from."""
        if self.adjudication is not None:
            label = self.adjudication.get(topic)
            return (label["stance"], label["holder"] or "") if label else ("", "")
        holders = Counter(by[topic]["holder"] for by in self.labels.values() if topic in by and by[topic]["holder"])
        holder = holders.most_common(1)[0][0] if holders else ""
        if topic in self.differing:
            return None, holder
        first = next(iter(self.labels.values()))
        return (first[topic]["stance"] if topic in first else ""), holder


def disagreements(db, passage_id: int | None = None) -> list[Disagreement]:
    """Passages two or more annotators labelled differently, or that carry an adjudication.

    Adjudicated passages stay listed after the annotators come to agree, because the
    adjudication still decides what the comparison shows until it is withdrawn.
    """
    where, params = ("AND p.id = ?", [passage_id]) if passage_id is not None else ("", [])
    rows = db.query(
        f"""SELECT p.id, p.document, p.position, p.text, d.title, d.kind, d.outlet, d.date,
        l.annotator, l.topic, l.stance, l.holder FROM passages p
        JOIN labels l ON {SAME_TEXT}
        JOIN documents d ON d.id = p.document
        WHERE p.kind = 'content' {where} ORDER BY p.document, p.position, l.annotator""",
        params,
    )
    found: dict[int, Disagreement] = {}
    for row in rows:
        item = found.get(row["id"])
        if item is None:
            passage = {k: row[k] for k in ("id", "document", "position", "text", "outlet", "date")}
            passage["title"] = display_title(row["title"], row["kind"], row["outlet"], row["date"])
            item = found[row["id"]] = Disagreement(passage, {}, None)
        if row["annotator"] == ADJUDICATOR:
            item.adjudication = item.adjudication or {}
            target = item.adjudication
        else:
            target = item.labels.setdefault(row["annotator"], {})
        if row["topic"]:
            target[row["topic"]] = {"stance": row["stance"], "holder": row["holder"]}
    result = []
    for item in found.values():
        item.differing = _differing(item.labels)
        if item.differing or item.adjudication is not None:
            result.append(item)
    return result


def _differing(labels: dict[str, dict[str, dict]]) -> set[str]:
    """Topics on which annotators differ: some use it and some not, or their stances differ."""
    if len(labels) < 2:
        return set()
    topics = {t for by in labels.values() for t in by}
    return {t for t in topics if len({by[t]["stance"] if t in by else None for by in labels.values()}) > 1}


def adjudicate(db, passage_id: int, choices: list[editor.Choice], by: str, note: str | None = None):
    """Record a passage's adjudicated labels as the adjudicator's, in the history like any change.

    The labels are stored under the reserved ADJUDICATOR name, which is what makes them count;
    the change's note names `by`, the person who decided. Who may adjudicate is the caller's check.

    Returns the recorded change, or None when the adjudication is already exactly this.
    """
    return editor.save(db, passage_id, ADJUDICATOR, choices, _why("Adjudicated", by, note))


def withdraw(db, passage_id: int, by: str, note: str | None = None):
    """Remove a passage's adjudication, recorded in the history, so its annotators' labels count again.

    Returns the recorded change, or None when the passage had no adjudication.
    """
    def work():
        row = db.execute("SELECT document, position FROM passages WHERE id = ?", [passage_id]).fetchone()
        if row is None:
            raise editor.EditError(f"There is no passage number {passage_id}.")
        return editor.replace(db, row[0], row[1], ADJUDICATOR, [], _why("Adjudication withdrawn", by, note))

    return editor.write(db, work)


def _why(what: str, by: str, note: str | None) -> str:
    if not by or validation.is_adjudicator(by):
        # The stored annotator is always the reserved name; only the note says who decided.
        raise editor.EditError(f"An adjudication records the person who made it; “{by}” does not name one.")
    prefix = f"{what} by {by}"
    note = validation.check_note(note)
    room = validation.MAX_NOTE - len(prefix) - 2
    if note and len(note) > room:
        # The stored note carries who adjudicated; say how long the typed part may be.
        raise validation.LabelError(f"The note is {len(note):,} characters; an adjudication note can be at most"
                                    f" {room} characters, so shorten it.", "note")
    return prefix + (f": {note}" if note else "")
