"""Links between passages: recorded, shown from both ends, mirrored in labels/links.jsonl."""

import shutil

import pytest
from conftest import passage_id

from webapp.labels import links
from webapp.labels.build import build
from webapp.labels.records import LabelFileError
from webapp.store.db import connect


@pytest.fixture
def pair(db):
    """Two passages from different seeds that disagree about security."""
    return passage_id(db, "003_bbfe681b051be986.txt", 6), passage_id(db, "004_1cda40431279602b.txt", 15)


def test_a_confirmed_link_shows_on_both_passages(db, pair):
    source, target = pair
    links.record(db, source, target, "contradicts", "ann", note="amnesty vs killings")
    out = links.for_passage(db, source)
    back = links.for_passage(db, target)
    assert [(r["other_id"], r["relation"], r["direction"]) for r in out] == [(target, "contradicts", "out")]
    assert [(r["other_id"], r["relation"], r["direction"]) for r in back] == [(source, "contradicts", "in")]
    assert out[0]["note"] == "amnesty vs killings"
    assert links.relation_counts(db, [source, target]) == {source: {"contradicts": 1}, target: {"contradicts": 1}}


def test_deciding_again_replaces_the_decision_whichever_way_round(db, pair):
    source, target = pair
    links.record(db, source, target, "supports", "ann")
    links.record(db, target, source, "contradicts", "ann")
    assert [r["relation"] for r in links.for_passage(db, source)] == ["contradicts"]
    links.record(db, target, source, "same_claim", "other")
    assert sorted(r["relation"] for r in links.for_passage(db, source)) == ["contradicts", "same_claim"]


def test_a_dismissed_suggestion_is_remembered_but_not_counted_as_a_link(db, pair):
    source, target = pair
    links.record(db, source, target, links.DISMISSED, "ann")
    assert links.dismissed_ids(db, source) == {target}
    assert links.dismissed_ids(db, target) == {source}
    assert links.relation_counts(db, [source]) == {}
    assert links.remove(db, target, source, "ann") is True
    assert links.dismissed_ids(db, source) == set()


@pytest.mark.parametrize(
    ("relation", "note", "message"),
    [("agrees", "", "Unknown relation 'agrees'"), ("supports", "x" * 501, "the limit is 500")],
)
def test_bad_links_are_refused_with_a_reason(db, pair, relation, note, message):
    with pytest.raises(links.LinkError, match=message):
        links.record(db, *pair, relation, "ann", note=note)
    assert db["links"].count == 0


def test_linking_a_passage_to_itself_or_to_nothing_is_refused(db, pair):
    with pytest.raises(links.LinkError, match="itself"):
        links.record(db, pair[0], pair[0], "supports", "ann")
    with pytest.raises(links.LinkError, match="no passage number 99999"):
        links.record(db, pair[0], 99999, "supports", "ann")


def test_links_survive_export_fresh_database_import(db, pair, corpus, tmp_path):
    links.record(db, *pair, "contradicts", "ann", note="“quoted” note")
    links.record(db, pair[1], passage_id(db, "002_ce58d6deddc87eed.txt", 4), links.DISMISSED, "ann")
    written = links.export(db, corpus / "labels")
    first = written.read_bytes()

    fresh = connect(tmp_path / "fresh.db")
    build(fresh, corpus / "seeds", corpus / "labels")
    assert links.records(fresh) == links.records(db)
    copy = tmp_path / "again"
    shutil.copytree(corpus / "labels", copy)
    (copy / links.FILE_NAME).unlink()
    assert links.export(fresh, copy).read_bytes() == first


def test_a_malformed_links_file_is_reported_with_line_numbers(corpus):
    (corpus / "labels" / links.FILE_NAME).write_text('{"relation": "maybe"}\nnot json\n', encoding="utf-8")
    with pytest.raises(LabelFileError) as caught:
        links.read_file(corpus / "labels")
    assert [p.split(":")[0] for p in caught.value.problems] == ["links.jsonl line 1", "links.jsonl line 2"]
