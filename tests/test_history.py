"""Label changes: save, undo, history, file write-through and `counterpoint labels import`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.cli import main
from webapp.labels import editor, mirror
from webapp.labels.editor import Choice, EditError
from webapp.labels.validation import LabelError

DOC = "003_bbfe681b051be986.txt"


@pytest.fixture
def pid(db) -> int:
    """The first content passage of DOC."""
    return db.execute(
        "SELECT id FROM passages WHERE document = ? AND kind = 'content' ORDER BY position", [DOC]
    ).fetchone()[0]


def label_rows(db, annotator: str) -> list[tuple]:
    """An annotator's labels as (topic, stance, holder) tuples."""
    return [tuple(r) for r in db.execute(
        "SELECT topic, stance, holder FROM labels WHERE annotator = ? ORDER BY document, position, topic", [annotator]
    )]


def test_save_records_before_and_after(db, pid):
    first = editor.save(db, pid, "ann", [Choice("security", "against", "X")], note="why not")
    assert first.before == [] and [(r["topic"], r["stance"], r["holder"]) for r in first.after] == [
        ("security", "against", "X")
    ]
    second = editor.save(db, pid, "ann", [Choice("security", "against", "X"), Choice("deportation", "favour")])
    assert second.before == first.after
    # The unchanged row keeps its time, so the file diff is one line.
    kept = next(r for r in second.after if r["topic"] == "security")
    assert kept["updated"] == first.after[0]["updated"]
    assert label_rows(db, "ann") == [("deportation", "favour", None), ("security", "against", "X")]
    history = editor.history(db, first.document, first.position)
    assert [c.id for c in history] == [second.id, first.id]
    assert history[1].note == "why not"


def test_saving_the_same_labels_records_nothing(db, pid):
    editor.save(db, pid, "ann", [Choice("security", "neutral")])
    assert editor.save(db, pid, "ann", [Choice("security", "neutral")]) is None
    assert db["label_changes"].count == 1


def test_annotators_keep_separate_labels(db, pid):
    editor.save(db, pid, "ann", [Choice("security", "favour")])
    editor.save(db, pid, "bob", [Choice("security", "against")])
    assert label_rows(db, "ann") == [("security", "favour", None)]
    assert label_rows(db, "bob") == [("security", "against", None)]


def test_undo_restores_and_is_recorded(db, pid):
    editor.save(db, pid, "ann", [Choice("security", "favour")])
    change = editor.save(db, pid, "ann", [Choice("security", "against")])
    undone = editor.undo(db, change.id, "ann")
    assert undone.undoes == change.id and undone.after == change.before
    assert label_rows(db, "ann") == [("security", "favour", None)]
    assert editor.last_undoable(db, "ann").id == change.id - 1
    with pytest.raises(EditError, match="changed again"):
        editor.undo(db, change.id, "ann")


def test_undo_refuses_others_changes_and_stale_ones(db, pid):
    first = editor.save(db, pid, "ann", [Choice("security", "favour")])
    with pytest.raises(EditError, match="your own"):
        editor.undo(db, first.id, "bob")
    editor.save(db, pid, "ann", [Choice("security", "against")])
    with pytest.raises(EditError, match="undo the newer change first"):
        editor.undo(db, first.id, "ann")


def test_undo_stack_walks_back_through_saves(db, pid):
    other = db.execute("SELECT id FROM passages WHERE kind = 'content' AND id != ?", [pid]).fetchone()[0]
    a = editor.save(db, pid, "ann", [Choice("security", "favour")])
    b = editor.save(db, other, "ann", [Choice("security", "against")])
    assert editor.undo(db, editor.last_undoable(db, "ann").id, "ann").undoes == b.id
    assert editor.undo(db, editor.last_undoable(db, "ann").id, "ann").undoes == a.id
    assert editor.last_undoable(db, "ann") is None
    assert label_rows(db, "ann") == []


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ([Choice("nope", "favour")], "Unknown topic"),
        ([Choice("security", "pro")], "Unknown stance"),
        ([Choice("security", "favour"), Choice("security", "against")], "twice"),
        ([Choice("security", "favour", "h" * 201)], "at most"),
    ],
)
def test_check_choices_refuses_bad_input(choices, message):
    with pytest.raises(LabelError, match=message):
        editor.check_choices(choices, ("security", "deportation"))


def test_write_files_mirrors_the_database(db, pid, corpus):
    editor.save(db, pid, "ann", [Choice("security", "favour", "Ümlaut “holder”")])
    editor.write_files(db, corpus / "labels", [DOC])
    path = mirror.label_file(corpus / "labels", DOC)
    assert path.read_text(encoding="utf-8") == mirror.format_records(mirror.records(db, DOC))
    assert "Ümlaut “holder”" in path.read_text(encoding="utf-8")
    assert (corpus / "labels" / editor.LOCKS_FOLDER / f"{DOC}.lock").exists()


def export_line(db, pid: int, **changes) -> str:
    """A valid import record for a passage, with some fields changed."""
    row = db.execute("SELECT document, position, text FROM passages WHERE id = ?", [pid]).fetchone()
    record = {"document": row[0], "position": row[1], "topic": "security", "stance": "favour", "holder": "H",
              "annotator": "imp", "updated": "2025-01-01T00:00:00Z", "text": row[2]}
    return json.dumps({**record, **changes}, ensure_ascii=False)


def test_cli_import_applies_records_and_writes_files(runner, app, db, pid, corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_CORPUS", str(corpus))
    source = tmp_path / "alice.jsonl"
    source.write_text(export_line(db, pid) + "\n" + export_line(db, pid, topic="deportation", stance="against")
                      + "\n", encoding="utf-8")
    result = runner.invoke(main, ["--corpus", str(corpus), "labels", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "labels changed on 1 passage" in result.output
    assert label_rows(db, "imp") == [("deportation", "against", "H"), ("security", "favour", "H")]
    assert editor.last_undoable(db, "imp").note == "Imported from alice.jsonl"
    written = mirror.label_file(corpus / "labels", DOC).read_text(encoding="utf-8")
    assert '"annotator": "imp"' in written and '"updated": "2025-01-01T00:00:00Z"' in written


def test_cli_import_reports_every_problem_and_writes_nothing(runner, app, db, pid, corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_CORPUS", str(corpus))
    heading = db.execute("SELECT id FROM passages WHERE kind = 'heading' LIMIT 1").fetchone()[0]
    lines = [
        export_line(db, pid),
        export_line(db, pid, topic="weather"),
        export_line(db, pid, topic="deportation", stance="maybe"),
        export_line(db, pid, position=9999),
        export_line(db, pid, topic="deportation", text="Some other text"),
        "{not json",
        export_line(db, pid),
        export_line(db, heading, text=db.execute("SELECT text FROM passages WHERE id = ?", [heading]).fetchone()[0]),
    ]
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = mirror.label_file(corpus / "labels", DOC).read_bytes()
    result = runner.invoke(main, ["--corpus", str(corpus), "labels", "import", str(source)])
    assert result.exit_code == 1
    for expected in ["bad.jsonl line 2: Unknown topic “weather”", "bad.jsonl line 3: Unknown stance “maybe”",
                     "bad.jsonl line 4: passage not found", "bad.jsonl line 5: the text of passage",
                     "bad.jsonl line 6: not valid JSON", "bad.jsonl line 7: same passage, topic and annotator as "
                     "bad.jsonl line 1", "heading, not content"]:
        assert expected in result.output
    assert "nothing was imported" in result.output
    assert db["labels"].count_where("annotator = 'imp'") == 0 and db["label_changes"].count == 0
    assert mirror.label_file(corpus / "labels", DOC).read_bytes() == before


def test_cli_import_round_trips_the_repo_files(runner, app, db, corpus, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_CORPUS", str(corpus))
    files = sorted((corpus / "labels" / "passages").glob("*.jsonl"))
    before = {p.name: p.read_bytes() for p in files}
    result = runner.invoke(main, ["--corpus", str(corpus), "labels", "import", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert "labels changed on 0 passage" in result.output
    assert {p.name: p.read_bytes() for p in files} == before


def test_cli_import_needs_files(runner, corpus, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_CORPUS", str(corpus))
    result = runner.invoke(main, ["--corpus", str(corpus), "labels", "import"])
    assert result.exit_code == 2 and "Missing argument" in result.output


def test_history_of_a_passage_page_lists_changes_newest_first(client, db, pid):
    editor.save(db, pid, "ann", [Choice("security", "favour")])
    editor.save(db, pid, "bob", [Choice("security", "against")], note="disagree")
    html = client.get(f"/passages/{pid}").get_data(as_text=True)
    assert html.index("disagree") < html.index("<strong>ann</strong>")


def test_lock_files_live_in_an_ignored_folder():
    ignored = (Path(__file__).resolve().parent.parent / ".gitignore").read_text(encoding="utf-8")
    assert "labels/.locks/" in ignored.splitlines()


def test_cli_import_refuses_no_topic_beside_a_topic_label(runner, app, db, pid, corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_CORPUS", str(corpus))
    source = tmp_path / "mixed.jsonl"
    source.write_text(export_line(db, pid) + "\n" + export_line(db, pid, topic=None, stance=None, holder=None) + "\n",
                      encoding="utf-8")
    result = runner.invoke(main, ["--corpus", str(corpus), "labels", "import", str(source)])
    assert result.exit_code == 1
    assert "mixed.jsonl line 2: “No topic applies” cannot sit beside topic labels" in result.output
    assert db["labels"].count_where("annotator = 'imp'") == 0
