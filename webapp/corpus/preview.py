"""The split preview of a document being added: merge, split and re-mark passages before saving.

A draft is a list of passages, each with the kind a person chose and the kind the splitter
gave it. What the person decided must survive a rebuild from files, so a draft is saved as
text that re-splits into exactly these passages (one paragraph each, blank lines between) plus
the kinds that differ from the splitter's, by position (see `corpus`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.corpus import splitting
from webapp.corpus.textfiles import BadInput

# A sentence ends at . ! ? or … (maybe closed by a quote or bracket) before a capital or digit.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])")


@dataclass(frozen=True)
class DraftPassage:
    """One passage of a draft: its text, the kind chosen, and the kind the splitter gave it."""

    text: str
    kind: str
    auto: str

    @property
    def overridden(self) -> bool:
        """True when a person chose a kind other than the splitter's."""
        return self.kind != self.auto


def from_text(text: str) -> list[DraftPassage]:
    """The splitter's draft of a text: every passage with the kind it was given."""
    return [DraftPassage(p.text, p.kind, p.kind) for p in splitting.split(text)]


def from_form(texts: list[str], kinds: list[str], autos: list[str]) -> list[DraftPassage]:
    """Rebuild a draft from the preview form's repeated fields, dropping emptied passages."""
    if not (len(texts) == len(kinds) == len(autos)):
        raise BadInput("The preview form was incomplete; start again from the text.")
    unknown = sorted({k for k in kinds + autos if k not in splitting.KIND_LABELS})
    if unknown:
        raise BadInput(f"Unknown passage kind {unknown[0]!r}.")
    # Typed line breaks only matter to Split; otherwise a passage is one paragraph.
    return [DraftPassage(t, k, a) for t, k, a in zip(texts, kinds, autos) if t.strip()]


def text_of(draft: list[DraftPassage]) -> str:
    """The text that re-splits into exactly the draft's passages."""
    return "".join(_one_line(p.text) + "\n\n" for p in draft).rstrip("\n") + "\n"


def overrides(draft: list[DraftPassage]) -> dict[int, str]:
    """Kinds chosen by hand that differ from what the splitter gives the saved text, by position."""
    autos = splitting.split(text_of(draft))
    return {i: p.kind for i, (p, a) in enumerate(zip(draft, autos)) if p.kind != a.kind}


def refresh(draft: list[DraftPassage]) -> list[DraftPassage]:
    """Re-run the splitter over the draft's text, keeping the kinds people chose by hand."""
    autos = splitting.split(text_of(draft))
    return [
        DraftPassage(a.text, p.kind if p.overridden else a.kind, a.kind) for p, a in zip(draft, autos)
    ]


def merge(draft: list[DraftPassage], index: int) -> list[DraftPassage]:
    """Join passage `index` with the next one; the result takes the splitter's kind."""
    if not 0 <= index < len(draft) - 1:
        raise BadInput("There is no next passage to merge with.")
    joined = _one_line(draft[index].text) + " " + _one_line(draft[index + 1].text)
    return refresh([*draft[:index], DraftPassage(joined, "", ""), *draft[index + 2 :]])


def split(draft: list[DraftPassage], index: int) -> list[DraftPassage]:
    """Split passage `index` at the line breaks typed into it, else at the middle sentence break."""
    if not 0 <= index < len(draft):
        raise BadInput("There is no such passage to split.")
    text = splitting.normalise(draft[index].text).strip()
    parts = [line for line in text.split("\n") if line.strip()]
    if len(parts) < 2:
        parts = _halves(_one_line(text))
    if len(parts) < 2:
        raise BadInput(
            f"Passage {index + 1} is a single sentence. Put a line break where it should split, then press Split."
        )
    pieces = [DraftPassage(part, "", "") for part in parts]
    return refresh([*draft[:index], *pieces, *draft[index + 1 :]])


def apply(draft: list[DraftPassage], action: str) -> list[DraftPassage]:
    """Apply a preview action: "merge-N", "split-N", or anything else to just refresh."""
    match = re.fullmatch(r"(merge|split)-(\d+)", action or "")
    if not match:
        return refresh(draft)
    edit = merge if match.group(1) == "merge" else split
    return edit(draft, int(match.group(2)))


def _halves(text: str) -> list[str]:
    breaks = [m for m in _SENTENCE_BREAK.finditer(text)]
    if not breaks:
        return [text]
    middle = min(breaks, key=lambda m: abs(m.start() - len(text) / 2))
    return [text[: middle.start()] + middle.group().strip(), text[middle.end() :]]


def _one_line(text: str) -> str:
    return " ".join(splitting.normalise(text).split())
