"""`counterpoint documents import`: text, Markdown and HTML files, and pre-split passages as JSON Lines."""

import json
from pathlib import Path

import pytest
from conftest import import_documents

from webapp.cli import main
from webapp.corpus import taxonomy
from webapp.store.db import connect

ARTICLE = (
    "Talks in Kabul raise hopes and fears\n\nBy Jane Doe\n\n"
    "European officials met Taliban representatives in Kabul last week. The talks were technical.\n\n"
    "Rights groups condemned the visit. They said no Afghan could be sent back safely.\n"
)


def state(corpus: Path) -> dict:
    """Everything an import may change: corpus files and content tables."""
    files = {
        str(p.relative_to(corpus)): p.read_bytes()
        for folder in ("seeds", "labels")
        for p in sorted((corpus / folder).rglob("*"))
        if p.is_file()
    }
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        tables = {t: list(db[t].rows) for t in ("documents", "passages", "topics", "labels")}
    finally:
        db.close()
    return {"files": files, "tables": tables}


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write an input file outside the corpus."""
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_a_text_file_is_saved_to_seeds_with_its_metadata_and_imported(runner, loaded, tmp_path):
    path = write(tmp_path, "Talks In Kabul.txt", ARTICLE)
    result = import_documents(runner, loaded, str(path), "--outlet", "The Paper", "--date", "2024-03-09")
    assert result.exit_code == 0, result.output
    assert "seeds/talks-in-kabul.txt: 4 passages" in result.output
    assert (loaded / "seeds" / "talks-in-kabul.txt").read_text(encoding="utf-8") == ARTICLE
    sidecar = (loaded / "seeds" / "talks-in-kabul.txt.toml").read_text(encoding="utf-8")
    assert 'outlet = "The Paper"' in sidecar and 'date = "2024-03-09"' in sidecar
    db = connect(loaded / "instance" / "counterpoint.db")
    assert db["documents"].get("talks-in-kabul.txt")["outlet"] == "The Paper"
    assert [r[0] for r in db.execute("SELECT kind FROM passages WHERE document = 'talks-in-kabul.txt' ORDER BY position")] == [
        "heading", "byline", "content", "content"
    ]
    db.close()


def test_html_with_a_sidecar_file_and_a_chosen_name(runner, loaded, tmp_path):
    body = "".join(
        f"<p>Paragraph {i}: officials met Taliban representatives in Kabul to discuss returns, according"
        " to people briefed on the meeting, and rights groups objected.</p>"
        for i in range(4)
    )
    path = write(tmp_path, "page.html", f"<html><head><title>Page</title></head><body><article>{body}</article></body></html>")
    write(tmp_path, "page.html.toml", 'title = "From the sidecar"\nauthor = "Jane Doe"\n')
    result = import_documents(runner, loaded, str(path), "--name", "kabul-talks.txt", "--kind", "news report")
    assert result.exit_code == 0, result.output
    db = connect(loaded / "instance" / "counterpoint.db")
    document = db["documents"].get("kabul-talks.txt")
    assert (document["title"], document["author"], document["kind"]) == ("From the sidecar", "Jane Doe", "news report")
    assert db.execute("SELECT count(*) FROM passages WHERE document = 'kabul-talks.txt' AND kind = 'content'").fetchone()[0] == 4
    db.close()


def test_importing_the_same_file_again_changes_nothing(runner, loaded, tmp_path):
    path = write(tmp_path, "talks.md", ARTICLE)
    assert import_documents(runner, loaded, str(path), "--title", "Talks").exit_code == 0
    before = state(loaded)
    again = import_documents(runner, loaded, str(path), "--title", "Talks")
    assert again.exit_code == 0 and "seeds/talks.md: unchanged" in again.output
    assert state(loaded) == before


def test_a_different_document_under_a_taken_name_is_refused(runner, loaded, tmp_path):
    assert import_documents(runner, loaded, str(write(tmp_path, "talks.txt", ARTICLE))).exit_code == 0
    before = state(loaded)
    other = tmp_path / "other"
    other.mkdir()
    result = import_documents(runner, loaded, str(write(other, "talks.txt", "A different text. Entirely.")))
    assert result.exit_code == 1
    assert "A different document named talks.txt is already in the corpus" in result.output
    assert state(loaded) == before


def test_two_files_that_would_share_a_name_are_refused_before_either_is_saved(runner, loaded, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    before = state(loaded)
    result = import_documents(runner, loaded, str(write(tmp_path, "talks.txt", ARTICLE)), str(write(other, "Talks.txt", "Other text.")))
    assert result.exit_code == 1
    assert "Two files would both be saved as talks.txt; import them one at a time with --name." in result.output
    assert state(loaded) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", " \n\n", "The text is empty"),
        ("latin.txt", "Café crème".encode("latin-1"), "latin.txt is not valid UTF-8 text: byte 0xe9 at position 3"),
        ("page.html", "<html><body><script>x()</script></body></html>", "No article text"),
        ("big.txt", "x" * 2000, "big.txt is 2,000 bytes, over the limit of 1,000 bytes"),
        ("dated.txt", ARTICLE, "good.txt: The date 'soon' is not a date"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message_and_nothing_changes(runner, loaded, tmp_path, monkeypatch, name, content, message):
    monkeypatch.setenv("COUNTERPOINT_MAX_CONTENT_LENGTH", "1000")
    good = write(tmp_path, "good.txt", ARTICLE)
    before = state(loaded)
    result = import_documents(runner, loaded, str(good), str(write(tmp_path, name, content)), *(["--date", "soon"] if name == "dated.txt" else []))
    assert result.exit_code == 1
    assert "nothing was imported" in result.output and message in result.output
    assert state(loaded) == before


def jsonl(*records: dict) -> str:
    """JSON Lines text from records."""
    return "".join(json.dumps(r) + "\n" for r in records)


BATCH = jsonl(
    {"document": "doc-1", "title": "One", "outlet": "Paper", "date": "2024-01-02", "text": "First passage, kept  as is.",
     "labels": [{"topic": "recognition", "stance": "favour", "holder": "A minister"}]},
    {"document": "doc-1", "text": "Second passage.", "labels": [{"topic": "security", "stance": "against", "annotator": "bo"}]},
    {"document": "doc-2", "title": "Two", "text": "Only passage of doc 2."},
)


def test_jsonl_passages_are_kept_as_given_with_labels_stored_and_exported(runner, loaded, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_ANNOTATOR", "importer")
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "batch.jsonl", BATCH)))
    assert result.exit_code == 0, result.output
    assert "2 documents (2 new or changed), 3 passages, 2 labels stored, in seeds/batch.jsonl" in result.output
    db = connect(loaded / "instance" / "counterpoint.db")
    assert [tuple(r) for r in db.execute("SELECT document, position, kind, text FROM passages WHERE document LIKE 'doc-%' ORDER BY 1, 2")] == [
        ("doc-1", 0, "content", "First passage, kept  as is."),
        ("doc-1", 1, "content", "Second passage."),
        ("doc-2", 0, "content", "Only passage of doc 2."),
    ]
    assert (db["documents"].get("doc-1")["outlet"], db["documents"].get("doc-2")["title"]) == ("Paper", "Two")
    labels = [tuple(r) for r in db.execute("SELECT position, topic, stance, holder, annotator FROM labels WHERE document = 'doc-1' ORDER BY 1")]
    assert labels == [(0, "recognition", "favour", "A minister", "importer"), (1, "security", "against", None, "bo")]
    db.close()
    exported = (loaded / "labels" / "passages" / "doc-1.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["annotator"] for x in exported] == ["importer", "bo"]
    assert (loaded / "seeds" / "batch.jsonl").exists()


def test_a_rebuild_reproduces_jsonl_documents_and_labels_exactly(runner, loaded, tmp_path):
    assert import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "batch.jsonl", BATCH))).exit_code == 0
    before = state(loaded)
    (loaded / "instance" / "counterpoint.db").unlink()
    assert runner.invoke(main, ["--corpus", str(loaded), "load"]).exit_code == 0
    after = state(loaded)
    assert after["files"] == before["files"]
    for table in ("passages", "labels", "topics"):
        assert after["tables"][table] == before["tables"][table]
    key = lambda row: {k: v for k, v in row.items() if k != "imported"}
    assert list(map(key, after["tables"]["documents"])) == list(map(key, before["tables"]["documents"]))


def test_importing_the_same_jsonl_again_changes_nothing(runner, loaded, tmp_path):
    path = write(tmp_path, "batch.jsonl", BATCH)
    assert import_documents(runner, loaded, "--jsonl", str(path)).exit_code == 0
    before = state(loaded)
    again = import_documents(runner, loaded, "--jsonl", str(path))
    assert again.exit_code == 0 and "(0 new or changed)" in again.output and "0 labels stored" in again.output
    assert state(loaded) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "batch.jsonl line 2: not valid JSON"),
        (json.dumps({"document": "d", "text": "x", "labels": [{"topic": "security", "stance": "maybe"}]}),
         "batch.jsonl line 2: Unknown stance “maybe” for topic security; use favour, neutral or against."),
        (json.dumps({"document": "d", "text": "x", "labels": [{"topic": "weather", "stance": "favour"}]}),
         "batch.jsonl line 2: Unknown topic “weather”"),
        (json.dumps({"document": "a/b", "text": "x"}), "batch.jsonl line 2: document name 'a/b'"),
    ],
)
def test_a_bad_jsonl_line_is_reported_by_number_and_nothing_changes(runner, loaded, tmp_path, line, message):
    content = jsonl({"document": "fine", "text": "Fine."}) + line + "\n"
    before = state(loaded)
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "batch.jsonl", content)))
    assert result.exit_code == 1 and "nothing was imported" in result.output and message in result.output
    assert state(loaded) == before


def test_jsonl_bytes_that_are_not_utf8_are_refused(runner, loaded, tmp_path):
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "batch.jsonl", '{"text": "café"}'.encode("latin-1"))))
    assert result.exit_code == 1 and "batch.jsonl is not valid UTF-8 text" in result.output


def test_add_topics_appends_missing_topics_to_the_taxonomy(runner, loaded, tmp_path):
    content = jsonl(
        {"document": "d", "text": "Dams help farmers.", "labels": [
            {"topic": "water", "stance": "favour", "topic_name": "Water policy", "topic_target": "Building dams is right."}]},
    )
    path = write(tmp_path, "water.jsonl", content)
    refused = import_documents(runner, loaded, "--jsonl", str(path))
    assert refused.exit_code == 1 and "--add-topics creates missing ones" in refused.output
    result = import_documents(runner, loaded, "--jsonl", "--add-topics", str(path))
    assert result.exit_code == 0, result.output
    assert "Added topics to labels/taxonomy.toml: water" in result.output
    water = taxonomy.load(loaded / "labels" / "taxonomy.toml").get("water")
    assert (water.name, water.target) == ("Water policy", "Building dams is right.")
    text = (loaded / "labels" / "taxonomy.toml").read_text(encoding="utf-8")
    assert text.startswith("# Counterpoint taxonomy") and text.count("[[topics]]") == 5
    db = connect(loaded / "instance" / "counterpoint.db")
    assert db["topics"].get("water")["target"] == "Building dams is right."
    db.close()


def test_add_topics_starts_a_taxonomy_and_names_the_topics_without_a_target(runner, tmp_path):
    corpus = tmp_path / "fresh"
    content = jsonl({"document": "d", "text": "Dams help farmers.", "labels": [{"topic": "water", "stance": "favour"}]})
    result = runner.invoke(main, ["--corpus", str(corpus), "documents", "import", "--jsonl", "--add-topics",
                                  str(write(tmp_path, "water.jsonl", content))])
    assert result.exit_code == 0, result.output
    assert "No target proposition given for: water" in result.output
    water = taxonomy.load(corpus / "labels" / "taxonomy.toml").get("water")
    assert water.target_missing and "TODO" not in (corpus / "labels" / "taxonomy.toml").read_text()


def test_jsonl_documents_already_in_the_corpus_are_refused(runner, loaded, tmp_path):
    assert import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "batch.jsonl", BATCH))).exit_code == 0
    before = state(loaded)
    other = write(tmp_path, "more.jsonl", jsonl({"document": "doc-2", "text": "Changed."}, {"document": "doc-3", "text": "New."}))
    result = import_documents(runner, loaded, "--jsonl", str(other))
    assert result.exit_code == 1 and "Already in the corpus: doc-2" in result.output
    assert state(loaded) == before


def test_name_needs_a_single_text_file(runner, loaded, tmp_path):
    result = import_documents(runner, loaded, "--jsonl", "--name", "x.txt", str(write(tmp_path, "b.jsonl", BATCH)))
    assert result.exit_code == 2 and "--name works with one text file only" in result.output


def test_jsonl_labels_are_not_imported_as_the_adjudicator(runner, loaded, tmp_path):
    content = jsonl({"document": "d", "text": "Dams help farmers.", "labels": [{"topic": "security", "stance": "favour"}]})
    path = write(tmp_path, "batch.jsonl", content)
    before = state(loaded)
    result = import_documents(runner, loaded, "--jsonl", "--annotator", "adjudicator", str(path))
    assert result.exit_code == 1 and "batch.jsonl line 1: The annotator “adjudicator” is reserved" in result.output
    assert state(loaded) == before
    assert import_documents(runner, loaded, "--jsonl", "--annotator", "erin", str(path)).exit_code == 0
