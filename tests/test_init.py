"""`counterpoint init DIR`: a new user starts an empty corpus, serves it, and every page says what to do next."""

import json
import re
from pathlib import Path

import pytest
from conftest import corpus_config, soup
from flask import Flask, url_for

from webapp import create_app
from webapp.cli import main
from webapp.corpus import taxonomy
from webapp.interchange import formats
from webapp.labels.build import build
from webapp.store.db import connect
from webapp.web import serving

# Our own sentences, about a subject unlike the seeds'.
PARKS = (
    "The city council met on Tuesday to discuss the budget for public parks.\n\n"
    "Councillor Ada Brook said the parks budget should double, because parks are the only free space many"
    " families have.\n"
)
PARKS_TOPIC = """
[[topics]]
id = "parks"
name = "Parks funding"
target = "The city should spend more on parks."
key = "p"
"""


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under `folder`, with the files' bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """An empty current directory that is not the corpus, to catch anything written outside it."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def fresh(runner, tmp_path, elsewhere) -> Path:
    """A corpus folder just started with `counterpoint init`."""
    root = tmp_path / "my corpus"
    result = runner.invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root


def app_for(root: Path) -> Flask:
    """The app over a corpus folder, its database built from the files as `counterpoint load` would."""
    app = create_app(corpus_config(root))
    db = connect(app.config["DATABASE"])
    build(db, root / "seeds", root / "labels")
    db.close()
    return app


def add_topic(root: Path) -> None:
    """Add a topic as a user editing the taxonomy file would."""
    path = root / "labels" / "taxonomy.toml"
    path.write_text(path.read_text(encoding="utf-8") + PARKS_TOPIC, encoding="utf-8")


def add_document(root: Path) -> None:
    """Drop a document into seeds/."""
    (root / "seeds" / "parks.txt").write_text(PARKS, encoding="utf-8")


# Starting a corpus


def test_init_starts_an_empty_corpus_and_says_how_to_serve_it(runner, tmp_path, elsewhere):
    root = tmp_path / "my corpus"
    result = runner.invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "seeds").is_dir() and list((root / "seeds").iterdir()) == []
    assert taxonomy.load(root / "labels" / "taxonomy.toml") == taxonomy.Taxonomy(topics=())
    guidelines = (root / "labels" / "GUIDELINES.md").read_text(encoding="utf-8")
    for heading in ("## 3. Target propositions", "## 4. Choosing a stance", "## 5. The holder", "## 6. No topic applies"):
        assert heading in guidelines
    assert "Taliban" not in guidelines
    assert f"counterpoint --corpus '{root}' run" in result.output
    assert "add your first topic and your first document" in result.output
    assert snapshot(elsewhere) == {}


def test_init_writes_nothing_outside_the_new_folder(runner, tmp_path, elsewhere):
    # With no --corpus the app's folder is the current one, where it would make instance/ and a key.
    result = runner.invoke(main, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    assert snapshot(elsewhere) == {}
    assert sorted(snapshot(tmp_path / "new")) == [
        ".gitignore", "labels", "labels/GUIDELINES.md", "labels/taxonomy.toml", "seeds"]
    # The database and the secret key in instance/ stay out of git.
    assert (tmp_path / "new" / ".gitignore").read_text() == "instance/\n"


def test_init_accepts_an_empty_folder_that_already_exists(runner, tmp_path, elsewhere):
    root = tmp_path / "empty"
    root.mkdir()
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    assert (root / "labels" / "taxonomy.toml").is_file()


def test_the_example_topic_in_the_new_taxonomy_is_valid_once_uncommented(fresh):
    text = (fresh / "labels" / "taxonomy.toml").read_text(encoding="utf-8")
    example = text[text.rindex("# [[topics]]"):]
    uncommented = re.sub(r"^# ?", "", example, flags=re.MULTILINE)
    (fresh / "labels" / "taxonomy.toml").write_text(text + uncommented, encoding="utf-8")
    [topic] = taxonomy.load(fresh / "labels" / "taxonomy.toml").topics
    assert (topic.id, topic.target, topic.key) == ("rent_control", "Capping rents is good policy.", "r")
    assert topic.labels == {"favour": "Supports caps", "neutral": "Neutral", "against": "Opposes caps"}


def test_a_second_init_is_refused_and_changes_nothing(runner, fresh):
    (fresh / "labels" / "GUIDELINES.md").write_text("# Our codebook, already filled in\n", encoding="utf-8")
    before = snapshot(fresh)
    result = runner.invoke(main, ["init", str(fresh)])
    assert result.exit_code == 1
    assert "already holds a corpus (labels/taxonomy.toml, labels/GUIDELINES.md); nothing was changed" in result.output
    assert snapshot(fresh) == before


def test_init_refuses_a_folder_whose_seeds_hold_documents(runner, tmp_path, elsewhere):
    root = tmp_path / "documents only"
    add_document_to = root / "seeds"
    add_document_to.mkdir(parents=True)
    (add_document_to / "parks.txt").write_text(PARKS, encoding="utf-8")
    before = snapshot(root)
    result = runner.invoke(main, ["init", str(root)])
    assert result.exit_code == 1
    assert "already holds a corpus (seeds)" in result.output
    assert snapshot(root) == before


def test_init_refuses_the_seed_corpus(runner, corpus, elsewhere):
    before = snapshot(corpus)
    result = runner.invoke(main, ["init", str(corpus)])
    assert result.exit_code == 1 and "already holds a corpus" in result.output
    assert snapshot(corpus) == before


# Serving it


def test_load_builds_the_fresh_corpus(runner, fresh):
    result = runner.invoke(main, ["--corpus", str(fresh), "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded 0 documents (0 passages) and 0 labels" in result.output
    db = connect(fresh / "instance" / "counterpoint.db")
    assert (db["documents"].count, db["topics"].count) == (0, 0)
    db.close()


@pytest.mark.parametrize("command", ["run", "serve"])
def test_run_and_serve_build_the_fresh_corpus_and_serve_its_first_steps(runner, fresh, monkeypatch, command):
    served = []

    def serve(app, *args, **kwargs):
        served.append(app.test_client().get("/label"))

    monkeypatch.setattr(Flask, "run", serve)
    monkeypatch.setattr(serving, "serve", serve)
    result = runner.invoke(main, ["--corpus", str(fresh), command, "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert "Loaded 0 documents" in result.output
    [page] = served
    assert page.status_code == 200 and "Add your first topic" in page.get_data(as_text=True)


# Every page of an empty corpus


def get_urls(app: Flask, topic_id: str, document: str, passage: int) -> list[str]:
    """One URL per GET route of the app (one per export format), with arguments from the corpus."""
    values = {
        "topic_id": [topic_id],
        "name": [document],
        "passage_id": [passage],
        "filename": ["app.css"],
    }
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            unknown = set(rule.arguments) - set(values)
            assert not unknown, f"{rule.rule}: give this test a value for {unknown}"
            names = formats.FORMATS if rule.endpoint == "downloads.labels" else [None]
            for name in names:
                args = {a: values[a][0] for a in rule.arguments}
                if name:
                    args["name"] = name
                urls.append(url_for(rule.endpoint, **args))
    return urls


@pytest.mark.parametrize("state", ["nothing yet", "a topic only", "a document only"])
def test_every_page_of_a_new_corpus_answers_without_an_error(fresh, state):
    if state == "a topic only":
        add_topic(fresh)
    if state == "a document only":
        add_document(fresh)
    app = app_for(fresh)
    client = app.test_client()
    urls = get_urls(app, "parks", "parks.txt", 1)
    assert {"/", "/label", "/search", "/charts", "/api/passages", "/downloads/labels.csv"} <= set(urls)
    for url in urls:
        response = client.get(url)
        assert "Traceback" not in response.get_data(as_text=True), url
        # Only a page about the topic or the document this state lacks may be missing.
        absent = ("/topics/parks" in url and state != "a topic only") or (
            ("parks.txt" in url or "/passages/1" in url) and state != "a document only"
        )
        assert response.status_code == (404 if absent else 200), url
    assert client.get("/search?q=parks").status_code == 200


FIRST_STEPS = [
    ("/label", "Nothing to label yet"),
    ("/agreement", "Nothing to compare yet"),
    ("/disagreements", "Nothing to adjudicate yet"),
    ("/charts", "Nothing to chart yet"),
]


def greeting(page) -> dict[str, str]:
    """The first steps a page offers: link text to where it leads."""
    section = page.select_one(".first-steps")
    return {a.get_text(strip=True): a["href"] for a in section.select("a")} if section else {}


@pytest.mark.parametrize("url, heading", FIRST_STEPS)
def test_an_empty_corpus_greets_with_its_first_topic_and_document(fresh, url, heading):
    client = app_for(fresh).test_client()
    page = soup(client.get(url))
    assert page.select_one(".first-steps h2").get_text(strip=True) == heading
    assert greeting(page) == {"Add your first topic": "/topics/new", "Add your first document": "/add"}
    assert not page.select("table"), "no empty table"


@pytest.mark.parametrize("url, heading", FIRST_STEPS)
def test_a_corpus_with_documents_but_no_topics_asks_only_for_a_topic(fresh, url, heading):
    add_document(fresh)
    page = soup(app_for(fresh).test_client().get(url))
    assert greeting(page) == {"Add your first topic": "/topics/new"}


@pytest.mark.parametrize("url, heading", FIRST_STEPS)
def test_a_corpus_with_a_topic_but_no_documents_asks_only_for_a_document(fresh, url, heading):
    add_topic(fresh)
    page = soup(app_for(fresh).test_client().get(url))
    assert greeting(page) == {"Add your first document": "/add"}


def test_search_asks_for_a_document_until_there_is_one_to_search(fresh):
    client = app_for(fresh).test_client()
    page = soup(client.get("/search?q=parks"))
    assert page.select_one(".first-steps h2").get_text(strip=True) == "Nothing to search yet"
    assert greeting(page) == {"Add your first document": "/add"}
    add_document(fresh)
    found = soup(app_for(fresh).test_client().get("/search?q=parks"))
    assert greeting(found) == {}
    assert "2 passages" in found.select_one(".count").get_text()


@pytest.mark.parametrize("url", ["/label", "/search?q=parks", "/disagreements?show=all"])
def test_htmx_fragments_of_an_empty_corpus_carry_the_greeting_too(fresh, url):
    response = app_for(fresh).test_client().get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    assert "Add your first document" in greeting(soup(response))


def test_a_passage_without_topics_to_label_it_with_links_to_the_first_topic(fresh):
    add_document(fresh)
    page = soup(app_for(fresh).test_client().get("/passages/1"))
    assert not page.select("form.label-form")
    link = page.select_one(".no-topics a")
    assert (link.get_text(strip=True), link["href"]) == ("Add your first topic", "/topics/new")


def test_once_there_is_a_topic_and_a_document_the_queue_shows_the_first_passage(fresh):
    add_topic(fresh)
    add_document(fresh)
    page = soup(app_for(fresh).test_client().get("/label"))
    assert greeting(page) == {}
    assert "council met on Tuesday" in page.select_one(".to-label").get_text()
    assert page.select_one('form.label-form .topic-row[data-topic="parks"]')


def test_the_api_and_downloads_of_an_empty_corpus_are_empty_lists(fresh):
    client = app_for(fresh).test_client()
    assert client.get("/api/passages").get_json() == []
    assert client.get("/api/topics").get_json() == []
    assert json.loads(client.get("/downloads/labels.labelstudio").get_data(as_text=True)) == []
    assert client.get("/downloads/labels.csv").get_data(as_text=True).count("\n") == 1  # the header alone
