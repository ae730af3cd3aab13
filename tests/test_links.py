"""Links between passages: recorded, shown from both ends, mirrored in labels/links.jsonl."""

import errno
import json
import os
import shutil

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import passage_id

from webapp.cli import main
from webapp.labels import links, reconcile
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
    [("agrees", "", "Unknown relation 'agrees'"), ("supports", "x" * 501, "a note can be at most 500 characters")],
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



def test_a_links_file_with_an_overlong_note_or_bad_bytes_is_refused_not_loaded(db, pair, corpus):
    links.record(db, *pair, "contradicts", "alice", "fine")
    links.export(db, corpus / "labels")
    path = corpus / "labels" / links.FILE_NAME
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    path.write_text(json.dumps({**record, "note": "n" * 501}) + "\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match="links.jsonl line 1: The note is 501 characters"):
        links.read_file(corpus / "labels")
    path.write_bytes(b'{"note": "\xff"}\n')
    with pytest.raises(LabelFileError, match="links.jsonl: not UTF-8"):
        links.read_file(corpus / "labels")

# --- the links file lags behind a committed change: its pending mark and reconcile ----------

NO_SPACE = os.strerror(errno.ENOSPC)
NOT_WRITTEN = f"Saved in the database but could not write labels/links.jsonl: {NO_SPACE}"
REWROTE = "Rewrote links.jsonl from the database (a link change had not reached it)."


def fill_disk(monkeypatch) -> None:
    """Make every write of labels/links.jsonl fail as on a full disk, until monkeypatch.undo()."""
    def full(path, content):
        raise OSError(errno.ENOSPC, NO_SPACE, str(path))

    monkeypatch.setattr(links, "atomic_write", full)


def csrf(client) -> str:
    """The CSRF token a page carries."""
    page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    return page.select_one('meta[name="csrf-token"]')["content"]


def load(corpus) -> str:
    """Run `counterpoint load` on the corpus and return what it printed."""
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 0, result.output
    return result.output


def pairs_in_file(corpus) -> list[tuple]:
    """(source, target, relation) of every record in labels/links.jsonl."""
    return [(r.source_document, r.target_document, r.relation) for r in links.read_file(corpus / "labels")]


def test_a_removed_link_whose_file_write_failed_never_comes_back(client, db, pair, corpus, monkeypatch, tmp_path):
    source, target = pair
    token = csrf(client)
    confirmed = client.post(
        f"/passages/{source}/links", data={"csrf_token": token, "target": target, "relation": "contradicts"}
    )
    assert confirmed.status_code == 303
    linked = pairs_in_file(corpus)
    assert len(linked) == 1 and not links.pending(db)

    fill_disk(monkeypatch)
    removed = client.post(f"/passages/{source}/links/remove", data={"csrf_token": token, "target": target},
                          follow_redirects=True)

    assert removed.status_code == 200  # saved in the database: the page says the file is behind
    assert NOT_WRITTEN in removed.get_data(as_text=True)
    assert db["links"].count == 0 and pairs_in_file(corpus) == linked  # the file still has it
    assert links.pending(db)  # recorded, not silent

    # The disk is still full: reconcile says so, and the load keeps the stale file out.
    report = reconcile.reconcile(db, corpus / "labels")
    assert report.failed == [f"{NOT_WRITTEN}; run `counterpoint labels export` when fixed."]
    assert NOT_WRITTEN in load(corpus)
    assert db["links"].count == 0 and links.pending(db)

    monkeypatch.undo()
    assert REWROTE in load(corpus)
    assert pairs_in_file(corpus) == [] and db["links"].count == 0 and not links.pending(db)
    fresh = connect(tmp_path / "fresh.db")
    build(fresh, corpus / "seeds", corpus / "labels")
    assert fresh["links"].count == 0
    fresh.close()


@pytest.mark.parametrize(("route", "form", "relation"), [
    ("links", {"relation": "supports", "note": "same numbers"}, "supports"),
    ("links/dismiss", {}, links.DISMISSED),
], ids=["confirmed", "dismissed"])
def test_a_decision_whose_file_write_failed_is_in_the_file_after_reconcile(
    client, db, pair, corpus, monkeypatch, route, form, relation
):
    source, target = pair
    fill_disk(monkeypatch)
    reply = client.post(f"/passages/{source}/{route}", data={"csrf_token": csrf(client), "target": target, **form},
                        headers={"HX-Request": "true"})
    # htmx swaps the panel in, with the warning where the annotator is looking.
    alert = BeautifulSoup(reply.get_data(as_text=True), "html.parser").select_one("[role=alert]")
    assert reply.status_code == 200 and alert is not None and NOT_WRITTEN in alert.get_text()
    assert [r.relation for r in links.records(db)] == [relation]
    assert not (corpus / "labels" / links.FILE_NAME).exists() and links.pending(db)

    monkeypatch.undo()
    report = reconcile.reconcile(db, corpus / "labels")

    assert report.rewrote_links and report.failed == []
    assert report.messages() == [REWROTE]
    assert links.read_file(corpus / "labels") == links.records(db)
    documents = [db["passages"].get(pid)["document"] for pid in pair]
    assert pairs_in_file(corpus) == [(*documents, relation)]
    assert not links.pending(db)
    assert reconcile.reconcile(db, corpus / "labels").messages() == []


def test_a_file_written_but_not_unmarked_is_not_reported_as_rewritten(db, pair, corpus):
    links.record(db, *pair, "supports", "ann")
    # The process dies between writing the file and clearing the mark.
    (corpus / "labels" / links.FILE_NAME).write_text(links.format_records(links.records(db)), encoding="utf-8")
    assert links.pending(db)
    report = reconcile.reconcile(db, corpus / "labels")
    assert not report.rewrote_links and report.messages() == []
    assert not links.pending(db)


def test_a_link_committed_while_the_file_is_written_stays_pending(app, db, pair, corpus, monkeypatch):
    source, target = pair
    links.record(db, source, target, "supports", "ann")
    other = connect(app.config["DATABASE"])
    write = links.atomic_write

    def slow_write(path, content):
        # Another process commits a link after this export has read the links.
        links.record(other, target, source, "same_claim", "bea")
        write(path, content)

    monkeypatch.setattr(links, "atomic_write", slow_write)
    links.export(db, corpus / "labels")
    monkeypatch.undo()
    other.close()

    assert [r.annotator for r in links.read_file(corpus / "labels")] == ["ann"]
    assert links.pending(db)
    assert reconcile.reconcile(db, corpus / "labels").rewrote_links
    assert sorted(r.annotator for r in links.read_file(corpus / "labels")) == ["ann", "bea"]
