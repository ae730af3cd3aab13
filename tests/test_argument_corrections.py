"""Corrections to key arguments: moved, merged, named and undone, kept in labels/arguments.jsonl like links."""

import errno
import json
import os

import pytest
from click.testing import CliRunner
from conftest import PAKISTAN, passage_id

from webapp.cli import main
from webapp.labels import corrections, reconcile
from webapp.labels.build import build
from webapp.labels.records import LabelFileError
from webapp.store.db import connect

TOPIC = "deportation"
# On the Pakistan report, by the seed labels: positions 4, 5, 6 and 12 are against deportation,
# 7 and 13 in favour, 8 neutral; the headline (0) has no stance on it.
AGAINST, FAVOUR, NEUTRAL, UNLABELLED = (4, 5, 6, 12), (7, 13), 8, 0


@pytest.fixture
def at(db):
    """The current id of the Pakistan report's passage at a position."""
    return lambda position: passage_id(db, PAKISTAN, position)


def places(db, replayed) -> list[tuple]:
    """A replay with passage ids turned into positions, to compare across databases."""
    def place(pid):
        return None if pid is None else db.execute("SELECT position FROM passages WHERE id = ?", [pid]).fetchone()[0]

    return [(action, place(pid), place(anchor), name) for action, pid, anchor, name in replayed]


def test_moves_merges_and_names_replay_in_log_order(db, at):
    corrections.move(db, TOPIC, at(5), at(4), "ann")
    merged = corrections.merge(db, TOPIC, [at(6), at(12), at(6), at(4)], at(4), "ann")
    corrections.name(db, TOPIC, at(4), "  Forced returns\tbreak the law ", "ann")
    corrections.move(db, TOPIC, at(12), at(12), "bea")

    assert [(c.position, c.to_position) for c in merged] == [(6, 4), (12, 4)]  # the anchor itself is not moved
    assert places(db, corrections.replay(db, TOPIC)) == [
        ("move", 5, 4, ""),
        ("move", 6, 4, ""),
        ("move", 12, 4, ""),
        ("name", 4, None, "Forced returns break the law"),
        ("move", 12, 12, ""),
    ]
    assert corrections.replay(db, "security") == []
    shown = corrections.history(db, TOPIC, limit=2)
    assert [(h["annotator"], h["action"], h["passage_id"], h["stale"]) for h in shown] == [
        ("bea", "move", at(12), False), ("ann", "name", at(4), False)]


def test_undo_takes_out_only_the_annotators_latest_correction_on_the_topic(db, at):
    corrections.move(db, TOPIC, at(5), at(4), "ann")
    corrections.name(db, TOPIC, at(4), "Returns", "ann")
    corrections.move(db, TOPIC, at(6), at(6), "bea")

    undone = corrections.undo_last(db, TOPIC, "ann")

    assert (undone.action, undone.name) == ("name", "Returns")
    assert places(db, corrections.replay(db, TOPIC)) == [("move", 5, 4, ""), ("move", 6, 6, "")]
    assert corrections.undo_last(db, "security", "ann") is None
    assert corrections.undo_last(db, TOPIC, "ann").position == 5
    assert corrections.undo_last(db, TOPIC, "ann") is None
    assert places(db, corrections.replay(db, TOPIC)) == [("move", 6, 6, "")]


def test_corrections_survive_export_and_a_fresh_database(db, at, corpus, tmp_path):
    corrections.merge(db, TOPIC, [at(5), at(6)], at(4), "ann")
    corrections.name(db, TOPIC, at(7), "Order at the border, “legally”", "ann")
    corrections.move(db, TOPIC, at(13), at(13), "bea")
    corrections.undo_last(db, TOPIC, "bea")
    assert corrections.pending(db)

    path = corrections.export(db, corpus / "labels")

    assert not corrections.pending(db) and not corrections.differs(db, corpus / "labels")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["move", "move", "name"]
    assert "“legally”" in lines[2]  # written as text, not escapes, so a diff reads
    assert corrections.read_file(corpus / "labels") == corrections.records(db)

    fresh = connect(tmp_path / "fresh.db")
    build(fresh, corpus / "seeds", corpus / "labels")
    assert places(fresh, corrections.replay(fresh, TOPIC)) == places(db, corrections.replay(db, TOPIC))
    version = fresh.execute("SELECT value FROM counters WHERE name = 'data'").fetchone()[0]
    corrections.store(fresh, corrections.read_file(corpus / "labels"))
    # Loading the same log again changes nothing, not even the version page caches key on.
    assert fresh.execute("SELECT value FROM counters WHERE name = 'data'").fetchone()[0] == version
    assert corrections.records(fresh) == corrections.records(db)
    fresh.close()


def test_a_correction_on_text_that_changed_is_left_out_of_the_replay(db, at, corpus):
    corrections.move(db, TOPIC, at(5), at(4), "ann")
    corrections.move(db, TOPIC, at(6), at(5), "ann")
    corrections.name(db, TOPIC, at(12), "Half a million gone", "ann")
    seed = corpus / "seeds" / PAKISTAN
    old = db.execute("SELECT text FROM passages WHERE id = ?", [at(5)]).fetchone()[0]
    seed.write_text(seed.read_text(encoding="utf-8").replace(old, "An edited paragraph."), encoding="utf-8")

    build(db, corpus / "seeds", corpus / "labels")

    # Passage 5 now holds other text: the move of it and the move onto it are both stale.
    assert places(db, corrections.replay(db, TOPIC)) == [("name", 12, None, "Half a million gone")]
    assert [h["stale"] for h in corrections.history(db, TOPIC)] == [False, True, True]


@pytest.mark.parametrize(("change", "message"), [
    (lambda db, at: corrections.move(db, "climate", at(5), at(4), "ann"), "There is no topic 'climate'."),
    (lambda db, at: corrections.move(db, TOPIC, 99999, at(4), "ann"), "There is no passage number 99999."),
    (lambda db, at: corrections.move(db, TOPIC, at(5), 99999, "ann"), "There is no passage number 99999."),
    (lambda db, at: corrections.move(db, TOPIC, at(UNLABELLED), at(4), "ann"),
     "has no stance on topic deportation, so it is in no argument; label it first."),
    (lambda db, at: corrections.move(db, TOPIC, at(4), at(UNLABELLED), "ann"), "has no stance on topic deportation"),
    (lambda db, at: corrections.move(db, TOPIC, at(7), at(4), "ann"),
     ("An argument belongs to one side: the argument of passage .* is against on topic deportation, and passage .*"
      " takes a different stance \\(favour\\).")),
    (lambda db, at: corrections.merge(db, TOPIC, [at(5), at(NEUTRAL)], at(4), "ann"), "takes a different stance"),
    (lambda db, at: corrections.merge(db, TOPIC, [at(4)], at(4), "ann"), "Nothing to merge"),
    (lambda db, at: corrections.move(db, TOPIC, at(5), at(4), " "), "needs the name of the annotator"),
    (lambda db, at: corrections.name(db, TOPIC, at(UNLABELLED), "Headline", "ann"), "has no stance on topic"),
    (lambda db, at: corrections.name(db, TOPIC, at(4), "n" * 121, "ann"),
     "The argument's name is 121 characters; a name can be at most 120 characters"),
    (lambda db, at: corrections.name(db, TOPIC, at(4), "bell\x07", "ann"), "contains a control character \\(U\\+0007\\)"),
    (lambda db, at: corrections.name(db, TOPIC, at(4), "half \ud800", "ann"), "lone surrogate \\(U\\+D800\\)"),
], ids=["topic", "passage", "anchor", "passage-unlabelled", "anchor-unlabelled", "other-side", "merge-other-side",
        "merge-nothing", "annotator", "name-unlabelled", "name-long", "name-control", "name-surrogate"])
def test_a_correction_that_breaks_a_rule_is_refused_and_nothing_is_written(db, at, change, message):
    with pytest.raises(corrections.CorrectionError, match=message):
        change(db, at)
    assert corrections.records(db) == [] and not corrections.pending(db)


def test_a_name_of_the_longest_length_is_kept_and_an_empty_one_clears(db, at):
    corrections.name(db, TOPIC, at(4), "n" * 120, "ann")
    corrections.name(db, TOPIC, at(4), "   ", "ann")
    assert [name for *_, name in corrections.replay(db, TOPIC)] == ["n" * 120, ""]


GOOD = {"topic": TOPIC, "action": "name", "document": PAKISTAN, "position": 4, "text": "t", "to_document": "",
        "to_position": -1, "to_text": "", "name": "Returns", "annotator": "ann", "updated": "2026-01-01T00:00:00Z"}
HOSTILE = {
    "bad-json": ('{"action": "move",', "Expecting"),
    "not-an-object": ("[1, 2]", "a record must be a JSON object"),
    "nesting": ("[" * 200 + "]" * 200, "nests more than 100 levels deep"),
    "long-number": (json.dumps({**GOOD, "position": 10**200}), "a number can have at most 100"),
    "huge-position": (json.dumps({**GOOD, "position": 2**63}),
                      "position must be a whole number from 0 to 2\\^63 - 1, not 9223372036854775808"),
    "bool-position": (json.dumps({**GOOD, "position": True}), "position must be a whole number"),
    "negative-anchor": (json.dumps({**GOOD, "action": "move", "name": "", "to_document": PAKISTAN, "to_text": "t"}),
                        "to_position must be a whole number from 0"),
    "surrogate-name": (json.dumps({**GOOD, "name": "x"})[:-1].replace('"x"', '"\\ud800"') + "}",
                       "lone surrogate \\(U\\+D800\\)"),
    "long-name": (json.dumps({**GOOD, "name": "n" * 121}), "a name can be at most 120 characters"),
    "wrong-action": (json.dumps({**GOOD, "action": "split"}), "unknown action 'split'"),
    "name-with-anchor": (json.dumps({**GOOD, "to_position": 3}), "a name has no anchor"),
    "move-with-name": (json.dumps({**GOOD, "action": "move", "to_document": PAKISTAN, "to_position": 5,
                                   "to_text": "t"}), "a move names no argument"),
    "no-annotator": (json.dumps({**GOOD, "annotator": None}), "annotator must be a non-empty string"),
}


@pytest.mark.parametrize("line,message", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_corrections_file_is_refused_by_line_and_nothing_is_stored(db, at, corpus, line, message):
    corrections.move(db, TOPIC, at(5), at(4), "ann")
    corrections.export(db, corpus / "labels")
    path = corpus / "labels" / corrections.FILE_NAME
    before = corrections.records(db)
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")

    with pytest.raises(LabelFileError, match=f"^arguments.jsonl line 2: .*{message}"):
        corrections.read_file(corpus / "labels")
    with pytest.raises(LabelFileError):
        build(db, corpus / "seeds", corpus / "labels")
    assert corrections.records(db) == before


def test_a_corrections_file_in_another_encoding_is_refused(corpus):
    (corpus / "labels" / corrections.FILE_NAME).write_bytes(b'{"name": "\xff"}\n')
    with pytest.raises(LabelFileError, match="arguments.jsonl: not UTF-8"):
        corrections.read_file(corpus / "labels")


def test_counterpoint_load_reads_corrections_added_to_the_file(db, at, corpus):
    corrections.move(db, TOPIC, at(5), at(4), "ann")
    corrections.export(db, corpus / "labels")
    path = corpus / "labels" / corrections.FILE_NAME
    text = db.execute("SELECT text FROM passages WHERE id = ?", [at(13)]).fetchone()[0]
    added = {**GOOD, "position": 13, "text": text, "name": "Order first", "annotator": "bea"}
    path.write_text(path.read_text(encoding="utf-8") + json.dumps(added, ensure_ascii=False) + "\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["--corpus", str(corpus), "load"])

    assert result.exit_code == 0, result.output
    assert places(db, corrections.replay(db, TOPIC)) == [("move", 5, 4, ""), ("name", 13, None, "Order first")]


def test_a_correction_bumps_the_data_version_that_page_caches_key_on(db, at):
    version = db.execute("SELECT value FROM counters WHERE name = 'data'").fetchone()[0]
    corrections.name(db, TOPIC, at(4), "Returns", "ann")
    assert db.execute("SELECT value FROM counters WHERE name = 'data'").fetchone()[0] > version


NO_SPACE = os.strerror(errno.ENOSPC)


def test_a_pending_mark_keeps_load_from_reading_an_older_file_until_reconcile_rewrites_it(db, at, corpus, monkeypatch):
    corrections.move(db, TOPIC, at(5), at(4), "ann")
    corrections.export(db, corpus / "labels")
    older = (corpus / "labels" / corrections.FILE_NAME).read_text(encoding="utf-8")

    def full(path, content):
        raise OSError(errno.ENOSPC, NO_SPACE, str(path))

    monkeypatch.setattr(corrections, "atomic_write", full)
    corrections.move(db, TOPIC, at(6), at(4), "ann")
    with pytest.raises(OSError, match=f"could not write labels/arguments.jsonl: {NO_SPACE}"):
        corrections.export(db, corpus / "labels")
    assert corrections.pending(db)

    build(db, corpus / "seeds", corpus / "labels")  # the file still holds one move: it is not read
    assert places(db, corrections.replay(db, TOPIC)) == [("move", 5, 4, ""), ("move", 6, 4, "")]
    assert (corpus / "labels" / corrections.FILE_NAME).read_text(encoding="utf-8") == older

    monkeypatch.undo()
    report = reconcile.reconcile(db, corpus / "labels")
    assert report.messages() == ["Rewrote arguments.jsonl from the database (a correction had not reached it)."]
    assert corrections.read_file(corpus / "labels") == corrections.records(db) and not corrections.pending(db)


def test_counterpoint_labels_export_writes_the_corrections_file(db, at, corpus):
    corrections.name(db, TOPIC, at(4), "Returns", "ann")
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "labels", "export"])
    assert result.exit_code == 0, result.output
    assert [c.name for c in corrections.read_file(corpus / "labels")] == ["Returns"]
    assert not corrections.pending(db)
