"""The rules a label must meet, however it arrives: form, API, JSONL batch, label file or exchange format.

Every way in calls `check_label` (and `check_note`, `check_line` where it takes notes or lines)
and reports a refusal its own way (a 400, a line number, a ClickException), but the rule and
the words come from here, so a label refused in one place is refused everywhere, with the
same reason.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from webapp.corpus.taxonomy import STANCES

MAX_HOLDER = 200
MAX_NOTE = 500
MAX_LINE_BYTES = 1_000_000
# A UTF-8 character takes at most four bytes, so a line this short cannot be over the limit.
_SHORT_LINE = MAX_LINE_BYTES // 4
_SHOWN = 40
# Unicode's control characters (category Cc), as one pattern: a label import checks every holder.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class LabelError(ValueError):
    """A label, note or line that breaks a rule; the message says what is wrong and what to do.

    `field` names what was wrong ("topic", "stance", "holder", "note" or "line"), for callers
    that add advice of their own.
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
    to single spaces, may not hold control characters and is at most MAX_HOLDER characters.
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
    MAX_NOTE characters or holds a control character."""
    return _text(note, "The note", "note", MAX_NOTE)


def check_line(line: str) -> None:
    """Refuse a line of a JSON Lines file longer than MAX_LINE_BYTES, before it is parsed."""
    if len(line) <= _SHORT_LINE:
        return
    size = len(line.encode("utf-8", "surrogatepass"))
    if size > MAX_LINE_BYTES:
        raise LabelError(f"The line is {size:,} bytes; a line can be at most {MAX_LINE_BYTES:,} bytes: "
                         "shorten that passage's text, or check that this is the right file.", "line")


def _text(value: object, what: str, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LabelError(f"{what} must be text, not {value!r}.", field)
    # Folding first: a pasted line break or tab is spacing, not a character to refuse or count.
    value = " ".join(value.split())
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
        return repr(value)
    return f"“{value[:_SHOWN]}…”" if len(value) > _SHOWN else f"“{value}”"


def _stances() -> str:
    return ", ".join(STANCES[:-1]) + f" or {STANCES[-1]}"
