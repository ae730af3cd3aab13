"""The consensus table equals a fresh count of the labels after every kind of write."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_db
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.analysis import agreement, comparison
from webapp.corpus import sources
from webapp.interchange import transfer
from webapp.labels import consensus, editor, fileimport, mirror
from webapp.labels.build import build
from webapp.labels.editor import Choice
from webapp.labels.records import LabelRecord, format_records
from webapp.labels.validation import LabelError
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent
TOPICS = ("recognition", "deportation", "womens_rights", "security")
STANCES = ("favour", "neutral", "against")
DOCUMENT = "002_ce58d6deddc87eed.txt"

holders = st.sampled_from(("", "Taliban", "UN", "Zoë"))
choice_sets = st.dictionaries(st.sampled_from(TOPICS), st.tuples(st.sampled_from(STANCES), holders), max_size=3)
passage_index = st.integers(0, 5)
writes = st.lists(
    st.one_of(
        st.tuples(st.just("save"), passage_index, st.sampled_from(("ann", "bob", "cy")), choice_sets),
        st.tuples(st.just("undo"), st.sampled_from(("ann", "bob", "cy"))),
        st.tuples(st.just("adjudicate"), passage_index, choice_sets),
        st.tuples(st.just("withdraw"), passage_index),
        st.tuples(st.just("store"), passage_index, st.sampled_from(("ann", "dee")), st.sampled_from(TOPICS),
                  st.sampled_from(STANCES), holders, st.booleans()),
        st.tuples(st.just("retext"), passage_index, st.booleans()),
        st.tuples(st.just("redate"), st.sampled_from(("2020-01-01", "2030-06-30"))),
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The seed corpus built once, to copy for each example."""
    path = tmp_path_factory.mktemp("consensus") / "built.db"
    db = connect(path)
    build(db, REPO / "seeds", REPO / "labels")
    db.close()
    return path


def passages(db) -> list[dict]:
    """The first content passages of the test document."""
    return list(db.query(
        "SELECT id, document, position, text FROM passages WHERE document = ? AND kind = 'content' ORDER BY position",
        [DOCUMENT],
    ))


def texts(db) -> list[str]:
    """Every passage text of the test document, in order."""
    return [t for (t,) in db.execute("SELECT text FROM passages WHERE document = ? ORDER BY position", [DOCUMENT])]


def store_texts(db, new_texts: list[str], date: str = "") -> None:
    """Replace the test document's passages (and date), as a corpus reload does."""
    meta = dict(next(db.query("SELECT * FROM documents WHERE id = ?", [DOCUMENT])))
    meta = {k: v or "" for k, v in meta.items()}
    if date:
        meta["date"] = date
    with db.atomic():
        sources.store_documents(db, [sources.presplit_document(DOCUMENT, new_texts, meta)])


def play(db, step) -> None:
    """Carry out one write through the code path the app uses for it."""
    kind, *args = step
    shown = passages(db)
    if kind == "save":
        index, annotator, chosen = args
        try:
            choices = editor.check_choices([Choice(t, s, h or None) for t, (s, h) in chosen.items()], TOPICS)
        except LabelError:
            return
        editor.save(db, shown[index]["id"], annotator, choices)
    elif kind == "undo":
        last = editor.last_undoable(db, args[0])
        try:
            if last:
                editor.undo(db, last.id, args[0])
        except editor.EditError:
            return  # another write changed these labels since; undo refuses, as it should
    elif kind == "adjudicate":
        index, chosen = args
        agreement.adjudicate(db, shown[index]["id"], [Choice(t, s, h or None) for t, (s, h) in chosen.items()], "lead")
    elif kind == "withdraw":
        agreement.withdraw(db, shown[args[0]]["id"], "lead")
    elif kind == "store":
        index, annotator, topic, stance, holder, stale = args
        text = shown[index]["text"] + (" (older wording)" if stale else "")
        mirror.store(db, [LabelRecord(DOCUMENT, shown[index]["position"], topic, stance, holder or None, annotator,
                                      "2026-01-01T00:00:00Z", text)])
    elif kind == "retext":
        index, shift = args
        new_texts = texts(db)
        if shift:
            # A paragraph inserted above: labels follow their text to its new place.
            new_texts.insert(0, "A new opening paragraph.")
        else:
            new_texts[shown[index]["position"]] += " Edited."
        store_texts(db, new_texts)
        mirror.reanchor(db, DOCUMENT)
    elif kind == "redate":
        store_texts(db, texts(db), date=args[0])
        consensus.catch_up(db)


def assert_table_is_fresh(db) -> None:
    """The table, its counts and the document figures all equal what the labels give now."""
    assert db.execute("SELECT count(*) FROM consensus_pending").fetchone()[0] == 0
    assert consensus.stored(db) == consensus.fresh(db)
    counts = {tuple(r[:3]): r[3] for r in db.execute("SELECT topic, stance, document, n FROM consensus_counts")}
    recounted = {tuple(r[:3]): r[3] for r in db.execute(
        "SELECT topic, stance, document, count(*) FROM consensus GROUP BY topic, stance, document")}
    assert counts == recounted
    dates = dict(db.execute("SELECT passage, date FROM consensus"))
    for pid, date in db.execute("SELECT p.id, d.date FROM passages p JOIN documents d ON d.id = p.document"):
        if pid in dates:
            assert dates[pid] == (date or "")


@given(steps=writes)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_sequence_of_writes_leaves_the_table_equal_to_a_fresh_count(template, steps):
    db = copy_db(template)
    try:
        assert_table_is_fresh(db)
        for step in steps:
            play(db, step)
            assert_table_is_fresh(db)
    finally:
        db.close()


def topic_of(db, pid: int, topic: str):
    """The table's row for one passage and topic, or None."""
    return consensus.stored(db).get((pid, topic))


def test_a_save_and_its_undo_change_the_row_in_the_same_transaction(template):
    db = copy_db(template)
    pid = passages(db)[0]["id"]
    change = editor.save(db, pid, "ann", [Choice("security", "against", "UN")])
    assert topic_of(db, pid, "security")[0] in STANCES
    assert consensus.stored(db) == consensus.fresh(db)
    editor.undo(db, change.id, "ann")
    assert consensus.stored(db) == consensus.fresh(db)


def test_an_adjudication_decides_every_topic_and_withdrawing_it_restores_the_votes(template):
    db = copy_db(template)
    pid = passages(db)[1]["id"]
    before = {k: v for k, v in consensus.stored(db).items() if k[0] == pid}
    agreement.adjudicate(db, pid, [Choice("womens_rights", "against", "UN")], "lead")
    assert {k: v for k, v in consensus.stored(db).items() if k[0] == pid} == {
        (pid, "womens_rights"): ("against", False, "UN")}
    agreement.withdraw(db, pid, "lead")
    assert {k: v for k, v in consensus.stored(db).items() if k[0] == pid} == before


def test_disagreeing_votes_are_contested_and_the_majority_wins(template):
    db = copy_db(template)
    pid = passages(db)[2]["id"]
    for annotator, stance in (("x1", "favour"), ("x2", "favour"), ("x3", "against")):
        editor.save(db, pid, annotator, [Choice("recognition", stance, "UN")])
    stance, contested, holder = topic_of(db, pid, "recognition")
    assert contested and holder == "UN"
    assert consensus.stored(db) == consensus.fresh(db)


def test_a_label_file_import_and_an_exchange_import_update_the_table(template, tmp_path):
    db = copy_db(template)
    shown = passages(db)
    path = tmp_path / f"{DOCUMENT}.jsonl"
    path.write_text(format_records([LabelRecord(DOCUMENT, shown[3]["position"], "security", "against", None, "imp",
                                                "2026-01-01T00:00:00Z", shown[3]["text"])]), encoding="utf-8")
    fileimport.import_files(db, [path], TOPICS)
    assert (shown[3]["id"], "security") in consensus.stored(db)
    assert consensus.stored(db) == consensus.fresh(db)
    item = transfer.Item("test", "exch", shown[4]["text"], DOCUMENT, shown[4]["position"],
                         labels=[transfer.Label("deportation", "favour")])
    transfer.import_items(db, [item], "exchange")
    assert consensus.stored(db) == consensus.fresh(db)


def test_a_changed_passage_text_drops_its_labels_from_the_table(template):
    db = copy_db(template)
    labelled = [p for p in passages(db) if any(k[0] == p["id"] for k in consensus.stored(db))]
    target = labelled[0]
    new_texts = texts(db)
    new_texts[target["position"]] = "Entirely different words now."
    store_texts(db, new_texts)
    mirror.reanchor(db, DOCUMENT)
    assert not [k for k in consensus.stored(db) if k[0] == target["id"]]
    assert consensus.stored(db) == consensus.fresh(db)


def test_writes_below_the_label_layer_are_caught_up_by_the_next_page_read(template):
    db = copy_db(template)
    new_texts = texts(db)
    new_texts.insert(0, "A new opening paragraph.")
    store_texts(db, new_texts)
    assert db.execute("SELECT count(*) FROM consensus_pending").fetchone()[0]
    comparison.stance_matrix(db)
    assert db.execute("SELECT count(*) FROM consensus_pending").fetchone()[0] == 0
    assert consensus.stored(db) == consensus.fresh(db)


def test_a_load_fills_the_table_and_rebuild_changes_nothing(template):
    db = copy_db(template)
    assert consensus.stored(db) and consensus.stored(db) == consensus.fresh(db)
    before = consensus.stored(db)
    consensus.rebuild(db)
    assert consensus.stored(db) == before


def test_topic_page_counts_and_columns_come_from_the_table(template):
    db = copy_db(template)
    topic = "deportation"
    cards = comparison.topic_cards(db, topic, comparison.Filters())
    view = comparison.topic_view(db, topic, comparison.Filters())
    assert view.total == len(cards) == sum(view.column_totals.values())
    for stance in STANCES:
        expected = [c.id for c in cards if c.stance == stance][: comparison.PAGE]
        assert [c.id for c in view.columns[stance]] == expected
    fresh = consensus.fresh(db)
    assert {c.id: c.stance for c in cards} == {pid: v[0] for (pid, t), v in fresh.items() if t == topic}


def test_text_filter_reads_the_full_text_index_not_like(template):
    db = copy_db(template)
    asked = []
    db.conn.set_trace_callback(asked.append)
    where, params = comparison._where(db, "security", comparison.Filters(q="embassies"))
    db.conn.set_trace_callback(None)
    assert any("passages_fts MATCH" in sql for sql in asked) and "LIKE" not in where
    # Stemmed as the full-text index stems: "embassies" finds passages that say "embassy".
    cards = comparison.topic_cards(db, "security", comparison.Filters(q="embassies"))
    assert cards and all("embass" in db.execute("SELECT text FROM passages WHERE id = ?", [c.id]).fetchone()[0].lower()
                         or "embass" in c.holder.lower() for c in cards)


def test_filtered_counts_rows_and_pages_agree_with_the_filtered_cards(template):
    db = copy_db(template)
    every = comparison.topic_cards(db, "security", comparison.Filters())
    holder = next(c.holder for c in every if c.holder)
    for filters in (comparison.Filters(holder=holder), comparison.Filters(document=every[0].document),
                    comparison.Filters(stance="against"), comparison.Filters(q="Taliban"),
                    comparison.Filters(view="holder", limit=2), comparison.Filters(view="source", limit=2)):
        cards = comparison.topic_cards(db, "security", filters)
        view = comparison.topic_view(db, "security", filters)
        assert view.total == len(cards), filters
        if view.row_total <= filters.limit:
            assert sum(n for _, _, n in view.rows) in (0, len(cards))
        for name, shown, n in view.rows:
            assert len(shown) == min(n, filters.limit)
        assert len(view.rows) == min(view.row_total, filters.limit)
    assert comparison.topic_cards(db, "security", comparison.Filters(), limit=3, offset=2) == every[2:5]
