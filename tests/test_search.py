"""Full-text search: hostile input never fails, matches are marked without trusting the text."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup
from conftest import REPO, corpus_config
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp import create_app
from webapp.analysis import fulltext
from webapp.corpus import sources
from webapp.labels.build import build
from webapp.store.db import connect

HX = {"HX-Request": "true"}
HOSTILE = [
    "", " ", '"', '"""', "'", "taliban\"", '"unbalanced phrase', "AND", "OR", "NOT", "NEAR",
    "taliban AND", "OR taliban", "NOT taliban", "NEAR(taliban kabul)", "NEAR(taliban", "taliban NEAR/3 kabul",
    "*", "tali*", "**", "^taliban", "^", "(", ")", "((taliban", "taliban)))", "text:taliban", "-taliban",
    "+", "{text}: x", "😀", "taliban 😀🇦🇫", "\u0000", "\ue000\ue001", "a" * 5000, "taliban " * 300,
    "'; DROP TABLE passages; --", "<script>alert(1)</script>", "%", "_", "\\", "Kâboul", "\"\n\x1b",
]


def soup(response) -> BeautifulSoup:
    """Parse a response body."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory):
    """One app over the seed corpus for the many read-only hostile queries."""
    root = tmp_path_factory.mktemp("search") / "corpus"
    shutil.copytree(REPO / "seeds", root / "seeds")
    shutil.copytree(REPO / "labels", root / "labels")
    app = create_app(corpus_config(root))
    db = connect(app.config["DATABASE"])
    build(db, root / "seeds", root / "labels")
    db.close()
    return app.test_client()


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_fail(shared_client, q):
    for headers in ({}, HX):
        response = shared_client.get("/search", query_string={"q": q}, headers=headers)
        assert response.status_code == 200, q
    response = shared_client.get("/search", query_string={"q": q, "topic": "security", "stance": "against",
                                                           "holder": q, "source": q, "page": q})
    assert response.status_code == 200, q


def test_any_text_is_a_valid_query(memory_db):
    sources.import_document(memory_db, "a.txt", "Taliban ministers met in Kabul.\n\nNothing to see.")

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=60))
    def search_for(q):
        fulltext.search(memory_db, fulltext.Query(q=q))

    search_for()


@pytest.fixture
def hostile_passage(app):
    """A passage whose text is HTML, added to the app's database."""
    db = connect(app.config["DATABASE"])
    sources.import_document(db, "xss.txt", 'Beware <script>alert("x")</script> & <b>bold</b> Taliban words.')
    db.close()


def test_matches_are_marked_and_the_text_escaped(client, hostile_passage):
    body = client.get("/search?q=script+bold").get_data(as_text=True)
    assert "<script>alert" not in body and "<b>bold" not in body
    assert "&lt;<mark>script</mark>&gt;alert(&#34;x&#34;)&lt;/<mark>script</mark>&gt;" in body
    assert "&lt;b&gt;<mark>bold</mark>&lt;/b&gt;" in body


def test_mark_escapes_text_and_stays_balanced_with_stray_markers():
    assert fulltext.mark("a<b \ue000c&d\ue001 e") == "a&lt;b <mark>c&amp;d</mark> e"
    assert fulltext.mark("\ue001x\ue000y") == "\ue001x" + "y"
    assert fulltext.mark("<i>\ue000\ue000x\ue001\ue001") == "&lt;i&gt;<mark>x</mark>"


def test_results_are_ranked_and_stemmed(app, client):
    db = connect(app.config["DATABASE"])
    # The weak match is added first, so that passage-id order alone would put it first. No other
    # passage of the corpus holds a word stemmed to "extradit".
    sources.import_document(db, "weak.txt", "The minister spoke at length about roads, schools, budgets, hospitals, "
                            "the harvest and the weather, and only once about a man extradited last spring.")
    sources.import_document(db, "strong.txt", "Extradition after extradition: they extradite whoever is named.")
    documents = dict(db.execute("SELECT id, document FROM passages WHERE kind = 'content'").fetchall())
    db.close()

    page = soup(client.get("/search?q=extraditing"))  # a form neither passage contains
    hits = page.select("li.hit")
    assert [documents[int(h["data-passage"])] for h in hits] == ["strong.txt", "weak.txt"]
    marked = [sorted({m.text.lower() for m in h.select("mark")}) for h in hits]
    assert marked == [["extradite", "extradition"], ["extradited"]]

    # In the seed corpus too, "deporting" finds "deported" and "deportations", and only them.
    hits = soup(client.get("/search?q=deporting")).select("li.hit")
    assert hits and all(h.select("mark") for h in hits)
    assert {m.text.lower() for h in hits for m in h.select("mark")} == {"deported", "deportations"}
    ids = [h["data-passage"] for h in hits]
    assert len(ids) == len(set(ids))


def test_the_last_word_matches_as_a_prefix_for_live_results(client):
    assert soup(client.get("/search?q=Kabu")).select("li.hit mark")


def test_filters_narrow_to_passages_with_such_a_label(client, db):
    every = soup(client.get("/search?q=taliban")).select_one(".count").text.split()[0]
    narrowed = soup(client.get("/search?q=taliban&topic=security&stance=against"))
    hits = narrowed.select("li.hit")
    assert hits and len(hits) < int(every)
    for hit in hits:
        topics = {(li.select_one(".topic-name").text, li.select_one(".badge")["class"][1])
                  for li in hit.select(".hit-labels li")}
        assert ("Security", "stance-against") in topics
    assert narrowed.select_one('select[name=topic] option[value=security]').has_attr("selected")


def test_filters_without_words_list_passages(client):
    page = soup(client.get("/search?holder=Taliban+spokesman+Zabihullah+Mujahid"))
    hits = page.select("li.hit")
    assert hits and all("Zabihullah Mujahid" in h.select_one(".hit-labels").text for h in hits)


def test_source_filter_accepts_a_document_or_an_outlet(client):
    by_doc = soup(client.get("/search?q=taliban&source=004_1cda40431279602b.txt")).select("li.hit")
    by_outlet = soup(client.get("/search?q=taliban&source=Caliber.Az")).select("li.hit")
    assert by_doc and [h["data-passage"] for h in by_doc] == [h["data-passage"] for h in by_outlet]


def test_results_page_through(client):
    first = soup(client.get("/search?q=taliban"))
    assert "page 1 of 2" in first.select_one(".count").text
    nxt = first.select_one(".pager a[rel=next]")["href"]
    second = soup(client.get(nxt))
    assert second.select_one("ol.hits")["start"] == "21"
    ids = [{h["data-passage"] for h in page.select("li.hit")} for page in (first, second)]
    assert not ids[0] & ids[1]


def test_htmx_gets_the_results_fragment_and_plain_requests_the_page(client):
    fragment = client.get("/search?q=kabul", headers=HX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"') and "<form" not in body
    assert "HX-Request" in fragment.headers["Vary"]
    full = soup(client.get("/search?q=kabul"))
    form = full.select_one("form#search")
    assert form["method"] == "get" and form["action"] == "/search" and form["hx-push-url"] == "true"
    assert full.select("#results li.hit")


def test_empty_search_explains_itself(client):
    page = soup(client.get("/search"))
    assert "Type words" in page.select_one("#results").text
    assert soup(client.get("/search?q=zzzzqqq")).select_one("#results .empty")


def test_the_search_page_is_in_the_navigation(client):
    assert soup(client.get("/")).select_one('header nav a[href="/search"]')


def test_passage_changes_reach_the_index(app, client):
    db = connect(app.config["DATABASE"])
    sources.import_document(db, "new.txt", "Xylophone diplomacy in Doha.")
    assert fulltext.search(db, fulltext.Query(q="xylophone")).total == 1
    sources.import_document(db, "new.txt", "Marimba diplomacy in Doha.")
    assert fulltext.search(db, fulltext.Query(q="xylophone")).total == 0
    assert fulltext.search(db, fulltext.Query(q="marimba")).total == 1
    db.close()
