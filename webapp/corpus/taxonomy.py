"""Topics and stances are data: read them from a corpus's `labels/taxonomy.toml`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

STANCES = ("favour", "neutral", "against")
DEFAULT_STANCE_LABELS = {"favour": "Favour", "neutral": "Neutral", "against": "Against"}
_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Ids that would shadow a page under /topics/ (the form that adds a topic).
RESERVED_IDS = frozenset({"new"})
TARGET_MISSING = "target missing"


class TaxonomyError(ValueError):
    """The taxonomy file is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Topic:
    """A topic: what it covers, the proposition stances are taken toward, and stance labels."""

    id: str
    name: str
    description: str
    target: str
    key: str = ""
    labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STANCE_LABELS))
    retired: bool = False

    @property
    def target_missing(self) -> bool:
        """True while nobody has stated the proposition this topic's stances are taken toward."""
        return not self.target

    def label(self, stance: str | None) -> str:
        """Return the display text of a stance for this topic."""
        return self.labels.get(stance or "", "No topic")


@dataclass(frozen=True)
class Taxonomy:
    """The ordered topics of a corpus in use, and the retired ones whose labels are kept."""

    topics: tuple[Topic, ...]
    retired: tuple[Topic, ...] = ()

    def get(self, topic_id: str) -> Topic | None:
        """Return the topic with this id, or None."""
        return next((t for t in self.topics if t.id == topic_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        """Topic ids in display order."""
        return tuple(t.id for t in self.topics)

    @property
    def known_ids(self) -> tuple[str, ...]:
        """Ids of every topic a label file may name: those in use, then the retired ones."""
        return self.ids + tuple(t.id for t in self.retired)


def load(path: str | Path) -> Taxonomy:
    """Read and validate a taxonomy file, raising TaxonomyError with the reason."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: no taxonomy file; `counterpoint init DIR` starts a corpus folder with one") from None
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path))


def parse(data: dict, source: str = "taxonomy") -> Taxonomy:
    """Build a Taxonomy from parsed TOML data, validating every topic.

    A new corpus has no topics yet, so an empty file is a valid, empty taxonomy.
    """
    raw_topics = data.get("topics", [])
    if not isinstance(raw_topics, list):
        raise TaxonomyError(f"{source}: topics must be [[topics]] tables")
    topics = tuple(_topic(raw, i, source) for i, raw in enumerate(raw_topics, start=1))
    _check_unique([t.id for t in topics], "topic id", source)
    # A retired topic keeps its key in the file, but only topics in use take keystrokes.
    _check_unique([t.key for t in topics if t.key and not t.retired], "topic key", source)
    return Taxonomy(tuple(t for t in topics if not t.retired), tuple(t for t in topics if t.retired))


def _topic(raw: object, number: int, source: str) -> Topic:
    where = f"{source}: topic {number}"
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: must be a table")
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not _TOPIC_ID.match(topic_id):
        raise TaxonomyError(
            f"{where}: id {topic_id!r} must be lowercase letters, digits and _ (e.g. womens_rights)"
        )
    if topic_id in RESERVED_IDS:
        raise TaxonomyError(f"{where}: id {topic_id!r} is reserved for the page that adds topics; choose another")
    where = f"{source}: topic {topic_id!r}"
    for name in ("name", "target", "description"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise TaxonomyError(f"{where}: {name!r} must be text, not {raw[name]!r:.60}")
    if not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise TaxonomyError(f"{where}: missing 'name'")
    key = raw.get("key", "")
    if not isinstance(key, str) or len(key) > 1:
        raise TaxonomyError(f"{where}: key must be a single character")
    retired = raw.get("retired", False)
    if not isinstance(retired, bool):
        raise TaxonomyError(f"{where}: retired must be true or false")
    return Topic(
        id=topic_id,
        name=raw["name"].strip(),
        description=(raw.get("description") or "").strip(),
        # Left empty until someone states it; pages show the topic as "target missing".
        target=(raw.get("target") or "").strip(),
        key=key,
        labels=_stance_labels(raw.get("labels", {}), where),
        retired=retired,
    )


def _stance_labels(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: labels must be a table of favour/neutral/against")
    unknown = sorted(set(raw) - set(STANCES))
    if unknown:
        raise TaxonomyError(f"{where}: unknown stance {unknown[0]!r}; stances are {', '.join(STANCES)}")
    return {s: str(raw.get(s) or DEFAULT_STANCE_LABELS[s]) for s in STANCES}


def _check_unique(values: list[str], what: str, source: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise TaxonomyError(f"{source}: duplicate {what} {value!r}")
        seen.add(value)


def sync(db, taxonomy: Taxonomy) -> None:
    """Make the topics table hold the topics in use (labels of retired or dropped topics are kept)."""
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "description": t.description,
            "target": t.target,
            "key": t.key,
            "sort": i,
            **{s: t.labels[s] for s in STANCES},
        }
        for i, t in enumerate(taxonomy.topics)
    ]
    with db.atomic():
        if rows:
            db["topics"].upsert_all(rows, pk="id")
        # SQLite reads `NOT IN ()` as true for every row, which is right for an empty taxonomy.
        placeholders = ", ".join("?" for _ in rows)
        db.execute(f"DELETE FROM topics WHERE id NOT IN ({placeholders})", [r["id"] for r in rows])


def from_db(db) -> Taxonomy:
    """Read the taxonomy back from the topics table."""
    rows = db.query("SELECT * FROM topics ORDER BY sort, id")
    return Taxonomy(
        tuple(
            Topic(
                id=r["id"],
                name=r["name"],
                description=r["description"] or "",
                target=r["target"],
                key=r["key"] or "",
                labels={s: r[s] for s in STANCES},
            )
            for r in rows
        )
    )
