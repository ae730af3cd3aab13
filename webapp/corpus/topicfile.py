"""Changing the topics of a corpus: edits to `labels/taxonomy.toml` that keep its comments and layout.

Every change reads the file, applies itself with tomlkit, checks the result with the one taxonomy
validator, then writes the file atomically and brings the database's topics table in step. The
whole read-modify-write runs inside a write transaction, so two workers editing at once queue
instead of one overwriting the other's change, and a failed file write leaves the database as it was.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Comment, Whitespace

from webapp.corpus import taxonomy
from webapp.corpus.taxonomy import DEFAULT_STANCE_LABELS, RESERVED_IDS, STANCES, Taxonomy, TaxonomyError, Topic
from webapp.corpus.textfiles import BadInput
from webapp.store.files import atomic_write

FILE_NAME = "taxonomy.toml"
NEW_FILE = "# Counterpoint taxonomy: the topics of this corpus.\n\n"
# The fields a topic form sets; the three stance wordings go into the topic's `labels` table.
TEXT_FIELDS = ("name", "description", "target", "key")
FORM_FIELDS = (*TEXT_FIELDS, *STANCES)
MAX_LENGTHS = {"name": 120, "description": 2000, "target": 500, "key": 1, **{s: 80 for s in STANCES}}
MAX_ID = 40


def path_in(labels_dir: Path) -> Path:
    """The taxonomy file of a labels folder."""
    return Path(labels_dir) / FILE_NAME


def listing(labels_dir: Path) -> list[Topic]:
    """Every topic in file order, retired ones included, as the page that manages them lists them."""
    path = path_in(labels_dir)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    tax = _validate(text, f"labels/{FILE_NAME} needs fixing by hand")
    data = tomllib.loads(text)
    by_id = {t.id: t for t in (*tax.topics, *tax.retired)}
    return [by_id[raw["id"]] for raw in data.get("topics", [])]


def find(labels_dir: Path, topic_id: str) -> Topic | None:
    """The topic with this id, in use or retired, or None."""
    return next((t for t in listing(labels_dir) if t.id == topic_id), None)


def suggest_id(name: str, taken: tuple[str, ...] | set[str] = ()) -> str:
    """An id made from a name: lowercase letters, digits and _, not taken, e.g. "Women's rights" → womens_rights."""
    plain = re.sub(r"['’]", "", name.lower())
    base = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:MAX_ID].rstrip("_") or "topic"
    if not base[0].isalpha():
        base = f"topic_{base}"[:MAX_ID]
    candidate, n = base, 2
    while candidate in taken or candidate in RESERVED_IDS:
        suffix = f"_{n}"
        candidate, n = base[: MAX_ID - len(suffix)] + suffix, n + 1
    return candidate


def add_topic(db, labels_dir: Path, fields: Mapping[str, str]) -> Topic:
    """Append a topic made from form fields (an empty id is made from the name); returns it."""
    fields = _tidy(fields)
    typed = str(fields.get("id") or "").strip()

    def apply(doc, tax: Taxonomy) -> str:
        topic_id = typed or suggest_id(fields["name"], set(tax.known_ids))
        owner = _topic(tax, topic_id)
        if owner is not None:
            raise BadInput(f"The id “{topic_id}” is already taken by the topic “{owner.name}”; choose another.")
        _refuse_taken_key(tax, fields["key"], topic_id)
        table = tomlkit.table()
        table["id"] = topic_id
        _set_fields(table, fields, None)
        topics = _topics(doc)
        if len(topics):
            _end_with_blank_line(topics[-1])
        topics.append(table)
        return topic_id

    tax, topic_id = _change(db, labels_dir, apply)
    return _topic(tax, topic_id)


def update_topic(db, labels_dir: Path, topic_id: str, fields: Mapping[str, str]) -> Topic:
    """Set a topic's name, description, target, key and stance wordings; its id never changes."""
    fields = _tidy(fields)

    def apply(doc, tax: Taxonomy) -> None:
        table, topic = _table(doc, tax, topic_id)
        if not topic.retired:
            _refuse_taken_key(tax, fields["key"], topic_id)
        _set_fields(table, fields, topic)

    return _topic(_change(db, labels_dir, apply)[0], topic_id)


def move_topic(db, labels_dir: Path, topic_id: str, direction: str) -> bool:
    """Move a topic in use one place "up" or "down" among the topics in use; False if it is already at that end."""
    if direction not in ("up", "down"):
        raise BadInput("A topic moves up or down.")

    def apply(doc, tax: Taxonomy) -> bool:
        _, topic = _table(doc, tax, topic_id)
        if topic.retired:
            raise BadInput(f"“{topic.name}” is retired, so it has no place in the order; restore it first.")
        order = [t.id for t in tax.topics]
        at = order.index(topic_id)
        to = at - 1 if direction == "up" else at + 1
        if not 0 <= to < len(order):
            return False
        _swap(_topics(doc), topic_id, order[to])
        return True

    return _change(db, labels_dir, apply)[1]


def retire_topic(db, labels_dir: Path, topic_id: str) -> Topic:
    """Take a topic out of use: pages and the labelling queue drop it, its labels and label files stay."""
    def apply(doc, tax: Taxonomy) -> None:
        table, _ = _table(doc, tax, topic_id)
        table["retired"] = True

    return _topic(_change(db, labels_dir, apply)[0], topic_id)


def restore_topic(db, labels_dir: Path, topic_id: str) -> Topic:
    """Put a retired topic back in use, with the labels it had."""
    def apply(doc, tax: Taxonomy) -> None:
        table, topic = _table(doc, tax, topic_id)
        _refuse_taken_key(tax, topic.key, topic_id, restoring=True)
        if "retired" in table:
            del table["retired"]

    return _topic(_change(db, labels_dir, apply)[0], topic_id)


def _change(db, labels_dir: Path, apply: Callable) -> tuple[Taxonomy, object]:
    """Read, change, validate, write and sync, all inside one write transaction on the database."""
    path = path_in(labels_dir)
    # Taking the write lock before reading the file makes a second editor wait for the first
    # one's file, so neither change is lost.
    db.execute("BEGIN IMMEDIATE")
    try:
        before = path.read_text(encoding="utf-8") if path.exists() else NEW_FILE
        doc = _parse(before)
        result = apply(doc, _validate(before))
        text = tomlkit.dumps(doc)
        tax = _validate(text)
        taxonomy.sync(db, tax)
        if text != before or not path.exists():
            atomic_write(path, text)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return tax, result


def _parse(text: str):
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise BadInput(f"labels/{FILE_NAME} is not valid TOML ({exc}); fix it by hand first.") from None


def _validate(text: str, problem: str = "Not saved") -> Taxonomy:
    """The taxonomy the text describes, by the one validator; its complaint reworded for a form."""
    try:
        return taxonomy.parse(tomllib.loads(text), FILE_NAME)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"labels/{FILE_NAME} is not valid TOML ({exc}); fix it by hand first.") from None
    except TaxonomyError as exc:
        reason = re.sub(rf"^{re.escape(FILE_NAME)}: (topic [^:]+: )?", "", str(exc))
        raise BadInput(f"{problem}: {reason.rstrip('.')}.") from None


def _tidy(fields: Mapping[str, str]) -> dict[str, str]:
    """Form values on one line each, checked for length and a name."""
    tidy = {f: " ".join(str(fields.get(f) or "").split()) for f in FORM_FIELDS}
    tidy["id"] = str(fields.get("id") or "").strip()
    for name, limit in MAX_LENGTHS.items():
        if name == "key" and len(tidy[name]) > limit:
            raise BadInput("A key is a single character, such as r; leave it empty for none.")
        if len(tidy[name]) > limit:
            raise BadInput(f"The {name} is {len(tidy[name])} characters long; at most {limit} fit.")
    if not tidy["name"]:
        raise BadInput("Give the topic a name.")
    return tidy


def _set_fields(table, fields: dict[str, str], topic: Topic | None) -> None:
    """Write the fields that changed; an emptied optional field, or a default wording, leaves the file."""
    for name in TEXT_FIELDS:
        if topic is not None and getattr(topic, name) == fields[name]:
            continue
        if fields[name]:
            table[name] = fields[name]
        elif name in table:
            del table[name]
    current = topic.labels if topic is not None else DEFAULT_STANCE_LABELS
    wanted = {s: fields[s] or DEFAULT_STANCE_LABELS[s] for s in STANCES}
    changed = [s for s in STANCES if wanted[s] != current[s]]
    if not changed:
        return
    if "labels" not in table:
        table["labels"] = tomlkit.inline_table()
    labels = table["labels"]
    for stance in changed:
        if wanted[stance] != DEFAULT_STANCE_LABELS[stance]:
            labels[stance] = wanted[stance]
        elif stance in labels:
            del labels[stance]
    if not len(labels):
        del table["labels"]


def _refuse_taken_key(tax: Taxonomy, key: str, topic_id: str, restoring: bool = False) -> None:
    other = next((t for t in tax.topics if key and t.key == key and t.id != topic_id), None)
    if other is None:
        return
    fix = "give this topic another key first" if restoring else "choose another"
    raise BadInput(f"The key “{key}” already toggles “{other.name}” in the labelling queue; {fix}.")


def _topics(doc):
    """The document's array of [[topics]] tables, made when the file has none."""
    if "topics" not in doc:
        text = doc.as_string()
        if text.strip() and not text.endswith("\n\n"):
            doc.add(tomlkit.nl())
        doc["topics"] = tomlkit.aot()
    return doc["topics"]


def _table(doc, tax: Taxonomy, topic_id: str):
    """The file's table of a topic and the topic it describes; BadInput when there is none."""
    topic = _topic(tax, topic_id)
    if topic is None:
        raise BadInput(f"There is no topic “{topic_id}” in labels/{FILE_NAME}.")
    return next(t for t in _topics(doc) if t.get("id") == topic_id), topic


def _topic(tax: Taxonomy, topic_id: str) -> Topic | None:
    return next((t for t in (*tax.topics, *tax.retired) if t.id == topic_id), None)


def _swap(topics, first_id: str, second_id: str) -> None:
    """Swap two tables, each taking along the comment lines written just above it."""
    ids = [t.get("id") for t in topics]
    i, j = sorted((ids.index(first_id), ids.index(second_id)))
    tables = list(topics)
    leads = [[]] + [_pop_trailing(t) for t in tables[:-1]]
    tail = _pop_trailing(tables[-1])
    # The first table's comments are the file's own preamble; whatever moves to the top keeps
    # its comments just below itself, as there is no other place for them.
    top_lead = leads[j] if i == 0 else []
    if i == 0:
        leads[j] = []
    tables[i], tables[j], leads[i], leads[j] = tables[j], tables[i], leads[j], leads[i]
    for k in range(len(tables) - 1, -1, -1):
        del topics[k]
    for k, table in enumerate(tables):
        after = leads[k + 1] if k + 1 < len(tables) else tail
        for item in (top_lead if k == 0 else []) + after:
            table.value.body.append((None, item))
        if k + 1 < len(tables):
            _end_with_blank_line(table)
        topics.append(table)


def _pop_trailing(table) -> list:
    """Remove and return the blank and comment lines at the end of a table (they precede the next one)."""
    body, popped = table.value.body, []
    while body and body[-1][0] is None and isinstance(body[-1][1], (Comment, Whitespace)):
        popped.insert(0, body.pop()[1])
    return popped


def _end_with_blank_line(table) -> None:
    """Make sure a blank line separates a table from the one appended after it."""
    if not table.as_string().endswith("\n\n"):
        table.add(tomlkit.nl())
