"""Split a document's text into paragraph passages and mark the ones that are not content.

Scraped articles carry furniture around the prose: titles, bylines, breadcrumb navigation,
photo captions, ad markers, author blurbs, legal disclaimers and repeated paragraphs. The
splitter keeps all of it (the document page shows it) but tags it with a `kind` so that only
`content` passages reach the comparison and the labelling queue.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

CONTENT = "content"
HEADING = "heading"
BYLINE = "byline"
NAVIGATION = "navigation"
CAPTION = "caption"
AD = "ad"
AUTHOR_BLURB = "author_blurb"
DISCLAIMER = "disclaimer"
REPEATED = "repeated"

KIND_LABELS = {
    CONTENT: "Content",
    HEADING: "Heading or title",
    BYLINE: "Byline",
    NAVIGATION: "Site navigation",
    CAPTION: "Photo caption",
    AD: "Advertisement marker",
    AUTHOR_BLURB: "Author blurb",
    DISCLAIMER: "Legal disclaimer",
    REPEATED: "Repeated paragraph",
}

_AD_MARKERS = {"advertisement", "advertisment", "advertising", "sponsored", "ad", "promoted"}
_BYLINE = re.compile(r"^(by|written by|words by)\s+\S.{0,80}$", re.IGNORECASE)
_BLURB = re.compile(
    r"^[A-Z][\w'’.-]*(\s+[A-Z][\w'’.-]*){0,4}\s*(,|\s+is\s+(an?\s+|the\s+)?)"
    r".{0,160}\b(director|professor|fellow|editor|correspondent|journalist|researcher|"
    r"analyst|author|founder|chair|head|lecturer|writer)\b",
    re.IGNORECASE,
)
_REPUBLISHED = re.compile(
    r"^this (op-?ed|article|piece|column|story) (was|is|has been) (originally |first )?"
    r"(published|written|adapted)",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^(legal disclaimer:?|disclaimer:?|.{0,80}\bprovides this (news )?content\b|"
    r".{0,40}\bviews expressed (in this|here)\b.{0,40}\b(do not|don't) necessarily)",
    re.IGNORECASE,
)
_PROMO = re.compile(r"\b(whatsapp|telegram) channel$|^(follow us|subscribe|sign up)\b", re.I)
_NAV_PREFIX = re.compile(r"^(?i:home|news)\b(\s+[A-Z][\w&'-]*){2,}")
# News pages print a line of credits beside the byline: how long ago the piece went up, and the
# desk, staff or wire agency credited instead of a person ("- Web Desk", "- 7 Hours ago"). The
# dashes and bullets that separated them on the page are left at the start of a line, or alone.
_BULLETS = re.compile(r"^[-–—•·*|›»]+\s*")
_CREDIT_SEPARATOR = re.compile(r"\s+[-–—•·|]\s+")
_TIME_AGO = re.compile(
    r"((updated|published|posted)\s*:?\s*)?(\d+\s*|(an?|one|a few)\s+)"
    r"(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|months?|y|yrs?|years?)\s+ago",
    re.IGNORECASE,
)
_AGENCY = r"(afp|ap|app|ani|pti|ians|reuters|xinhua|dpa|agencies|news agencies)"
_CREDIT = re.compile(
    rf"(by\s+)?(((our|staff|special|senior)\s+)+(reporter|correspondent|writer)s?|(?-i:[A-Z][\w&'-]*\s+){{1,2}}desk|"
    rf"{_AGENCY}(\s*(/|,|&|and)\s*{_AGENCY})*)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)]\s*$")
# The longest paragraph of the seed articles is 1,061 characters, the longest Perspectrum claim or
# perspective 281. A "passage" twenty times the longest real one is text whose paragraph breaks
# were lost (or no prose at all), and every search, suggestion and similarity pass reads it whole.
MAX_PASSAGE = 20_000
_LIMIT = f"a passage can be at most {MAX_PASSAGE:,} characters"
# A hard-wrapped paragraph has lines of similar width; a line shorter than this is never a
# wrapped line, which keeps captions printed twice from being glued together.
_MIN_WRAPPED_LINE = 40


class PassageError(ValueError):
    """A passage over MAX_PASSAGE characters; `line` is where it starts in its text, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Passage:
    """One paragraph of a document: its 0-based position, text, kind and text hash."""

    position: int
    text: str
    kind: str

    @property
    def is_content(self) -> bool:
        """True when the passage carries prose that can be labelled."""
        return self.kind == CONTENT

    @property
    def text_hash(self) -> str:
        """A short hash of the text, part of the passage's stable identity."""
        return text_hash(self.text)


def text_hash(text: str) -> str:
    """Return the sha256 prefix that identifies a passage's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def normalise(text: str) -> str:
    """Normalise Unicode and line endings the same way for every source."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u00a0", " ").replace("\ufeff", "")


def paragraphs(text: str) -> list[str]:
    """Split text into paragraphs: one per line, unless lines are hard-wrapped prose."""
    return [para for _, para in numbered_paragraphs(text)]


def numbered_paragraphs(text: str) -> list[tuple[int, str]]:
    """The paragraphs of `paragraphs`, each with the line of the text it starts on (from 1)."""
    result: list[tuple[int, str]] = []
    text = normalise(text)
    body = text.strip()
    # The separators are kept (odd items) so that line numbers can be counted past them.
    parts = re.split(r"(\n\s*\n)", body)
    number = text[: len(text) - len(text.lstrip())].count("\n") + 1
    # Only a text that separates paragraphs with blank lines can have wrapped lines inside them.
    may_wrap = len(parts) > 1
    for block, separator in zip(parts[::2], [*parts[1::2], ""]):
        lines = [(number + i, " ".join(line.split())) for i, line in enumerate(block.split("\n"))]
        lines = [(n, line) for n, line in lines if line]
        if may_wrap and _is_hard_wrapped([line for _, line in lines]):
            result.append((lines[0][0], " ".join(line for _, line in lines)))
        else:
            result.extend(lines)
        number += block.count("\n") + separator.count("\n")
    return result


def check_passage(text: str) -> str:
    """Return a passage's text if it is at most MAX_PASSAGE characters long, else raise PassageError."""
    if len(text) > MAX_PASSAGE:
        raise PassageError(f"The passage is {len(text):,} characters; {_LIMIT}: a passage is one paragraph, so "
                           "split it where its paragraphs end.")
    return text


def check_paragraphs(text: str) -> None:
    """Refuse a text that would split into a passage over MAX_PASSAGE characters, naming that passage."""
    if len(text) <= MAX_PASSAGE:
        return
    for number, (line, para) in enumerate(numbered_paragraphs(text), start=1):
        if len(para) > MAX_PASSAGE:
            raise PassageError(f"Passage {number} (“{para[:40]}…”) is {len(para):,} characters; {_LIMIT}: put a "
                               "blank line between its paragraphs.", line)


def _is_hard_wrapped(lines: list[str]) -> bool:
    if len(lines) < 2:
        return False
    widest = max(len(line) for line in lines)
    body = lines[:-1]
    return widest <= 120 and all(len(line) >= max(_MIN_WRAPPED_LINE, widest * 0.6) for line in body)


def split(text: str, overrides: dict[int, str] | None = None) -> list[Passage]:
    """Split a document into passages, each tagged with its kind.

    `overrides` maps positions to kinds a person chose by hand; they win over the heuristics,
    and positions past the end are ignored (the text they were made for has changed).
    """
    paras = paragraphs(text)
    kinds = [classify(p, i, paras) for i, p in enumerate(paras)]
    for position, kind in (overrides or {}).items():
        if 0 <= position < len(kinds):
            kinds[position] = kind
    return [Passage(i, p, k) for i, (p, k) in enumerate(zip(paras, kinds))]


def classify(para: str, index: int, paras: list[str]) -> str:
    """Decide the kind of the paragraph at `index` given the whole document."""
    if para.strip().lower().rstrip(".:!") in _AD_MARKERS:
        return AD
    if _DISCLAIMER.match(para):
        return DISCLAIMER
    if _looks_like_navigation(para, index):
        return NAVIGATION
    if _looks_like_byline(para, index, paras):
        return BYLINE
    if _looks_like_caption(para, index, paras):
        return CAPTION
    if _repeats_earlier(para, index, paras) or _contained_in_next(para, index, paras):
        return REPEATED
    if _REPUBLISHED.match(para) or _looks_like_blurb(para, index, paras):
        return AUTHOR_BLURB
    if (index == 0 and _looks_like_title(para)) or _looks_like_heading(para):
        return HEADING
    return CONTENT


def _looks_like_navigation(para: str, index: int) -> bool:
    breadcrumb = index == 0 and _NAV_PREFIX.match(para) and not _SENTENCE_END.search(para)
    # A line without a letter or digit ("-", "•", "* * *") is a separator left from the page.
    separator = not any(ch.isalnum() for ch in para)
    return bool(breadcrumb) or separator or (len(para) < 80 and bool(_PROMO.search(para)))


def _looks_like_byline(para: str, index: int, paras: list[str]) -> bool:
    line = _BULLETS.sub("", para)
    if _BYLINE.match(line) and not _SENTENCE_END.search(line.rstrip(".")):
        return True
    if _is_credit_line(line):
        return True
    return _looks_like_name(para) and _only_short_paragraphs_follow(index, paras)


def _is_credit_line(line: str) -> bool:
    """Nothing but credits and times, e.g. "Web Desk", "Updated 3 min ago", "By AFP | 2 days ago"."""
    parts = _CREDIT_SEPARATOR.split(line.strip())
    return all(_TIME_AGO.fullmatch(part) or _CREDIT.fullmatch(part) for part in parts)


def _repeats_earlier(para: str, index: int, paras: list[str]) -> bool:
    return any(_same(para, earlier) for earlier in paras[:index])


def _contained_in_next(para: str, index: int, paras: list[str]) -> bool:
    """A standfirst that the next paragraph repeats word for word is a duplicate."""
    if index + 1 >= len(paras) or len(para) < 60:
        return False
    return _key(paras[index + 1]).startswith(_key(para))


def _same(a: str, b: str) -> bool:
    return _key(a) == _key(b)


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", text.casefold()).split())


def _looks_like_blurb(para: str, index: int, paras: list[str]) -> bool:
    # Author blurbs sit at the end of a piece; the same wording mid-article is reporting.
    return index >= len(paras) - 4 and len(para) < 300 and bool(_BLURB.match(para))


def _looks_like_name(para: str) -> bool:
    words = para.split()
    return 1 < len(words) <= 4 and all(w[:1].isupper() for w in words) and not _SENTENCE_END.search(para)


def _only_short_paragraphs_follow(index: int, paras: list[str]) -> bool:
    """A name is a sign-off byline when no body text comes after it (else it is a heading)."""
    return index >= len(paras) - 4 and all(len(p) < 300 for p in paras[index + 1 :])


def _looks_like_caption(para: str, index: int, paras: list[str]) -> bool:
    """A short unpunctuated line printed twice in a row is a photo caption and its alt text."""
    if len(para) > 120 or _SENTENCE_END.search(para):
        return False
    neighbours = paras[max(index - 1, 0) : index] + paras[index + 1 : index + 2]
    return any(_same(para, n) for n in neighbours)


def _looks_like_title(para: str) -> bool:
    """The first line of a piece is its title when it is short and has no full stop."""
    return len(para.split()) <= 20 and "." not in para.rstrip(".")[:-1] and not para.endswith(".")


def _looks_like_heading(para: str) -> bool:
    words = para.split()
    if not words or len(words) > 16 or len(para) > 140:
        return False
    if para.rstrip().endswith(("?", ".", "!", "”", '"')):
        return False
    return para[:1].isupper() or para[:1].isdigit()
