"""The labelling queue through the test client: with htmx and as plain form posts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import csrf, shown_passage, soup

from webapp.corpus import taxonomy
from webapp.labels import queue

FIRST_DOC = "000_26419f1f75a7eb13.txt"


def file_records(corpus: Path, document: str, annotator: str) -> list[dict]:
    """One annotator's records in a document's label file."""
    path = corpus / "labels" / "passages" / f"{document}.jsonl"
    return [r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r["annotator"] == annotator]


def test_queue_shows_first_unlabelled_passage_with_context_and_targets(client, db, app):
    page = soup(client.get("/label"))
    first = db.execute(
        "SELECT id, position FROM passages WHERE kind = 'content' ORDER BY document, position LIMIT 1"
    ).fetchone()
    assert shown_passage(page) == first[0]
    assert page.select_one(".context.before") and page.select_one(".context.after")
    targets = [t.get_text() for t in page.select(".topic-row .target")]
    assert "Engaging with or recognising the Taliban government is right." in targets
    assert {r["data-key"] for r in page.select(".topic-row")} == {"r", "d", "w", "s"}
    form = page.select_one("form.label-form")
    assert form["data-key-favour"] == "f" and form["data-key-against"] == "a" and form["data-key-neutral"] == "n"
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    holders = [o["value"] for o in page.select("datalist#holders option")]
    assert "op-ed author Mehdi Kassou (BelRefugees)" in holders
    assert "You have labelled 0 of 54 passages" in page.select_one(".progress .overall").get_text(" ", strip=True)
    assert app.config["ANNOTATOR"] in page.select_one("header .who").get_text()


def test_plain_post_saves_redirects_and_writes_the_label_file(client, db, corpus, app):
    token, annotator = csrf(client), app.config["ANNOTATOR"]
    passage = shown_passage(soup(client.get("/label")))
    response = client.post(
        f"/label/{passage}",
        data={"csrf_token": token, "then": "next", "stance-recognition": "against",
              "holder-recognition": "  op-ed  author ", "stance-security": "", "note": "clear opposition"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/label?after={passage}"
    rows = list(db.query("SELECT topic, stance, holder, annotator FROM labels WHERE annotator = ?", [annotator]))
    assert rows == [{"topic": "recognition", "stance": "against", "holder": "op-ed author", "annotator": annotator}]
    records = file_records(corpus, FIRST_DOC, annotator)
    assert [(r["topic"], r["stance"], r["holder"]) for r in records] == [("recognition", "against", "op-ed author")]
    next_page = soup(client.get(response.headers["Location"]))
    assert "Saved passage" in next_page.select_one(".flash").get_text()
    assert shown_passage(next_page) != passage
    assert "You have labelled 1 of 54" in next_page.select_one(".progress .overall").get_text(" ", strip=True)


def test_htmx_post_returns_the_next_widget_only(client, db):
    token = csrf(client)
    passage = shown_passage(soup(client.get("/label")))
    response = client.post(
        f"/label/{passage}", headers={"HX-Request": "true"},
        data={"csrf_token": token, "then": "next", "stance-deportation": "favour"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/label?after={passage}"
    assert "HX-Request" in response.headers["Vary"]
    fragment = soup(response)
    assert fragment.find("html") is None
    assert fragment.select_one("section#labeller")["hx-target"] == "this"
    assert shown_passage(fragment) != passage
    assert "Saved passage" in fragment.select_one(".flash").get_text()


def test_saving_no_topics_records_reviewed_no_topic(client, db, app):
    token = csrf(client)
    passage = shown_passage(soup(client.get("/label")))
    client.post(f"/label/{passage}", data={"csrf_token": token, "then": "next"})
    row = db.execute("SELECT topic, stance, holder FROM labels WHERE annotator = ?", [app.config["ANNOTATOR"]]).fetchone()
    assert row == ("", None, None)


def test_skip_moves_on_without_saving_and_wraps(client, db, app):
    first = shown_passage(soup(client.get("/label")))
    page = soup(client.get("/label", query_string={"after": first}))
    second = shown_passage(page)
    assert second != first
    assert page.select_one('[data-action="skip"]')["href"] == f"/label?after={second}"
    last = db.execute("SELECT id FROM passages WHERE kind = 'content' ORDER BY document DESC, position DESC").fetchone()[0]
    assert shown_passage(soup(client.get("/label", query_string={"after": last}))) == first
    assert db["labels"].count_where("annotator = ?", [app.config["ANNOTATOR"]]) == 0


def test_skip_via_htmx_returns_fragment_and_full_page_otherwise(client):
    first = shown_passage(soup(client.get("/label")))
    fragment = client.get(f"/label?after={first}", headers={"HX-Request": "true"})
    assert soup(fragment).find("html") is None and soup(fragment).select_one("#labeller")
    full = client.get(f"/label?after={first}")
    assert soup(full).find("html") is not None


def test_document_scope_and_unknown_document(client, db):
    name = "003_bbfe681b051be986.txt"
    page = soup(client.get("/label", query_string={"document": name}))
    passage = shown_passage(page)
    assert db.execute("SELECT document FROM passages WHERE id = ?", [passage]).fetchone()[0] == name
    assert page.select_one("form.label-form input[name=document]")["value"] == name
    assert client.get("/label", query_string={"document": "nope.txt"}).status_code == 404


def test_undo_last_restores_previous_state_and_shows_the_passage(client, db, corpus, app):
    token, annotator = csrf(client), app.config["ANNOTATOR"]
    passage = shown_passage(soup(client.get("/label")))
    client.post(f"/label/{passage}", data={"csrf_token": token, "then": "next", "stance-recognition": "favour"})
    response = client.post("/label/undo", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == f"/label?passage={passage}"
    assert db["labels"].count_where("annotator = ?", [annotator]) == 0
    assert file_records(corpus, FIRST_DOC, annotator) == []
    page = soup(client.get(response.headers["Location"]))
    assert shown_passage(page) == passage
    assert "Undone" in page.select_one(".flash").get_text()
    again = client.post("/label/undo", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert "Nothing to undo" in soup(again).select_one(".flash").get_text()


def test_queue_prefills_existing_labels_when_revisiting(client, db):
    token = csrf(client)
    passage = shown_passage(soup(client.get("/label")))
    client.post(f"/label/{passage}", data={"csrf_token": token, "then": "next", "stance-security": "against",
                                           "holder-security": "Someone"})
    page = soup(client.get(f"/label?passage={passage}"))
    row = page.select_one('.topic-row[data-topic="security"]')
    assert row.select_one("input[checked]")["value"] == "against"
    assert row.select_one("input[name=holder-security]")["value"] == "Someone"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("stance-recognition", "maybe", "Unknown stance"), ("holder-recognition", "x" * 201, "at most 200")],
)
def test_invalid_posts_are_refused(client, db, field, value, message):
    token = csrf(client)
    passage = shown_passage(soup(client.get("/label")))
    data = {"csrf_token": token, "then": "next", "stance-recognition": "favour", field: value}
    response = client.post(f"/label/{passage}", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db["label_changes"].count == 0


def test_non_content_passage_cannot_be_labelled(client, db):
    heading = db.execute("SELECT id FROM passages WHERE kind = 'heading' LIMIT 1").fetchone()[0]
    response = client.post(f"/label/{heading}", data={"csrf_token": csrf(client), "stance-security": "favour"})
    assert response.status_code == 400
    assert "not content" in soup(client.get(f"/label?passage={heading}")).select_one(".notice").get_text()


def test_write_without_csrf_token_is_refused(client, db):
    passage = shown_passage(soup(client.get("/label")))
    response = client.post(f"/label/{passage}", data={"stance-recognition": "favour"})
    assert response.status_code == 400
    assert db["label_changes"].count == 0


def test_all_done_message(client, db, app):
    name = "003_bbfe681b051be986.txt"
    token = csrf(client)
    for (pid,) in db.execute("SELECT id FROM passages WHERE document = ? AND kind = 'content'", [name]).fetchall():
        client.post(f"/label/{pid}", data={"csrf_token": token, "then": "next", "document": name})
    page = soup(client.get("/label", query_string={"document": name}))
    assert page.select_one(".done") and not page.select_one("form.label-form")


def test_passage_page_edits_labels_and_shows_history(client, db, app):
    token = csrf(client)
    passage = shown_passage(soup(client.get("/label")))
    response = client.post(f"/label/{passage}", data={"csrf_token": token, "then": "passage",
                                                      "stance-womens_rights": "against", "note": "the bans"})
    assert response.status_code == 303 and response.headers["Location"] == f"/passages/{passage}"
    page = soup(client.get(response.headers["Location"]))
    history = page.select("ol.history li")
    assert len(history) == 1
    assert app.config["ANNOTATOR"] in history[0].select_one(".who").get_text()
    assert "no labels" in history[0].select_one(".before").get_text()
    assert "Condemns the policies" in history[0].select_one(".after").get_text()
    assert history[0].select_one(".note").get_text() == "the bans"
    undo_form = history[0].find("form")
    fragment = client.post(undo_form["action"], data={"csrf_token": token, "then": "passage"},
                           headers={"HX-Request": "true"})
    part = soup(fragment)
    assert part.find("html") is None and part.select_one("#editing")
    assert len(part.select("ol.history li")) == 2
    assert "undid" in part.select("ol.history li")[0].get_text()


def test_key_map_avoids_topic_keys():
    tax = taxonomy.parse({"topics": [
        {"id": "a_topic", "name": "A", "target": "t", "key": "f"},
        {"id": "b_topic", "name": "B", "target": "t", "key": "a"},
    ]})
    keys = queue.key_map(tax)
    assert keys["favour"] == "+" and keys["against"] == "-" and keys["neutral"] == "n"
    assert len(set(keys.values()) | {"f", "a"}) == len(keys) + 2


def test_contested_card_shows_who_said_what(client, db, app):
    token = csrf(client)
    row = db.execute("""SELECT p.id FROM passages p JOIN labels l ON l.document = p.document
        AND l.position = p.position WHERE l.topic = 'recognition' AND l.stance = 'against' LIMIT 1""").fetchone()
    client.post(f"/label/{row[0]}", data={"csrf_token": token, "then": "next", "stance-recognition": "favour"})
    card = soup(client.get("/topics/recognition")).select_one(f"#card-{row[0]}")
    note = card.select_one(".contested-note").get_text()
    assert f"{app.config['ANNOTATOR']}: Supports engagement" in note and "founding-team: Opposes engagement" in note
