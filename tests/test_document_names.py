"""Names new documents may take: suffixes the loader reads back, no Windows device names, no case twins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import import_documents

from webapp.cli import main
from webapp.corpus import textfiles
from webapp.corpus.sources import CorpusError, check_name
from webapp.labels.build import build
from webapp.store.db import connect

ARTICLE = (
    "Talks in Kabul raise hopes and fears\n\nBy Jane Doe\n\n"
    "European officials met Taliban representatives in Kabul last week. The talks were technical.\n"
)
RESERVED = ["con.txt", "CON.txt", "aux.md", "Nul.txt", "prn.txt", "COM1", "com9.txt", "LPT1.txt", "lpt1.md",
            "com0.txt", "con.notes.txt"]
NOT_RESERVED = ["console.txt", "com10.txt", "lpt.txt", "icon.txt", "auxiliary.md", "nul-hypothesis.txt"]


def article(tmp_path: Path, name: str = "article.txt", text: str = ARTICLE) -> str:
    """An input file outside the corpus."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def seeds(corpus: Path) -> set[str]:
    """The file names in seeds/."""
    return {p.name for p in (corpus / "seeds").iterdir()}


def rebuilt_documents(corpus: Path, tmp_path: Path) -> set[str]:
    """The documents a fresh build from the corpus folder finds."""
    db = connect(tmp_path / "rebuilt.db")
    try:
        build(db, corpus / "seeds", corpus / "labels")
        return {row[0] for row in db.execute("SELECT id FROM documents")}
    finally:
        db.close()


# The rule itself.

@pytest.mark.parametrize(("given", "saved"), [("notes", "notes.txt"), ("notes.txt", "notes.txt"),
                                              ("Notes.md", "Notes.md"), ("notes.TXT", "notes.txt")])
def test_a_typed_name_keeps_a_text_suffix_or_gets_txt(given, saved):
    assert textfiles.text_document_name(given) == saved


@pytest.mark.parametrize(("given", "message"), [
    ("notes.jsonl", "ends in .jsonl, but a text document's name ends in .txt or .md"),
    ("notes.html", "ends in .html"),
    ("notes.txt.toml", "ends in .toml"),
    ("notes.v2", "ends in .v2"),
    ("../notes", "must start with a letter or digit"),
])
def test_a_typed_name_the_loader_would_not_read_back_is_refused(given, message):
    with pytest.raises(textfiles.BadInput, match=message):
        textfiles.text_document_name(given)


@pytest.mark.parametrize("name", RESERVED)
def test_windows_device_names_are_refused_with_any_suffix_and_case(name):
    with pytest.raises(CorpusError, match="reserved on Windows"):
        check_name(name)
    with pytest.raises(textfiles.BadInput, match="reserved on Windows"):
        textfiles.text_document_name(name)


@pytest.mark.parametrize("name", NOT_RESERVED)
def test_names_that_merely_start_like_a_device_are_fine(name):
    assert check_name(name) == name


# The command line.

def test_cli_name_without_suffix_is_saved_as_txt_and_survives_a_rebuild(runner, loaded, tmp_path):
    result = import_documents(runner, loaded, article(tmp_path), "--name", "notes")
    assert result.exit_code == 0, result.output
    assert "seeds/notes.txt: 3 passages" in result.output
    assert {"notes.txt", "notes.txt.toml"} <= seeds(loaded) and "notes" not in seeds(loaded)
    assert "notes.txt" in rebuilt_documents(loaded, tmp_path)


def test_cli_name_with_jsonl_suffix_is_refused_and_later_loads_still_work(runner, loaded, tmp_path):
    before = seeds(loaded)
    result = import_documents(runner, loaded, article(tmp_path), "--name", "notes.jsonl")
    assert result.exit_code == 1
    assert "ends in .jsonl" in result.output and "--jsonl" in result.output
    assert seeds(loaded) == before
    assert runner.invoke(main, ["--corpus", str(loaded), "load"]).exit_code == 0


@pytest.mark.parametrize("args", [["--name", "con.txt"], ["--name", "COM1"], ["--name", "Aux.md"]])
def test_cli_refuses_windows_device_names(runner, loaded, tmp_path, args):
    before = seeds(loaded)
    result = import_documents(runner, loaded, article(tmp_path), *args)
    assert result.exit_code == 1 and "reserved on Windows" in result.output
    assert seeds(loaded) == before


def test_cli_refuses_a_file_whose_own_name_is_a_windows_device(runner, loaded, tmp_path):
    (tmp_path / "in").mkdir()
    result = import_documents(runner, loaded, article(tmp_path / "in", "LPT1.txt"))
    assert result.exit_code == 1 and "'lpt1.txt' is reserved on Windows" in result.output
    assert "lpt1.txt" not in seeds(loaded)


def test_cli_refuses_a_name_that_differs_only_in_case(runner, loaded, tmp_path):
    assert import_documents(runner, loaded, article(tmp_path), "--name", "notes.txt").exit_code == 0
    before = seeds(loaded)
    result = import_documents(runner, loaded, article(tmp_path, text="A different text. Entirely."), "--name", "Notes.txt")
    assert result.exit_code == 1
    said = "The document notes.txt is already in the corpus, and Notes.txt differs from it only in case"
    assert said in result.output
    assert seeds(loaded) == before


def test_cli_refuses_a_case_twin_of_a_seed_file_not_yet_loaded(runner, loaded, tmp_path):
    (loaded / "seeds" / "Report.txt").write_text(ARTICLE, encoding="utf-8")
    result = import_documents(runner, loaded, article(tmp_path, "report.txt", "Another report. Quite different."))
    assert result.exit_code == 1 and "Report.txt is already in the corpus" in result.output


def test_cli_refuses_two_files_whose_names_differ_only_in_case(runner, loaded, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = article(tmp_path / "a", "Notes.txt")
    second = article(tmp_path / "b", "notes.txt", "Another text.")
    result = import_documents(runner, loaded, first, second)
    assert result.exit_code == 1 and "Two files would both be saved as notes.txt" in result.output


# JSONL batches name their documents on each line.

def batch(tmp_path: Path, *names: str, file: str = "batch.jsonl") -> str:
    """A JSONL batch with one passage per document name."""
    path = tmp_path / file
    path.write_text("".join(json.dumps({"document": n, "text": f"Passage of {n}."}) + "\n" for n in names),
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name", ["COM1", "nul.txt", "Lpt9"])
def test_a_batch_naming_a_windows_device_is_refused_by_line(runner, loaded, tmp_path, name):
    result = import_documents(runner, loaded, "--jsonl", batch(tmp_path, "fine", name))
    assert result.exit_code == 1 and "batch.jsonl line 2: document name" in result.output
    assert "reserved on Windows" in result.output and "batch.jsonl" not in seeds(loaded)


def test_a_batch_file_named_like_a_device_is_refused(runner, loaded, tmp_path):
    result = import_documents(runner, loaded, "--jsonl", batch(tmp_path, "fine", file="aux.jsonl"))
    assert result.exit_code == 1 and "'aux.jsonl' is reserved on Windows" in result.output
    assert "aux.jsonl" not in seeds(loaded)


@pytest.mark.parametrize("names", [("doc-a", "Doc-A"), ("002_CE58D6DEDDC87EED.txt",)])
def test_a_batch_with_case_twins_is_refused(runner, loaded, tmp_path, names):
    result = import_documents(runner, loaded, "--jsonl", batch(tmp_path, *names))
    assert result.exit_code == 1 and "differs only in case" in result.output
    assert "batch.jsonl" not in seeds(loaded)


# The web: the preview says what is wrong, and the name field can be changed.

@pytest.fixture
def token(client) -> str:
    """The session's CSRF token."""
    page = BeautifulSoup(client.get("/add").get_data(as_text=True), "html.parser")
    return page.find("meta", attrs={"name": "csrf-token"})["content"]


def preview(client, token, **data):
    """Post a source to the preview; returns the parsed page and the status."""
    response = client.post("/add/preview", data={"csrf_token": token, **data}, content_type="multipart/form-data")
    return BeautifulSoup(response.get_data(as_text=True), "html.parser"), response.status_code


def save(client, page: BeautifulSoup, name: str | None = None):
    """Post the preview form as shown, with the name field changed if given."""
    form = page.find("form", id="preview")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    data["passage"] = [t.text for t in form.find_all("textarea", attrs={"name": "passage"})]
    data["passage_kind"] = [s.find("option", selected=True)["value"] for s in form.find_all("select")]
    data["passage_auto"] = [i["value"] for i in form.find_all("input", attrs={"name": "passage_auto"})]
    if name is not None:
        data["name"] = name
    return client.post("/add/save", data=data)


@pytest.mark.parametrize("source", [{"title": "Con"}, {"title": "LPT1"}, {"file_name": "AUX.md"}])
def test_the_web_preview_refuses_a_device_name_until_another_is_typed(app, client, token, source):
    import io

    if "file_name" in source:
        fields = {"file": (io.BytesIO(ARTICLE.encode()), source["file_name"])}
    else:
        fields = {"source_text": ARTICLE, "title": source["title"]}
    page, status = preview(client, token, **fields)
    assert status == 422 and "reserved on Windows" in page.find(class_="error").text
    refused = save(client, page)
    assert refused.status_code == 422 and "reserved on Windows" in refused.get_data(as_text=True)
    assert not [p for p in Path(app.config["SEEDS_DIR"]).iterdir() if p.name.lower().startswith(("con", "lpt", "aux"))]
    saved = save(client, page, "kabul-talks")
    assert saved.status_code == 303 and saved.headers["Location"] == "/documents/kabul-talks.txt"


def test_the_web_never_saves_a_case_twin(app, client, token):
    seeds_dir = Path(app.config["SEEDS_DIR"])
    (seeds_dir / "Talks.txt").write_text("Another text, placed by hand. Not loaded yet.\n", encoding="utf-8")
    page, _ = preview(client, token, source_text=ARTICLE, title="Talks")
    note = " ".join(page.find(id="name-note").text.split())
    assert "will be saved as talks-2.txt" in note
    response = save(client, page)
    assert response.headers["Location"] == "/documents/talks-2.txt"
    assert "talks.txt" not in {p.name for p in seeds_dir.iterdir()}
