"""Building the database from seeds/ and labels/: idempotent, and honest when texts change."""

from pathlib import Path

from webapp.corpus import splitting
from webapp.labels import mirror
from webapp.labels.build import build
from webapp.labels.records import LabelRecord, format_records
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent
DOC = "002_ce58d6deddc87eed.txt"


def snapshot(database) -> dict[str, list]:
    """Every row of the content tables, for comparing two states of a database."""
    return {t: list(database[t].rows) for t in ("documents", "passages", "topics", "labels")}


def test_loading_twice_changes_nothing(corpus, tmp_path):
    database = connect(tmp_path / "db.sqlite")
    first = build(database, corpus / "seeds", corpus / "labels")
    before = snapshot(database)
    second = build(database, corpus / "seeds", corpus / "labels")
    assert snapshot(database) == before
    assert first.changed_documents and not second.changed_documents
    assert (second.documents, second.passages, second.needs_review) == (5, 76, 0)


def test_every_content_passage_of_the_seeds_is_hand_labelled(db):
    unlabelled = db.execute(
        """SELECT p.document, p.position FROM passages p WHERE p.kind = 'content' AND NOT EXISTS (
        SELECT 1 FROM labels l WHERE l.document = p.document AND l.position = p.position
        AND l.text_hash = p.text_hash)"""
    ).fetchall()
    assert unlabelled == []
    on_furniture = db.execute(
        """SELECT l.document, l.position FROM labels l JOIN passages p
        ON p.document = l.document AND p.position = l.position WHERE p.kind != 'content'"""
    ).fetchall()
    assert on_furniture == []


def test_seed_metadata_is_read_from_sources_toml(db):
    doc = db["documents"].get("004_1cda40431279602b.txt")
    assert doc["outlet"] == "Caliber.Az"
    assert doc["kind"] == "interview roundup"
    assert db["documents"].get("003_bbfe681b051be986.txt")["date"] == "2024-03-09"


def test_a_changed_paragraph_flags_its_labels_for_review_instead_of_moving_them(app, db, corpus):
    path = corpus / "seeds" / DOC
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Since last year, the Pakistan government has deported 527,000", "Since 2023, Pakistan has deported 600,000"), encoding="utf-8")
    report = build(db, corpus / "seeds", corpus / "labels")
    assert report.changed_documents == (DOC,)
    assert report.needs_review == 1
    stale = db.execute(
        """SELECT l.position, l.text FROM labels l JOIN passages p ON p.document = l.document
        AND p.position = l.position WHERE p.text_hash != l.text_hash"""
    ).fetchall()
    assert stale[0][0] == 8 and stale[0][1].startswith("Since last year")


def test_labels_follow_their_text_when_a_paragraph_is_inserted_above(app, db, corpus):
    path = corpus / "seeds" / DOC
    paragraphs = path.read_text(encoding="utf-8").split("\n\n")
    paragraphs.insert(5, "An editor's note inserted in a later version of the article, a full sentence.")
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    before = sorted((r.topic or "", r.annotator, r.text) for r in mirror.records(db, DOC))
    report = build(db, corpus / "seeds", corpus / "labels")
    after = mirror.records(db, DOC)
    assert report.moved_labels > 0 and report.needs_review == 0
    assert sorted((r.topic or "", r.annotator, r.text) for r in after) == before
    texts = {r["position"]: r["text"] for r in db["passages"].rows_where("document = ?", [DOC])}
    assert all(texts[r.position] == r.text for r in after)
    exported = (corpus / "labels" / "passages" / f"{DOC}.jsonl").read_text(encoding="utf-8")
    assert exported == format_records(after)


def test_a_paragraph_inserted_above_an_edited_one_reloads_and_keeps_every_label(app, db, corpus):
    # The edited paragraph's label cannot follow its text (it is gone), so it stays put, and the
    # labels that would move onto its place stay too, flagged for review; the load used to fail
    # on the labels key instead.
    path = corpus / "seeds" / DOC
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Since last year, the Pakistan government has deported 527,000",
                                 "Since 2023, Pakistan has deported 600,000"), encoding="utf-8")
    build(db, corpus / "seeds", corpus / "labels")
    paragraphs = path.read_text(encoding="utf-8").split("\n\n")
    path.write_text("\n\n".join(["A note added at the top of a later version of the article.", *paragraphs]),
                    encoding="utf-8")
    before = sorted((r.topic or "", r.annotator, r.text) for r in mirror.records(db, DOC))
    report = build(db, corpus / "seeds", corpus / "labels")
    after = mirror.records(db, DOC)
    assert sorted((r.topic or "", r.annotator, r.text) for r in after) == before
    texts = {r["position"]: r["text"] for r in db["passages"].rows_where("document = ?", [DOC])}
    assert report.moved_labels > 0
    assert report.needs_review == sum(texts.get(r.position) != r.text for r in after) < len(after)


def test_a_label_whose_passage_vanished_is_kept_and_flagged(app, db, corpus):
    mirror.store(db, [LabelRecord(DOC, 99, "security", "neutral", None, "someone", "2026-01-01T00:00:00Z", "Gone text.")])
    report = build(db, corpus / "seeds", corpus / "labels")
    assert report.needs_review == 1
    assert any(r.position == 99 for r in mirror.records(db, DOC))


def test_passage_identity_is_stable_across_reimports(app, db, corpus):
    ids = {(r["document"], r["position"]): r["id"] for r in db["passages"].rows}
    build(db, corpus / "seeds", corpus / "labels")
    assert {(r["document"], r["position"]): r["id"] for r in db["passages"].rows} == ids
    row = db.execute("SELECT text, text_hash FROM passages WHERE id = 1").fetchone()
    assert row[1] == splitting.text_hash(row[0])


def test_a_label_file_still_behind_the_database_is_not_read_back_over_newer_labels(db, corpus, monkeypatch):
    import errno

    from webapp.labels import editor, reconcile
    from webapp.labels.editor import Choice

    passage = db.execute("SELECT id FROM passages WHERE document = ? AND kind = 'content' ORDER BY position", [DOC]).fetchone()[0]

    def full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(mirror, "atomic_write", full)
    editor.save(db, passage, "alice", [Choice("security", "against", "Kabul")])
    assert reconcile.pending(db) == [DOC]  # the disk is still full: reconcile could not catch up

    build(db, corpus / "seeds", corpus / "labels")

    saved = db.execute("SELECT stance, holder FROM labels l JOIN passages p ON p.document = l.document "
                       "AND p.position = l.position WHERE p.id = ? AND l.annotator = 'alice'", [passage]).fetchall()
    assert [tuple(r) for r in saved] == [("against", "Kabul")]
