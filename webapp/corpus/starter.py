"""A new, empty corpus folder: `seeds/`, a taxonomy with no topics yet, and a codebook template."""

from __future__ import annotations

import shlex
from pathlib import Path

from webapp.corpus.sources import CorpusError
from webapp.store.files import WrittenFiles

TAXONOMY = """\
# The topics of this corpus. Add them in the browser (Topics → Add a topic) or here, one
# [[topics]] table each, in the order the app shows them; then run `counterpoint load`.
#
# id        lowercase letters, digits and _ (e.g. "housing_policy"). Label files name topics by
#           id, so keep it once passages are labelled; rename the topic with `name` instead.
# name      what people read on every page.
# description  what the topic covers, in a sentence.
# target    the target proposition: one claim someone can agree or disagree with. A passage's
#           stance (favour, neutral or against) is always toward this claim, never toward the
#           topic in general. Until it is set, pages show the topic as "target missing".
# labels    how the three stances read for this topic. The stance ids favour, neutral and
#           against are fixed; only their wording changes. Each defaults to Favour, Neutral
#           or Against.
# key       one character that toggles the topic in the labelling queue; unique among the
#           topics in use.
# retired   true takes a topic out of use (pages, labelling, keys) but keeps its labels and
#           its id. Delete a table only if no passage carries its topic.
#
# An example, to copy without the leading "# ":
#
# [[topics]]
# id = "rent_control"
# name = "Rent control"
# description = "Caps on rents and rent increases for existing and new tenancies."
# target = "Capping rents is good policy."
# key = "r"
# labels = { favour = "Supports caps", neutral = "Neutral", against = "Opposes caps" }
"""

GUIDELINES = """\
# Labelling guidelines (codebook)

This codebook says how passages of this corpus are labelled, so that two annotators reading the
same passage reach the same label. The topics themselves live in `labels/taxonomy.toml`; every
topic there gets a section here. When a label and this codebook disagree, one of them is wrong:
fix it rather than work around it.

## 1. What a label records

For one passage and one topic, a label records:

- **topic**: a topic the passage actually says something about;
- **stance**: the stance of the view the passage expresses toward the topic's *target
  proposition*: `favour`, `neutral` or `against`;
- **holder**: whose view that is.

A passage may carry several topics, each with its own stance and holder.

## 2. Which passages to label

Counterpoint splits each document into passages and marks each one's kind. Only `content`
passages (running prose: reporting, argument, quotations) are labelled. Headings, bylines,
captions, navigation, adverts, author blurbs, disclaimers and repeated paragraphs are not, even
when they mention a topic. If the splitter gets a kind wrong, correct the kind; don't compensate
in the labels.

## 3. Target propositions

Each topic states one **target proposition**: a claim a person can agree or disagree with, such
as "Capping rents is good policy." A topic name ("Rent control") is not a target: it has no side
to take. Write the target so that the sides people actually take in your sources map onto
`favour` and `against`. Stances are always read against the target, never against the topic in
general, and never against the tone of the passage.

## 4. Choosing a stance

1. Find the view the passage expresses on the topic.
2. Read that view against the target proposition:
   - **favour**: the view supports the target (argues for it, welcomes it, defends it);
   - **against**: the view rejects it (argues against it, condemns it, warns about it);
   - **neutral**: the passage addresses the topic without taking or relaying a side: facts,
     figures, the state of play, a question, a debate presented from both sides, or an actor's
     statement that is itself non-committal.
3. Judge each passage on what it says, using the rest of the document only to resolve
   references ("he", "this plan"). Don't copy an author's overall position onto a passage that
   only reports.
4. A topic only mentioned in passing, with nothing said about it, is not labelled.

## 5. The holder: whose view it is

- The author's own argument is held by the author (for example "op-ed author <name>").
- A view the passage relays (a quotation, "X said", "according to X") is held by that actor,
  with the role the text gives them.
- Neutral reporting is held by the author or the outlet (for example "news report, <outlet>").
- When two actors disagree in one passage, label the view the passage is built to convey
  (usually the one that gets the last word), and note the other under hard cases.
- Write each holder the same way every time: keep the list in section 8 and add a row before
  using a new holder.

## 6. No topic applies

A content passage that says nothing about any topic gets the label "no topic applies", so that
it counts as reviewed. Use it only when no topic is addressed at all; a passage that addresses a
topic without taking a side is `neutral` on that topic.

## 7. Topics

One section per topic in `labels/taxonomy.toml`, in the same order. Copy the template below for
each topic and replace every <placeholder>.

### 7.1 `<topic id>`: <topic name>

- **Target:** "<the target proposition, exactly as in taxonomy.toml>"
- **In scope:** <what a passage must talk about to get this topic>
- **Out of scope:** <near misses that do not get this topic, and where they go instead>
- **favour:** <what supporting the target looks like in your sources, with a short example>
- **neutral:** <what reporting without a side looks like, with a short example>
- **against:** <what rejecting the target looks like, with a short example>

## 8. Holders (canonical forms)

| holder (exact string) | who | documents |
|---|---|---|
| <holder> | <who they are> | <documents where they appear> |

## 9. Hard cases

Record each decision taken on a difficult passage here (document, position, the label chosen
and why), so that the next annotator decides the same way.
"""


def create(root: Path) -> list[Path]:
    """Start an empty corpus in `root` and return the paths created, or raise CorpusError.

    A folder that already holds a corpus (a taxonomy, a codebook or documents) is refused and
    left as it was; an empty or unrelated folder is fine.
    """
    seeds, labels = root / "seeds", root / "labels"
    files = {labels / "taxonomy.toml": TAXONOMY, labels / "GUIDELINES.md": GUIDELINES}
    if root.exists() and not root.is_dir():
        raise CorpusError(f"{root} is a file, not a folder; choose a folder for the new corpus")
    if seeds.exists() and not seeds.is_dir():
        raise CorpusError(f"{seeds} is a file; move it away to start a corpus in {root}")
    taken = [path for path in files if path.exists()]
    if seeds.is_dir() and any(seeds.iterdir()):
        taken.append(seeds)
    if taken:
        raise CorpusError(
            f"{root} already holds a corpus ({', '.join(str(p.relative_to(root)) for p in taken)});"
            f" nothing was changed. Serve it with `counterpoint --corpus {shlex.quote(str(root))} run`, or choose a"
            " new folder."
        )
    seeds.mkdir(parents=True, exist_ok=True)
    # Both files land or neither does, so a failed start leaves no half-made taxonomy behind.
    # instance/ holds the database and the secret key: rebuilt or private, never shared in git.
    ignore = root / ".gitignore"
    if not ignore.exists():
        files[ignore] = "instance/\n"
    with WrittenFiles() as written:
        for path, content in files.items():
            written.write(path, content)
    return [seeds, *files]
