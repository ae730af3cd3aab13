"""The rules a label must meet, however it arrives: form, API, JSONL batch, label file or exchange format.

Every way in calls `check_label` (and `check_note` and `check_annotator` where it takes notes or
annotators' names) and reports a refusal its own way (a 400,
a line number, a ClickException), but the rule and the words come from here, so a label refused
in one place is refused everywhere, with the same reason.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from webapp.corpus.taxonomy import STANCES
from webapp.labels.current import ADJUDICATOR
from webapp.store.jsonlines import surrogate_message

MAX_HOLDER = 200
MAX_NOTE = 500
# SQLite's largest integer: a position past it cannot even be looked up.
MAX_POSITION = 2**63 - 1
_SHOWN = 40
# Unicode's control characters (category Cc), as one pattern: a label import checks every holder.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class LabelError(ValueError):
    """A label, note or line that breaks a rule; the message says what is wrong and what to do.

    `field` names what was wrong ("topic", "stance", "holder", "note", "annotator", "position",
    "label" for a label's shape, "line" or "json"), for callers that add advice of their own.
    """

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class ValidLabel(NamedTuple):
    """A checked label: topic None means "no topic applies"; the holder is tidied, None if blank."""

    topic: str | None
    stance: str | None
    holder: str | None


def check_label(topic: object, stance: object, holder: object, *, topics: tuple[str, ...]) -> ValidLabel:
    """Check one label against the rules and return it tidied, or raise LabelError.

    The topic must be one of `topics`, or empty (None or "") for "no topic applies"; a topic
    needs a stance from STANCES and no topic allows none; a holder needs a stance, is folded
    to single spaces, may not hold control characters or lone surrogates and is at most
    MAX_HOLDER characters.
    """
    if _empty(topic):
        holder = _text(holder, "The holder", "holder", MAX_HOLDER)
        if not _empty(stance):
            raise LabelError(f"The stance {_shown(stance)} is given without a topic; name the topic it is "
                             "toward, or leave the stance empty.", "stance")
        if holder:
            raise LabelError(f"The holder {_shown(holder)} is given without a stance; give the label a topic "
                             "and a stance, or leave the holder empty.", "holder")
        return ValidLabel(None, None, None)
    topic = check_topic(topic, topics)
    holder = _text(holder, f"The holder for topic {topic}", "holder", MAX_HOLDER)
    if _empty(stance):
        if holder:
            raise LabelError(f"The holder {_shown(holder)} is given without a stance; choose a stance for "
                             f"topic {topic} ({_stances()}), or leave the holder empty.", "holder")
        raise LabelError(f"Topic {topic} needs a stance: {_stances()}.", "stance")
    if stance not in STANCES:
        raise LabelError(f"Unknown stance {_shown(stance)} for topic {topic}; use {_stances()}.", "stance")
    return ValidLabel(topic, stance, holder)


def check_topic(topic: object, topics: tuple[str, ...]) -> str:
    """The topic if it is one of `topics`, else LabelError naming the topics there are."""
    if isinstance(topic, (list, dict)):
        raise LabelError(f"A label has one topic, given as text, not {_shown(topic)}: give each topic a label of "
                         "its own.", "label")
    if not isinstance(topic, str) or topic not in topics:
        known = ", ".join(topics) or "none yet"
        raise LabelError(f"Unknown topic {_shown(topic)}; use one of the taxonomy's topics: {known}.", "topic")
    return topic


def check_distinct(topics: list[str]) -> None:
    """Refuse a set of labels that gives one topic twice: a passage has one stance per topic."""
    seen = set()
    for topic in topics:
        if topic in seen:
            raise LabelError(f"Topic {topic} is given twice; give each topic once.", "topic")
        seen.add(topic)


def check_no_topic_alone(topics: list[str | None]) -> None:
    """Refuse “no topic applies” (an empty topic) beside any other label of one annotator on one passage."""
    if len(topics) > 1 and not all(topics):
        raise LabelError("“No topic applies” cannot sit beside topic labels of the same passage and annotator;"
                         " keep one or the other.", "topic")


def check_label_set(topics: list[str | None]) -> None:
    """Refuse one annotator's labels on one passage that give a topic twice, or “no topic applies”
    (an empty topic) beside a topic."""
    check_no_topic_alone(topics)
    check_distinct([t for t in topics if t])


def check_note(note: str | None) -> str | None:
    """A change's or link's note folded to single spaces (None if blank); LabelError if it is over
    MAX_NOTE characters or holds a control character or a lone surrogate."""
    return _text(note, "The note", "note", MAX_NOTE)


def check_name(name: str | None, what: str, limit: int) -> str | None:
    """A name (an argument's, say) folded to single spaces (None if blank); LabelError if it is over
    `limit` characters or holds a control character or a lone surrogate."""
    return _text(name, what, "name", limit)


def check_position(position: object) -> int:
    """A passage position from a file: a whole number from 0 to MAX_POSITION, else LabelError."""
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= MAX_POSITION:
        raise LabelError(f"position must be a whole number >= 0 (and below 2^63), not {_shown(position)}", "position")
    return position


def check_annotator(name: object) -> str:
    """An imported label's annotator, refused when it is the reserved adjudicator or not a storable name.

    Adjudications are recorded on the Disagreements page by someone allowed to adjudicate; a
    file that names the adjudicator would make its labels overrule everyone's.
    """
    if not isinstance(name, str) or not name.strip():
        raise LabelError(f"The annotator must be a name, not {_shown(name)}.", "annotator")
    _check_surrogates(name, "The annotator", "annotator")
    if is_adjudicator(name):
        raise LabelError(f"The annotator “{ADJUDICATOR}” is reserved for labels adjudicated on the Disagreements "
                         "page and cannot be imported; give these labels the name of the person who made them.",
                         "annotator")
    return name


def is_adjudicator(name: str) -> bool:
    """True when `name` reads as the reserved adjudicator, in any case or width, spaces around it aside."""
    return unicodedata.normalize("NFKC", name.strip()).casefold() == ADJUDICATOR


def _check_surrogates(value: str, what: str, field: str) -> None:
    bad = _SURROGATE.search(value)
    if bad is not None:
        raise LabelError(surrogate_message(what, f"{ord(bad.group()):04X}"), field)


def _text(value: object, what: str, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LabelError(f"{what} must be text, not {value!r}.", field)
    # Folding first: a pasted line break or tab is spacing, not a character to refuse or count.
    value = " ".join(value.split())
    _check_surrogates(value, what, field)
    bad = _CONTROL.search(value)
    if bad is not None:
        raise LabelError(f"{what} contains a control character (U+{ord(bad.group()):04X}); remove it.", field)
    if len(value) > limit:
        raise LabelError(f"{what} is {len(value):,} characters; a {field} can be at most {limit} characters, "
                         "so shorten it.", field)
    return value or None


def _empty(value: object) -> bool:
    return value is None or value == ""


def _shown(value: object) -> str:
    if not isinstance(value, str):
        # A list or object from a file may be long; its start is enough to recognise it.
        shown = repr(value)
        return shown[:_SHOWN] + "…" if len(shown) > _SHOWN else shown
    return f"“{value[:_SHOWN]}…”" if len(value) > _SHOWN else f"“{value}”"


def _stances() -> str:
    return ", ".join(STANCES[:-1]) + f" or {STANCES[-1]}"
