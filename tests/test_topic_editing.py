"""Topics in the browser: add, rename, reorder, retire and restore, written to labels/taxonomy.toml."""

from __future__ import annotations

import shutil

import pytest
from conftest import corpus_config, csrf, soup

from webapp import create_app
from webapp.cli import main
from webapp.corpus import taxonomy, topicfile
from webapp.corpus.textfiles import BadInput
from webapp.labels.build import build
from webapp.store.db import connect

COMMENT = "# The three stance ids (favour, neutral, against) are fixed"


def labels_of(db, topic: str) -> list[tuple]:
    """Every label row on a topic, in a stable order."""
    return db.execute(
        "SELECT document, position, annotator, stance FROM labels WHERE topic = ? ORDER BY 1, 2, 3", [topic]
    ).fetchall()


def topic_rows(db) -> list[tuple]:
    """The topics table as (id, name, target, sort), in order."""
    return db.execute("SELECT id, name, target, sort FROM topics ORDER BY sort").fetchall()


def fields(**values) -> dict[str, str]:
    """A topic form's fields, empty unless given."""
    return {f: "" for f in ("id", *topicfile.FORM_FIELDS)} | values


def post(client, url: str, htmx: bool = False, **data):
    """Post a form as a browser would (htmx: a boosted form)."""
    headers = {"HX-Request": "true", "HX-Boosted": "true"} if htmx else {}
    return client.post(url, data={"csrf_token": csrf(client), **data}, headers=headers)


# The domain functions, called directly.


def test_renaming_a_topic_keeps_the_files_comments_and_updates_the_database(app, corpus, db):
    path = corpus / "labels" / "taxonomy.toml"
    before = path.read_text(encoding="utf-8")
    deportation = topicfile.find(corpus / "labels", "deportation")
    unchanged = {f: getattr(deportation, f) for f in topicfile.TEXT_FIELDS} | deportation.labels
    topicfile.update_topic(db, corpus / "labels", "deportation", unchanged | {"name": "Returns of Afghans"})
    after = path.read_text(encoding="utf-8")
    assert COMMENT in after and after.count("\n#") == before.count("\n#")
    assert after == before.replace('name = "Deportation of Afghans"', 'name = "Returns of Afghans"')
    assert ("deportation", "Returns of Afghans") in [r[:2] for r in topic_rows(db)]


@pytest.mark.parametrize(
    "given, message",
    [
        ({"name": "Another", "id": "security"}, "The id “security” is already taken by the topic “Security”"),
        ({"name": "Another", "key": "r"}, "The key “r” already toggles “Recognition and engagement”"),
        ({"name": "Another", "id": "Bad Id"}, "id 'Bad Id' must be lowercase letters"),
        ({"name": "Another", "id": "new"}, "reserved"),
        ({"name": "  "}, "Give the topic a name."),
        ({"name": "Another", "key": "xy"}, "A key is a single character"),
    ],
)
def test_a_refused_topic_says_why_and_changes_nothing(app, corpus, db, given, message):
    path = corpus / "labels" / "taxonomy.toml"
    before, rows = path.read_text(encoding="utf-8"), topic_rows(db)
    with pytest.raises(BadInput, match=message):
        topicfile.add_topic(db, corpus / "labels", fields(**given))
    assert path.read_text(encoding="utf-8") == before
    assert topic_rows(db) == rows


def test_a_key_taken_only_by_a_retired_topic_is_free(app, corpus, db):
    topicfile.retire_topic(db, corpus / "labels", "recognition")
    topicfile.add_topic(db, corpus / "labels", fields(name="Refugee camps", key="r"))
    with pytest.raises(BadInput, match="give this topic another key first"):
        topicfile.restore_topic(db, corpus / "labels", "recognition")


def test_moving_a_topic_changes_its_place_in_the_file_and_the_database(app, corpus, db):
    labels = corpus / "labels"
    assert topicfile.move_topic(db, labels, "security", "up") is True
    assert [r[0] for r in topic_rows(db)] == ["recognition", "deportation", "security", "womens_rights"]
    assert taxonomy.load(labels / "taxonomy.toml").ids == ("recognition", "deportation", "security", "womens_rights")
    assert topicfile.move_topic(db, labels, "recognition", "up") is False
    # A retired topic in between is passed over: moving changes what the overview shows.
    topicfile.retire_topic(db, labels, "deportation")
    topicfile.move_topic(db, labels, "security", "up")
    assert [r[0] for r in topic_rows(db)] == ["security", "recognition", "womens_rights"]
    assert COMMENT in (labels / "taxonomy.toml").read_text(encoding="utf-8")


def test_retiring_keeps_the_labels_and_restoring_brings_the_topic_back(loaded, runner):
    labels = loaded / "labels"
    db = connect(loaded / "instance" / "counterpoint.db")
    kept = labels_of(db, "deportation")
    assert kept
    topicfile.retire_topic(db, labels, "deportation")
    assert "deportation" not in [r[0] for r in topic_rows(db)]
    assert labels_of(db, "deportation") == kept
    # The label files still name the topic, and a rebuild reads them without complaint.
    result = runner.invoke(main, ["--corpus", str(loaded), "load"])
    assert result.exit_code == 0, result.output
    assert labels_of(db, "deportation") == kept
    topicfile.restore_topic(db, labels, "deportation")
    assert [r[0] for r in topic_rows(db)] == ["recognition", "deportation", "womens_rights", "security"]
    assert "retired" not in (labels / "taxonomy.toml").read_text(encoding="utf-8")
    db.close()


def test_a_failed_file_write_leaves_file_and_database_unchanged(app, corpus, db, monkeypatch):
    path = corpus / "labels" / "taxonomy.toml"
    before, rows = path.read_text(encoding="utf-8"), topic_rows(db)

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(topicfile, "atomic_write", disk_full)
    with pytest.raises(OSError):
        topicfile.add_topic(db, corpus / "labels", fields(name="Economy", target="Aid should resume."))
    with pytest.raises(OSError):
        topicfile.retire_topic(db, corpus / "labels", "security")
    assert path.read_text(encoding="utf-8") == before
    assert topic_rows(db) == rows
    assert not db.conn.in_transaction


def test_a_new_topic_gets_an_id_from_its_name_and_no_default_wordings(tmp_path, memory_db):
    topic = topicfile.add_topic(memory_db, tmp_path, fields(name="Women’s rights", neutral="Neutral", favour="Defends"))
    assert topic.id == "womens_rights" and topic.target_missing
    text = (tmp_path / "taxonomy.toml").read_text(encoding="utf-8")
    assert 'labels = {favour = "Defends"}' in text and "Neutral" not in text and "target" not in text
    assert topicfile.add_topic(memory_db, tmp_path, fields(name="Women's rights")).id == "womens_rights_2"


@pytest.mark.parametrize(
    "name, expected",
    [("Deportation of Afghans", "deportation_of_afghans"), ("2024 elections", "topic_2024_elections"),
     ("New", "new_2"), ("¿?", "topic")],
)
def test_suggested_ids_follow_the_taxonomy_id_rule(name, expected):
    assert topicfile.suggest_id(name) == expected
    taxonomy.parse({"topics": [{"id": expected, "name": name}]})


# The pages, through the test client.


def test_a_topic_added_in_the_browser_has_its_own_page(client, corpus):
    form = soup(client.get("/topics/new")).find("form", id="topic-form")
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    assert {"name", "id", "target", "key", "favour", "neutral", "against"} <= {i["name"] for i in form.find_all("input")}
    response = post(client, "/topics/new", name="Humanitarian aid", target="Aid should reach Afghans directly.",
                    favour="Backs direct aid", key="h")
    assert response.status_code == 303 and response.location == "/topics/humanitarian_aid"
    page = soup(client.get(response.location))
    assert page.h1.text == "Humanitarian aid"
    assert "Aid should reach Afghans directly." in page.select_one(".proposition").text
    assert "Added the topic “Humanitarian aid”" in page.select_one(".flash").text
    saved = taxonomy.load(corpus / "labels" / "taxonomy.toml").get("humanitarian_aid")
    assert saved.key == "h" and saved.labels["favour"] == "Backs direct aid"


@pytest.mark.parametrize("htmx, status", [(False, 422), (True, 200)])
def test_bad_input_shows_the_form_again_with_the_message(client, corpus, htmx, status):
    path = corpus / "labels" / "taxonomy.toml"
    before = path.read_text(encoding="utf-8")
    response = post(client, "/topics/security/edit", htmx=htmx, name="Safety", key="d")
    assert response.status_code == status
    page = soup(response)
    assert "The key “d” already toggles “Deportation of Afghans”" in page.select_one("#topic-form .error").text
    assert page.find("input", attrs={"name": "name"})["value"] == "Safety"
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("htmx", [False, True])
def test_editing_a_topic_saves_it_and_returns_to_its_page(client, db, htmx):
    page = soup(client.get("/topics/security/edit"))
    assert page.find("input", attrs={"name": "name"})["value"] == "Security"
    assert page.find("input", attrs={"name": "neutral"})["value"] == ""  # the default wording shows as empty
    response = post(client, "/topics/security/edit", htmx=htmx, name="Safety and violence", key="s",
                    target="Afghanistan is safe.", favour="Sees it as safe", against="Sees danger")
    assert response.status_code == 303 and response.location == "/topics/security"
    assert ("security", "Safety and violence", "Afghanistan is safe.", 3) in topic_rows(db)
    assert "Sees danger" in soup(client.get("/topics/security")).text


def test_the_edit_page_reorders_retires_and_restores(client, db):
    assert post(client, "/topics/security/move", direction="up").location == "/topics/security/edit"
    assert [r[0] for r in topic_rows(db)][2] == "security"
    response = post(client, "/topics/security/retire")
    assert response.status_code == 303
    page = soup(client.get(response.location))
    assert "labels are kept" in page.select_one(".flash").text
    assert page.find("button", string="Restore this topic")
    listed = {li.get_text(" ", strip=True).split(" · ")[0] for li in page.select(".topic-list li")}
    assert "Security retired" in listed and "Recognition and engagement" in listed
    assert client.get("/topics/security").status_code == 404
    post(client, "/topics/security/restore")
    assert client.get("/topics/security").status_code == 200


def test_labels_on_a_topic_renamed_in_the_browser_are_still_shown(client, db):
    before = soup(client.get("/topics/deportation")).select_one(".count").text.split()[0]
    assert int(before) > 0
    post(client, "/topics/deportation/edit", name="Forced returns", key="d",
         target="Returning or expelling Afghans to Afghanistan is justified.")
    page = soup(client.get("/topics/deportation"))
    assert page.h1.text == "Forced returns"
    assert page.select_one(".count").text.split()[0] == before
    assert "Forced returns" in soup(client.get("/")).select_one('tr[data-topic="deportation"]').text


def test_a_signed_out_visitor_in_shared_mode_cannot_change_topics(corpus):
    app = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret"})
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    path = corpus / "labels" / "taxonomy.toml"
    before, rows = path.read_text(encoding="utf-8"), topic_rows(db)
    anon = app.test_client()
    for url, data in [("/topics/new", {"name": "Sneaky"}), ("/topics/security/edit", {"name": "Renamed"}),
                      ("/topics/security/retire", {}), ("/topics/security/move", {"direction": "up"})]:
        response = post(anon, url, **data)
        assert response.status_code == 303 and response.location.startswith("/login")
    assert anon.get("/topics/new").location.startswith("/login")
    assert path.read_text(encoding="utf-8") == before and topic_rows(db) == rows
    db.close()


def test_a_topic_without_a_target_is_marked_wherever_its_stances_show(client, db, corpus):
    post(client, "/topics/security/edit", name="Security", key="s", target="")
    assert taxonomy.load(corpus / "labels" / "taxonomy.toml").get("security").target_missing
    overview = soup(client.get("/")).select_one('tr[data-topic="security"] .target-missing')
    topic_page = soup(client.get("/topics/security")).select_one(".proposition .target-missing")
    passage = db.execute("SELECT id FROM passages WHERE kind = 'content' LIMIT 1").fetchone()[0]
    labelling = soup(client.get(f"/label?passage={passage}&topics=all")).select_one(
        '.topic-row[data-topic="security"] .target-missing')
    for mark in (overview, topic_page, labelling):
        assert mark.text.startswith(taxonomy.TARGET_MISSING)
        assert mark["href"] == "/topics/security/edit"
    assert soup(client.get("/topics/security")).find("a", string="Edit topic")["href"] == "/topics/security/edit"


@pytest.mark.parametrize("with_documents", [True, False])
def test_an_overview_without_topics_greets_with_the_next_step(corpus, with_documents):
    (corpus / "labels" / "taxonomy.toml").write_text("# nothing yet\n", encoding="utf-8")
    shutil.rmtree(corpus / "labels" / "passages", ignore_errors=True)
    (corpus / "labels" / "links.jsonl").unlink(missing_ok=True)
    if not with_documents:
        shutil.rmtree(corpus / "seeds")
        (corpus / "seeds").mkdir()
    app = create_app(corpus_config(corpus))
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    db.close()
    response = app.test_client().get("/")
    assert response.status_code == 200
    page = soup(response)
    assert page.find("a", string="Add your first topic")["href"] == "/topics/new"
    first_document = page.find("a", string="Add your first document")
    assert (first_document is None) == with_documents
    assert page.select_one("table.matrix") is None
