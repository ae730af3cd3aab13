"""Properties of the input paths: the splitter, the JSONL import and the label-file parser take
any input and either accept it or refuse it with a message, never crash and never half-write.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from webapp.corpus import sources, splitting, taxonomy, textfiles
from webapp.corpus.sources import CorpusError
from webapp.corpus.taxonomy import STANCES, TaxonomyError
from webapp.labels import batches, mirror
from webapp.labels.records import FIELDS, LabelFileError, LabelRecord, format_records, parse_lines, read_file
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent
TOPICS = taxonomy.load(REPO / "labels" / "taxonomy.toml").ids
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
prose = st.lists(
    st.one_of(text, st.sampled_from(["\n", "\n\n", "\r\n", "   ", "\t", "\u00a0", "\ufeff", "\u2028", "# Title", "By Ann Lee"])),
    max_size=30,
).map("".join)


# --- the splitter ---------------------------------------------------------------------------


@SETTINGS
@given(prose)
def test_any_text_splits_into_numbered_non_empty_passages(source):
    passages = splitting.split(source)
    assert [p.position for p in passages] == list(range(len(passages)))
    for p in passages:
        assert p.text.strip() and p.kind in splitting.KIND_LABELS
        assert p.text_hash == splitting.text_hash(p.text)
    assert splitting.split(source) == passages  # deterministic
    assert splitting.normalise(splitting.normalise(source)) == splitting.normalise(source)


# --- the label-file parser ------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10), st.floats(allow_nan=False), text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
records_like = st.fixed_dictionaries(
    {},
    optional={
        "document": st.one_of(st.sampled_from(["a.txt", "b.md"]), json_values),
        "position": st.one_of(st.integers(-2, 50), json_values),
        "topic": st.one_of(st.sampled_from([*TOPICS, None]), json_values),
        "stance": st.one_of(st.sampled_from([*STANCES, None]), json_values),
        "holder": st.one_of(st.none(), text, json_values),
        "annotator": st.one_of(st.sampled_from(["ann", "Zoë"]), json_values),
        "updated": st.one_of(st.just("2024-01-01T00:00:00Z"), json_values),
        "text": st.one_of(text, json_values),
    },
)
lines = st.lists(
    st.one_of(records_like.map(json.dumps), json_values.map(json.dumps), text, st.just("")), max_size=8
)


@SETTINGS
@given(lines)
def test_label_lines_either_parse_or_say_which_line_is_wrong(raw):
    try:
        records = parse_lines(raw, "x.jsonl", TOPICS)
    except LabelFileError as exc:
        assert exc.problems and all(p.startswith("x.jsonl line ") for p in exc.problems)
        return
    assert len(records) == sum(1 for line in raw if line.strip())
    # What parses is written back as the same records, in file order.
    again = parse_lines(format_records(records).split("\n"), "x.jsonl", TOPICS)
    assert again == sorted(records, key=LabelRecord.sort_key)


valid_records = st.lists(st.builds(
    LabelRecord,
    document=st.sampled_from(["doc.txt", "b.md"]),
    position=st.integers(0, 50),
    topic=st.sampled_from(TOPICS),
    stance=st.sampled_from(STANCES),
    holder=st.one_of(st.none(), text.filter(str.strip)),
    annotator=text.filter(bool),
    updated=st.just("2024-01-01T00:00:00Z"),
    text=text.filter(bool),
), max_size=4)


@st.composite
def label_file_bytes(draw) -> bytes:
    """Bytes of a label file: random, or a valid file as written, whole, with bytes changed or
    with one field of one record set to any JSON value."""
    records = draw(valid_records)
    how = draw(st.sampled_from(["field changed", "bytes changed", "random bytes"]))
    event(how)
    if how == "random bytes":
        return draw(st.binary(max_size=300))
    written = format_records(records).encode("utf-8")
    if how == "bytes changed":
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(written)))
            written = written[:at] + draw(st.binary(max_size=3)) + written[at + draw(st.integers(0, 2)):]
        return written
    objects = [json.loads(line) for line in written.decode("utf-8").split("\n") if line]
    if objects:
        changed = objects[draw(st.integers(0, len(objects) - 1))]
        wrong = st.sampled_from(["", " ", "favor", "Security", "against ", -1, 1.5, True, None, [], {}])
        changed[draw(st.sampled_from(FIELDS))] = draw(st.one_of(wrong, json_values))
    return "".join(json.dumps(o, ensure_ascii=draw(st.booleans())) + "\n" for o in objects).encode("utf-8")


def assert_valid(record: LabelRecord) -> None:
    """A record the app can store: known topic and stance, non-empty names, a position."""
    assert isinstance(record.position, int) and record.position >= 0
    assert (record.topic, record.stance) == (None, None) or (record.topic in TOPICS and record.stance in STANCES)
    assert all(isinstance(v, str) and v for v in (record.document, record.annotator, record.text))
    assert record.holder is None or (isinstance(record.holder, str) and record.holder)


def one_record(**changes) -> bytes:
    """A label file of one valid record, with `changes` made to its fields."""
    record = {"document": "doc.txt", "position": 3, "topic": TOPICS[0], "stance": STANCES[0], "holder": "Ann",
              "annotator": "ann", "updated": "2024-01-01T00:00:00Z", "text": "Some words."}
    return (json.dumps({**record, **changes}) + "\n").encode("utf-8")


@settings(SETTINGS, max_examples=300)  # a few ms each
@given(label_file_bytes())
@example(one_record())
@example(one_record(topic=None, stance=None, holder=None) + one_record(position=4))
@example(one_record(stance="favor"))
@example(one_record(topic="no-such-topic"))
@example(one_record(topic=None))
@example(one_record(position=-1))
@example(one_record(position=True))
@example(one_record(annotator=""))
@example(one_record(holder=5))
@example(one_record(text=None))
@example(b"\n" + one_record() + b"[]\n" + one_record(position=4)[:-3] + b"\xff\n")
# A bare CR is JSON whitespace inside a line, not a line break that shifts the line numbers.
@example(one_record().replace(b"{", b"{\r", 1) + b"\r{x\n")
def test_any_bytes_in_a_label_file_parse_or_are_refused(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.txt.jsonl"
        path.write_bytes(data)
        try:
            records = read_file(path, TOPICS)
        except LabelFileError as exc:
            event("refused")
            assert exc.problems and str(exc).startswith(exc.problems[0])
            try:
                lines = data.decode("utf-8").split("\n")
            except UnicodeDecodeError as bad:
                # Not UTF-8: one problem, naming the file, the first bad byte and why.
                assert exc.problems == [f"doc.txt.jsonl: not UTF-8 (byte {bad.start}: {bad.reason})"]
                return
            for problem in exc.problems:
                # Each problem names the file and a line, and that line is the one that is wrong.
                found = re.fullmatch(r"doc\.txt\.jsonl line (\d+): (.+)", problem, re.DOTALL)
                assert found, problem
                line = lines[int(found.group(1)) - 1]
                assert line.strip(), problem
                try:
                    parse_lines([line], "doc.txt.jsonl", TOPICS)
                except LabelFileError as alone:
                    assert alone.problems == [f"doc.txt.jsonl line 1: {found.group(2)}"]
                else:
                    raise AssertionError(f"{problem}, but that line parses alone")
            bad_lines = [n for n, line in enumerate(lines, start=1) if line.strip()
                         and _refused(line)]
            assert [int(re.search(r" line (\d+):", p).group(1)) for p in exc.problems] == bad_lines
        else:
            event("accepted")
            lines = data.decode("utf-8").split("\n")
            objects = [json.loads(line) for line in lines if line.strip()]
            assert len(records) == len(objects)
            for record, obj in zip(records, objects):
                assert_valid(record)
                # Each record says what its line says; only blanks are tidied ("" topic, spacing).
                assert (record.document, record.position, record.annotator, record.text) == (
                    obj["document"], obj["position"], obj["annotator"], obj["text"])
                assert (record.topic, record.stance) == (obj["topic"] or None, obj["stance"] or None)
                assert record.holder == (" ".join((obj.get("holder") or "").split()) or None)
                assert record.updated == str(obj.get("updated") or "")
            # What was accepted is written back as the same records, and that reads the same again.
            again = format_records(records)
            assert all(set(FIELDS) == set(json.loads(line)) for line in again.split("\n") if line)
            assert parse_lines(again.split("\n"), "doc.txt.jsonl", TOPICS) == sorted(records, key=LabelRecord.sort_key)


def _refused(line: str) -> bool:
    """Whether one line on its own is refused."""
    try:
        parse_lines([line], "x", TOPICS)
    except LabelFileError:
        return True
    return False


# --- the JSONL import ----------------------------------------------------------------------

label_like = st.one_of(
    st.fixed_dictionaries(
        {"topic": st.one_of(st.sampled_from([*TOPICS, None, "new_topic", "Bad Topic!"]), json_values),
         "stance": st.one_of(st.sampled_from([*STANCES, None]), json_values)},
        optional={"holder": st.one_of(text, json_values), "annotator": st.one_of(text, json_values),
                  "topic_name": text, "topic_target": text},
    ),
    json_values,
)
passage_like = st.fixed_dictionaries(
    {},
    optional={
        "document": st.one_of(st.sampled_from(["doc-a", "doc-b.txt", "../evil", "a/b", "", "x" * 130]), json_values),
        "text": st.one_of(text, json_values),
        "title": st.one_of(text, json_values),
        "date": st.one_of(st.sampled_from(["2024", "2024-02-30", "yesterday"]), json_values),
        "url": st.one_of(st.sampled_from(["https://example.org/a", "javascript:alert(1)"]), json_values),
        "labels": st.one_of(st.lists(label_like, max_size=3), json_values),
    },
)
valid_passage = st.fixed_dictionaries(
    {"document": st.sampled_from(["doc-a", "doc-b.txt"]), "text": text.filter(str.strip)},
    optional={"title": text, "labels": st.lists(st.fixed_dictionaries(
        {"topic": st.sampled_from([*TOPICS, None, "new_topic"]), "stance": st.sampled_from(STANCES)},
        optional={"holder": text, "annotator": text.filter(str.strip)}), max_size=2)},
).map(lambda obj: {**obj, "labels": [
    {**label, "stance": None} if label["topic"] is None else label for label in obj.get("labels", [])]})
jsonl = st.one_of(
    st.lists(valid_passage.map(json.dumps), min_size=1, max_size=6),
    st.lists(st.one_of(valid_passage.map(json.dumps), passage_like.map(json.dumps), text, json_values.map(json.dumps)),
             max_size=6),
)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its content."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def table_counts(db) -> dict[str, int]:
    """Row counts of the tables an import writes."""
    return {t: db[t].count for t in ("documents", "passages", "labels", "topics")}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonl, st.booleans())
def test_any_jsonl_imports_whole_or_is_refused_with_nothing_written(raw, add_topics):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "seeds").mkdir()
        shutil.copytree(REPO / "labels", root / "labels", ignore=shutil.ignore_patterns("passages", ".locks"))
        db = connect(":memory:")
        taxonomy.sync(db, taxonomy.load(root / "labels" / "taxonomy.toml"))
        files, counts = snapshot(root), table_counts(db)
        try:
            batch = batches.parse_jsonl(raw, TOPICS, "importer", "2024-01-01T00:00:00Z", add_topics)
            saved = batches.save_batch(db, root / "seeds", root / "labels", batch, "input")
        except (textfiles.BadInput, CorpusError, TaxonomyError) as exc:
            event("refused")
            assert str(exc)
            assert snapshot(root) == files and table_counts(db) == counts
            return
        finally:
            leftovers = [p.name for p in root.rglob(".*") if p.is_file()]
            assert not leftovers, leftovers
        event("imported")
        assert db["documents"].count == len(batch.documents)
        assert (root / "seeds" / saved.seed_file).is_file()
        assert [d.name for d in sources.read_presplit(root / "seeds" / saved.seed_file)] == [d.name for d in batch.documents]
        topics = taxonomy.load(root / "labels" / "taxonomy.toml").ids
        on_disk = mirror.read_folder(root / "labels", topics)
        assert sorted(on_disk, key=LabelRecord.sort_key) == sorted(mirror.records(db), key=LabelRecord.sort_key)
        db.close()


def test_separators_json_leaves_raw_survive_import_and_load(app, corpus, tmp_path):
    from click.testing import CliRunner

    from webapp.cli import main

    odd = "one\u2028two\u2029three\x85four\x1cfive"
    source = tmp_path / "odd.jsonl"
    source.write_text(json.dumps({"document": "odd", "text": odd}, ensure_ascii=False) + "\n", encoding="utf-8")
    for args in (["documents", "import", "--jsonl", str(source)], ["load"]):
        result = CliRunner().invoke(main, ["--corpus", str(corpus), *args])
        assert result.exit_code == 0, result.output
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT text FROM passages WHERE document = 'odd'").fetchone()[0] == odd
    db.close()
