"""Property: any sequence of label edits survives export and re-import unchanged, byte for byte."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import copy_db
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.corpus import taxonomy
from webapp.labels import editor, fileimport, mirror
from webapp.labels.build import build
from webapp.labels.editor import Choice
from webapp.labels.validation import LabelError
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent
TOPICS = ("recognition", "deportation", "womens_rights", "security")
STANCES = ("favour", "neutral", "against")

holders = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=25))
choice_sets = st.dictionaries(st.sampled_from(TOPICS), st.tuples(st.sampled_from(STANCES), holders), max_size=4)
edits = st.lists(
    st.tuples(
        st.sampled_from(("save", "save", "save", "undo")),
        st.integers(0, 5),  # which passage
        st.sampled_from(("ann", "bob", "Zoë")),
        choice_sets,
    ),
    max_size=15,
)


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Two built databases to copy from: the seed corpus with its labels, and one with none."""
    root = tmp_path_factory.mktemp("templates")
    empty_labels = root / "empty-labels"
    empty_labels.mkdir()
    shutil.copy(REPO / "labels" / "taxonomy.toml", empty_labels / "taxonomy.toml")
    paths = {}
    for name, labels_dir in (("labelled", REPO / "labels"), ("unlabelled", empty_labels)):
        db = connect(root / f"{name}.db")
        build(db, REPO / "seeds", labels_dir)
        db.close()
        paths[name] = root / f"{name}.db"
    return paths


def apply(db, passages: list[int], steps) -> None:
    """Play a sequence of saves and undos, as the queue would."""
    for action, index, annotator, chosen in steps:
        if action == "undo":
            last = editor.last_undoable(db, annotator)
            if last:
                editor.undo(db, last.id, annotator)
            continue
        choices = [Choice(topic, stance, holder) for topic, (stance, holder) in chosen.items()]
        try:
            choices = editor.check_choices(choices, TOPICS)
        except LabelError:
            continue
        editor.save(db, passages[index], annotator, choices, note="property")


def label_table(db) -> list[tuple]:
    """Every label row, ordered."""
    return [tuple(r) for r in db.execute("SELECT * FROM labels ORDER BY document, position, topic, annotator")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=edits)
def test_export_then_import_gives_the_same_labels_and_files(templates, steps):
    original = copy_db(templates["labelled"])
    fresh = copy_db(templates["unlabelled"])
    passages = [r[0] for r in original.execute("SELECT id FROM passages WHERE kind = 'content' ORDER BY id LIMIT 6")]
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "first", Path(tmp) / "second"
        apply(original, passages, steps)
        written = mirror.export(original, first)
        fileimport.import_files(fresh, written, taxonomy.from_db(fresh).ids)
        mirror.export(fresh, second)
        assert label_table(fresh) == label_table(original)
        files = sorted(p.name for p in (first / "passages").iterdir())
        assert files == sorted(p.name for p in (second / "passages").iterdir())
        for name in files:
            assert (first / "passages" / name).read_bytes() == (second / "passages" / name).read_bytes()
    original.close()
    fresh.close()
