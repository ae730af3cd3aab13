"""From a new document to labelling it, and how documents' dates and titles read on every page."""

from __future__ import annotations

import re

import pytest
from conftest import PAKISTAN, add_second_annotator, csrf, passage_id, shown_passage, soup

from webapp.corpus.display import display_title, natural_date
from webapp.labels import queue

HX = {"HX-Request": "true"}
UNTITLED = "003_bbfe681b051be986.txt"  # a news report of 2024-03-09 with no title and no outlet
NATURAL = re.compile(r"^(\d{4}(-\d{2})?|\d{1,2} [A-Z][a-z]{2} \d{4}(, \d{2}:\d{2})?)$")
ADDED = "talks-in-kabul.txt"
PARAGRAPHS = [
    "European officials met Taliban representatives in Kabul last week. The talks were technical.",
    "Rights groups condemned the visit. They said no Afghan could be sent back safely.",
    "Diplomats expect a second round of meetings in the spring, although no date has been set.",
]


def content_ids(db, document: str) -> list[int]:
    """A document's content passages in order."""
    return [r[0] for r in db.execute(
        "SELECT id FROM passages WHERE document = ? AND kind = 'content' ORDER BY position", [document])]


def add_document(client, token: str, **metadata):
    """Save a heading and three content paragraphs through the add screen; the save's response."""
    texts = ["Talks in Kabul", *PARAGRAPHS]
    kinds = ["heading", "content", "content", "content"]
    fields = {"title": "", "author": "", "outlet": "", "date": "", "kind": "", "url": "", **metadata}
    return client.post("/add/save", data={
        "csrf_token": token, "name": "", **fields, "passage": texts, "passage_kind": kinds, "passage_auto": kinds,
    })


def label(client, token: str, passage: int, document: str, **headers):
    """Save one label on a passage from a queue kept to `document`."""
    return client.post(f"/label/{passage}", headers=headers, data={
        "csrf_token": token, "then": "next", "document": document, "stance-deportation": "against",
    })


# The queue, called directly.

def test_next_passage_keeps_to_one_document_and_wraps_within_it(db, app):
    annotator = app.config["ANNOTATOR"]
    first, *_, last = content_ids(db, PAKISTAN)
    assert queue.next_passage(db, annotator)["document"] != PAKISTAN
    assert queue.next_passage(db, annotator, PAKISTAN)["id"] == first
    # After its last passage the queue comes back to the document's first, not the next document.
    assert queue.next_passage(db, annotator, PAKISTAN, after=last)["id"] == first


def test_document_title_is_the_display_title_or_none(db):
    assert queue.document_title(db, UNTITLED) == "News report, 9 Mar 2024"
    assert queue.document_title(db, PAKISTAN) == "Taliban Urges Pakistan Not To Unilaterally Repatriate Afghan Migrants"
    assert queue.document_title(db, "nope.txt") is None


# From a document to labelling it.

def test_the_document_page_offers_to_label_that_document(client, db):
    page = soup(client.get(f"/documents/{PAKISTAN}"))
    link = page.find("a", string="Label this document")
    assert link["href"] == f"/label?document={PAKISTAN}"
    assert shown_passage(soup(client.get(link["href"]))) == content_ids(db, PAKISTAN)[0]


def test_saving_an_added_document_says_so_and_leads_to_labelling_it(client, db):
    response = add_document(client, csrf(client), title="Talks in Kabul", outlet="The Paper")
    assert response.status_code == 303 and response.headers["Location"] == f"/documents/{ADDED}"
    page = soup(client.get(response.headers["Location"]))
    assert "Saved “Talks in Kabul”: 3 of its 4 passages are content" in page.select_one(".flash").get_text()
    link = page.find("a", string="Label this document")
    queue_page = soup(client.get(link["href"]))
    assert shown_passage(queue_page) == content_ids(db, ADDED)[0]
    assert queue_page.select_one(".to-label blockquote").get_text() == PARAGRAPHS[0]


def test_a_document_queue_says_it_keeps_to_the_document_and_how_to_leave(client):
    note = soup(client.get("/label", query_string={"document": UNTITLED})).select_one(".scope-note")
    assert "Labelling only News report, 9 Mar 2024" in note.get_text(" ", strip=True)
    assert note.find("a", string="Label every document")["href"] == "/label"
    assert soup(client.get("/label")).select_one(".scope-note") is None


def test_saving_in_a_document_queue_moves_to_its_next_passage(client, db):
    token = csrf(client)
    first, second = content_ids(db, PAKISTAN)[:2]
    response = label(client, token, first, PAKISTAN)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/label?document={PAKISTAN}&after={first}"
    page = soup(client.get(response.headers["Location"]))
    assert shown_passage(page) == second
    assert page.select_one("form.label-form input[name=document]")["value"] == PAKISTAN
    assert "Labelling only Taliban Urges Pakistan" in page.select_one(".scope-note").get_text()


def test_saving_with_htmx_in_a_document_queue_swaps_in_its_next_passage(client, db):
    token = csrf(client)
    first, second = content_ids(db, PAKISTAN)[:2]
    response = label(client, token, first, PAKISTAN, **HX)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/label?document={PAKISTAN}&after={first}"
    fragment = soup(response)
    assert fragment.find("html") is None and shown_passage(fragment) == second
    assert "Labelling only Taliban Urges Pakistan" in fragment.select_one(".scope-note").get_text()


def test_labelling_a_whole_document_ends_in_what_to_do_next(client, db):
    token = csrf(client)
    add_document(client, token, kind="op-ed", outlet="Dawn", date="2024")
    name = "pasted.txt"
    for passage in content_ids(db, name):
        response = label(client, token, passage, name)
    page = soup(client.get(response.headers["Location"]))
    assert page.select_one(".to-label") is None
    done = page.select_one(".empty.done")
    assert "Every passage of “Op-ed, Dawn, 2024” is labelled" in done.get_text(" ", strip=True)
    links = {a.get_text(): a["href"] for a in done.find_all("a")}
    assert links["read it with its labels"] == f"/documents/{name}"
    assert links["label every document"] == "/label"


# Dates and titles.

@pytest.mark.parametrize(("value", "shown"), [
    ("2024-03-09", "9 Mar 2024"),
    ("2026-11-23T09:00:00Z", "23 Nov 2026, 09:00"),
    ("2024-12-01 18:05:00", "1 Dec 2024, 18:05"),
    ("2024", "2024"),
    ("2024-03", "2024-03"),
    ("2024-02-30", "2024-02-30"),
    ("spring 2024", "spring 2024"),
    ("", ""),
    (None, ""),
])
def test_natural_date(value, shown):
    assert natural_date(value) == shown


@pytest.mark.parametrize(("fields", "shown"), [
    (("Talks in Kabul", "news report", "Dawn", "2024-03-09"), "Talks in Kabul"),
    (("", "news report", "", "2024-03-09"), "News report, 9 Mar 2024"),
    ((None, "op-ed", "Dawn", "2024"), "Op-ed, Dawn, 2024"),
    (("  ", "", "Le Soir", "2024-03"), "Untitled document, Le Soir, 2024-03"),
    (("", "", "", ""), "Untitled document"),
])
def test_display_title(fields, shown):
    assert display_title(*fields) == shown


@pytest.mark.parametrize("path", [
    "/",
    f"/documents/{UNTITLED}",
    "/passages/{passage}",
    "/topics/deportation",
    "/search?q=deportation",
    f"/label?document={UNTITLED}",
    "/charts",
])
def test_an_untitled_document_shows_its_kind_and_date_never_its_file_name(client, db, path):
    page = soup(client.get(path.format(passage=content_ids(db, UNTITLED)[0])))
    for file_line in page.select(".doc-head .file"):
        file_line.decompose()  # the document page names the file on purpose, as a file
    text = page.get_text(" ", strip=True)
    assert "News report, 9 Mar 2024" in text
    assert UNTITLED not in text


@pytest.mark.parametrize("path", [
    "/",
    f"/documents/{PAKISTAN}",
    "/passages/{passage}",
    "/topics/deportation",
    "/search?q=repatriate",
    "/disagreements",
])
def test_dates_read_naturally_inside_time_elements(client, db, path):
    db["documents"].update(PAKISTAN, {"date": "2023-10-31"})
    add_second_annotator(db)
    page = soup(client.get(path.format(passage=passage_id(db, PAKISTAN, 7))))
    times = page.select("time")
    assert times
    for time in times:
        assert NATURAL.match(time.get_text()), time
    assert "31 Oct 2023" in [t.get_text() for t in times if t["datetime"] == "2023-10-31"]


def test_label_timestamps_and_history_read_naturally(client, db):
    token = csrf(client)
    passage = passage_id(db, PAKISTAN, 7)
    client.post(f"/label/{passage}", data={"csrf_token": token, "then": "passage", "stance-deportation": "favour"})
    page = soup(client.get(f"/passages/{passage}"))
    seeded = page.select_one('.labels-table time[datetime="2026-11-23T09:00:00Z"]')
    assert seeded.get_text() == "23 Nov 2026, 09:00"
    change = page.select_one(".history .who time")
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", change.get_text())
    assert change["datetime"].endswith("Z")
