"""Schema migrations: a database at any earlier version upgrades to exactly the fresh schema."""

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from webapp.store import migrations as steps
from webapp.store.db import connect
from webapp.store.migrations import migrations


def defined() -> list[str]:
    """Every step's name, in the order `apply` runs them on an empty database."""
    empty = Database(memory=True)
    try:
        return [step.name for step in migrations.pending(empty)]
    finally:
        empty.close()


NAMES = defined()

# The order databases applied the steps in before they were defined in name order: m040 then
# m030. Every database in use was built along a prefix of this.
HISTORICAL = [
    "m001_initial",
    "m002_label_history_and_annotators",
    "m040_links_and_passage_changes",
    "m030_passages_fts",
    "m050_label_files_pending",
    "m060_topics_version",
    "m070_comparison_indexes",
    "m080_data_version",
]


def schema(db) -> list[tuple[str, str, str]]:
    """Every table, index, trigger and view as (type, name, SQL with whitespace normalised)."""
    rows = db.execute("SELECT type, name, sql FROM sqlite_master")
    return sorted((kind, name, " ".join((sql or "").split())) for kind, name, sql in rows)


def upgraded(path) -> list[tuple[str, str, str]]:
    """The schema of the database at `path` once `connect` has brought it up to date."""
    db = connect(path)
    try:
        return schema(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> list[tuple[str, str, str]]:
    """The schema of a database built in one go."""
    return upgraded(tmp_path_factory.mktemp("fresh") / "fresh.db")


def test_steps_are_defined_in_name_order():
    # sqlite-utils runs pending steps in definition order: out of order, a step runs before the
    # ones it follows in a fresh database but after them in an older one.
    assert NAMES == sorted(NAMES)
    # A new step sorts after every released one, for the same reason.
    assert NAMES[: len(HISTORICAL)] == sorted(HISTORICAL)


@pytest.mark.parametrize("version", range(len(NAMES)), ids=lambda n: f"first-{n}")
def test_a_database_at_an_earlier_version_upgrades_to_the_fresh_schema(tmp_path, fresh, version):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before=NAMES[version])
    assert [step.name for step in migrations.applied(old)] == NAMES[:version]
    old.close()

    assert upgraded(path) == fresh


@pytest.mark.parametrize("version", range(1, len(HISTORICAL) + 1), ids=lambda n: f"first-{n}")
def test_a_database_built_in_the_historical_order_upgrades_to_the_fresh_schema(tmp_path, fresh, version):
    path = tmp_path / "old.db"
    old = Database(path)
    at_version(old, HISTORICAL[:version])
    old.close()

    assert upgraded(path) == fresh
    db = connect(path)
    # Nothing applied before runs again; only the missing steps are added, in name order.
    missing = [name for name in NAMES if name not in HISTORICAL[:version]]
    assert [step.name for step in migrations.applied(db)] == HISTORICAL[:version] + missing
    db.close()


def at_version(db, names: list[str]) -> None:
    """Apply exactly the named steps, in that order, recorded as the app's own migration set."""
    partial = Migrations(migrations.name)
    for name in names:
        partial()(getattr(steps, name))
    partial.apply(db)


ROWS = {
    "documents": [{"id": "a.txt", "title": "Deportations resume", "outlet": "Dawn", "source_hash": "h1"}],
    "passages": [
        {"id": 1, "document": "a.txt", "position": 1, "kind": "heading", "text": "Deportations resume", "text_hash": "p1"},
        {"id": 2, "document": "a.txt", "position": 2, "kind": "content", "text": "They were deported at dawn.", "text_hash": "p2"},
    ],
    "topics": [{"id": "security", "name": "Security", "sort": 1}],
    "labels": [{"document": "a.txt", "position": 2, "topic": "security", "annotator": "ann", "stance": "against",
                "holder": None, "updated": "2026-01-01T00:00:00Z", "text": "They were deported at dawn.",
                "text_hash": "p2"}],
    "links": [{"source_document": "a.txt", "source_position": 2, "target_document": "a.txt", "target_position": 1,
               "annotator": "ann", "relation": "supports", "note": "", "updated": "2026-01-01T00:00:00Z",
               "source_text": "They were deported at dawn.", "target_text": "Deportations resume"}],
}


@pytest.mark.parametrize("version", range(1, len(HISTORICAL)), ids=lambda n: f"first-{n}")
def test_rows_written_at_an_earlier_version_survive_the_upgrade(tmp_path, fresh, version):
    path = tmp_path / "old.db"
    old = Database(path)
    at_version(old, HISTORICAL[:version])
    # Each table as far as this version has it: links came with m040.
    tables = [table for table in ROWS if old[table].exists()]
    for table in tables:
        old[table].insert_all(ROWS[table])
    before = {table: list(old[table].rows) for table in tables}
    old.close()

    db = connect(path)
    try:
        assert {table: list(db[table].rows) for table in tables} == before
        assert schema(db) == fresh
        # Steps added later index the rows that were already there.
        assert sorted(row["id"] for row in db["passages"].search("deportation")) == [1, 2]
        assert db.execute("SELECT changes, written FROM links_file").fetchone() == (0, 0)
    finally:
        db.close()


def test_accounts_made_before_roles_and_session_generations_upgrade_as_plain_annotators(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m100_annotator_roles_and_sessions")
    old["annotators"].insert({"name": "alice", "password_hash": "scrypt:x", "created": "2026-01-01T00:00:00Z"})
    old.close()

    db = connect(path)
    try:
        # Adjudicating is granted, never inherited; sessions signed in before count as generation 0.
        assert list(db["annotators"].rows) == [{"name": "alice", "password_hash": "scrypt:x",
                                                 "created": "2026-01-01T00:00:00Z", "adjudicator": 0,
                                                 "session_generation": 0}]
    finally:
        db.close()
