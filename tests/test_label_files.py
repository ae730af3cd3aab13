"""Label files: validated on read, deterministic on write, lossless through the database."""

import json
import shutil
from pathlib import Path

import pytest

from webapp.labels import mirror
from webapp.labels.build import build
from webapp.labels.records import LabelFileError, LabelRecord, format_records, parse_lines
from webapp.store.db import connect
from webapp.store.files import atomic_write

REPO = Path(__file__).resolve().parent.parent
TOPICS = ("recognition", "deportation", "womens_rights", "security")


def record(**overrides) -> dict:
    """A valid label record as decoded JSON, with fields overridden."""
    base = {
        "document": "a.txt", "position": 1, "topic": "security", "stance": "against",
        "holder": "Someone", "annotator": "ann", "updated": "2026-01-01T00:00:00Z", "text": "Some text.",
    }
    return {**base, **overrides}


def test_export_fresh_database_load_export_is_byte_identical(corpus, tmp_path):
    first = connect(tmp_path / "one.db")
    build(first, corpus / "seeds", corpus / "labels")
    out_one = tmp_path / "out-one"
    mirror.export(first, out_one)

    second_corpus = tmp_path / "second"
    shutil.copytree(corpus / "seeds", second_corpus / "seeds")
    shutil.copytree(out_one, second_corpus / "labels")
    shutil.copy(corpus / "labels" / "taxonomy.toml", second_corpus / "labels" / "taxonomy.toml")
    second = connect(tmp_path / "two.db")
    build(second, second_corpus / "seeds", second_corpus / "labels")
    out_two = tmp_path / "out-two"
    mirror.export(second, out_two)

    files_one = sorted((out_one / "passages").glob("*.jsonl"))
    assert len(files_one) == 5
    for path in files_one:
        assert (out_two / "passages" / path.name).read_bytes() == path.read_bytes()


def test_the_committed_label_files_are_already_in_export_form(corpus, tmp_path):
    database = connect(tmp_path / "db.sqlite")
    build(database, corpus / "seeds", corpus / "labels")
    out = tmp_path / "out"
    mirror.export(database, out)
    for path in sorted((REPO / "labels" / "passages").glob("*.jsonl")):
        assert (out / "passages" / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_records_are_written_in_a_fixed_order_with_a_fixed_key_order():
    records = [
        LabelRecord("b.txt", 0, "security", "favour", None, "x", "t", "B"),
        LabelRecord("a.txt", 3, None, None, None, "x", "t", "A3"),
        LabelRecord("a.txt", 3, "deportation", "against", "H", "y", "t", "A3"),
        LabelRecord("a.txt", 3, "deportation", "against", "H", "x", "t", "A3"),
    ]
    lines = format_records(records).splitlines()
    assert [json.loads(line)["document"] for line in lines] == ["a.txt", "a.txt", "a.txt", "b.txt"]
    assert [json.loads(line)["annotator"] for line in lines[:3]] == ["x", "x", "y"]
    assert list(json.loads(lines[0])) == ["document", "position", "topic", "stance", "holder", "annotator", "updated", "text"]
    assert format_records(reversed(records)) == format_records(records)


def test_unicode_is_written_as_is_so_diffs_stay_readable():
    line = format_records([LabelRecord("a.txt", 0, "security", "neutral", "Zabihullah “Z” Mujahid", "x", "t", "café")])
    assert "“Z”" in line and "café" in line


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not valid JSON"),
        ("[1, 2]", "line 1: a record must be a JSON object"),
        (json.dumps({k: v for k, v in record().items() if k != "text"}), "missing field 'text'"),
        (json.dumps(record(position=-1)), "position must be a whole number"),
        (json.dumps(record(position="3")), "position must be a whole number"),
        (json.dumps(record(topic="economy")), "Unknown topic “economy”"),
        (json.dumps(record(stance="pro")), "Unknown stance “pro”"),
        (json.dumps(record(topic=None, stance="favour")), "is given without a topic"),
        (json.dumps(record(annotator="")), "annotator must be a non-empty string"),
        (json.dumps(record(holder=5)), "must be text, not 5"),
    ],
)
def test_malformed_records_are_refused_with_their_line_number(line, message):
    with pytest.raises(LabelFileError) as caught:
        parse_lines([line], "labels.jsonl", TOPICS)
    assert message in caught.value.problems[0]
    assert caught.value.problems[0].startswith("labels.jsonl line 1")


def test_every_problem_in_a_file_is_reported_not_just_the_first():
    lines = [json.dumps(record()), "{bad", "", json.dumps(record(stance="maybe"))]
    with pytest.raises(LabelFileError) as caught:
        parse_lines(lines, "f.jsonl", TOPICS)
    assert [p.split(":")[0] for p in caught.value.problems] == ["f.jsonl line 2", "f.jsonl line 4"]


def test_a_malformed_label_file_stops_the_build_and_changes_nothing(corpus, tmp_path):
    database = connect(tmp_path / "db.sqlite")
    path = corpus / "labels" / "passages" / "002_ce58d6deddc87eed.txt.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + '{"document": "x"\n', encoding="utf-8")
    with pytest.raises(LabelFileError, match="002_ce58d6deddc87eed.txt.jsonl line"):
        build(database, corpus / "seeds", corpus / "labels")
    assert database["labels"].count == 0
    assert database["documents"].count == 0


def test_a_non_utf8_label_file_is_reported(corpus, tmp_path):
    (corpus / "labels" / "passages" / "bad.jsonl").write_bytes(b'{"text": "\xff"}\n')
    with pytest.raises(LabelFileError, match="bad.jsonl: not UTF-8"):
        mirror.read_folder(corpus / "labels", TOPICS)


def test_atomic_write_replaces_the_file_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "labels" / "x.jsonl"
    atomic_write(target, "one\n")
    atomic_write(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.jsonl"]


def test_export_removes_files_of_documents_without_labels(app, db, corpus):
    with db.atomic():
        db.execute("DELETE FROM labels WHERE document = ?", ["003_bbfe681b051be986.txt"])
    mirror.export(db, corpus / "labels")
    names = sorted(p.name for p in (corpus / "labels" / "passages").glob("*.jsonl"))
    assert "003_bbfe681b051be986.txt.jsonl" not in names
    assert len(names) == 4
