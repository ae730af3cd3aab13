"""Search time is bounded whatever the data: excerpts are cut from bounded text, queries have a deadline."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time

import pytest
from bs4 import BeautifulSoup

from webapp.analysis import fulltext
from webapp.store.db import DeadlineExceeded, connect, deadline

HX = {"HX-Request": "true"}
TOO_SLOW = "Search took too long — narrow it (add a topic, source or more words)"
# An excerpt is at most SNIPPET_TOKENS words, each marked, with ellipses: far below this.
EXCERPT_BOUND = 2 * fulltext.EXCERPT_CHUNK
# Counting to a billion takes SQLite minutes: only a deadline ends it quickly.
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) FROM n"


def soup(response) -> BeautifulSoup:
    """Parse a response body."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def store_passage(db, document: str, text: str) -> None:
    """Write a passage straight into the database, as one stored before imports had a size limit.

    The passages table's triggers index it for search, as they do every passage the app writes.
    """
    db["documents"].insert({"id": document, "title": document}, ignore=True)
    db["passages"].insert({"document": document, "position": 1, "kind": "content", "text": text,
                           "text_hash": hashlib.sha256(text.encode()).hexdigest()})


def one_word(word: str, chars: int) -> str:
    """`word` repeated, space-separated, to about `chars` characters."""
    return " ".join([word] * (chars // (len(word) + 1)))


def get_within(client, path: str, seconds: float, headers: dict | None = None):
    """GET `path`, failing the test (not hanging it) when there is no answer within `seconds`."""
    answers = []
    # A daemon thread: a request stuck in one SQLite call cannot be stopped, only left behind.
    worker = threading.Thread(target=lambda: answers.append(client.get(path, headers=headers)), daemon=True)
    started = time.perf_counter()
    worker.start()
    worker.join(seconds)
    assert answers, f"{path} had no answer within {seconds} s"
    return answers[0], time.perf_counter() - started


def test_a_search_over_a_2_mb_passage_of_one_word_answers_in_time(app, client):
    app.config["SEARCH_DEADLINE_SECONDS"] = 1.0
    db = connect(app.config["DATABASE"])
    store_passage(db, "long.txt", one_word("zanzibar", 2 * 1024 * 1024))
    db.close()
    for headers in ({}, HX):
        response, seconds = get_within(client, "/search?q=zanzibar", 3, headers)
        assert seconds < 3 and response.status_code in (200, 503)
        hits = soup(response).select("li.hit")
        if hits:
            excerpt = hits[0].select_one("p.text")
            assert len(excerpt.text) < EXCERPT_BOUND
            assert 0 < len(excerpt.select("mark")) <= fulltext.SNIPPET_TOKENS
        else:
            assert TOO_SLOW in soup(response).select_one("#results").text


def test_excerpts_are_bounded_and_marked_wherever_the_match_is(memory_db):
    filler = one_word("filler", 3 * fulltext.EXCERPT_CHUNK)
    store_passage(memory_db, "middle.txt", f"{filler} ministers gathered in Kandahar today {filler}")
    store_passage(memory_db, "repeated.txt", one_word("kandahari", 200_000))
    store_passage(memory_db, "late.txt", one_word("opening", fulltext.EXCERPT_WINDOW + 100) + " Kandahar")

    found = {h.document: h.excerpt for h in fulltext.search(memory_db, fulltext.Query(q="kandahar")).hits}
    assert set(found) == {"middle.txt", "repeated.txt", "late.txt"}
    assert all(len(excerpt) < EXCERPT_BOUND for excerpt in found.values())
    # From the middle of a passage, with the text on both sides elided.
    assert found["middle.txt"].startswith("…") and found["middle.txt"].endswith("…")
    assert "<mark>Kandahar</mark>" in found["middle.txt"]
    assert 0 < found["repeated.txt"].count("<mark>") <= fulltext.SNIPPET_TOKENS
    # Past the window nothing is looked for: the opening is shown, unmarked.
    assert found["late.txt"].startswith("opening opening") and "<mark>" not in found["late.txt"]


def test_a_page_of_long_passages_of_one_word_costs_little(memory_db):
    for n in range(fulltext.PAGE_SIZE):
        store_passage(memory_db, f"long-{n}.txt", one_word("zanzibar", fulltext.EXCERPT_WINDOW))
    # CPU time of this thread, so that other processes on the machine do not count. snippet()
    # over each whole passage took 2.5 s here; the chunked excerpts take under 0.1 s.
    started = time.thread_time()
    results = fulltext.search(memory_db, fulltext.Query(q="zanzibar"))
    assert time.thread_time() - started < 0.8
    assert len(results.hits) == fulltext.PAGE_SIZE
    assert all(len(h.excerpt) < EXCERPT_BOUND for h in results.hits)


def test_words_far_apart_in_one_passage_still_find_it_and_are_marked(memory_db):
    filler = one_word("filler", 3 * fulltext.EXCERPT_CHUNK)
    store_passage(memory_db, "apart.txt", f"Herat {filler} Mazar")
    hits = fulltext.search(memory_db, fulltext.Query(q="herat mazar")).hits
    assert [h.document for h in hits] == ["apart.txt"]
    assert "<mark>" in hits[0].excerpt


def test_a_search_past_its_deadline_asks_to_narrow_it(app, client):
    app.config["SEARCH_DEADLINE_SECONDS"] = 0.0001
    page = client.get("/search?q=t")  # every passage, enough work for the deadline to pass
    assert page.status_code == 503
    assert TOO_SLOW in soup(page).select_one("#results").text
    assert soup(page).select_one("form#search input[name=q]")["value"] == "t"

    fragment = client.get("/search?q=t", headers=HX)
    # htmx 2 swaps no 5xx reply, so the fragment comes as 200 for the message to show.
    assert fragment.status_code == 200 and TOO_SLOW in soup(fragment).select_one("#results").text
    assert "<form" not in fragment.get_data(as_text=True)

    app.config["SEARCH_DEADLINE_SECONDS"] = 2.0
    again = client.get("/search?q=t")
    assert again.status_code == 200 and soup(again).select("li.hit")


def test_the_deadline_stops_a_statement_and_then_leaves_the_connection_alone():
    conn = sqlite3.connect(":memory:")
    started = time.perf_counter()
    with pytest.raises(DeadlineExceeded):
        with deadline(conn, 0.05):
            conn.execute(ENDLESS).fetchone()
    assert time.perf_counter() - started < 1
    # The handler is gone: a statement that outlives the old deadline runs to its end.
    with deadline(conn, 0.05):
        pass
    time.sleep(0.06)
    assert conn.execute(ENDLESS.replace("1000000000", "200000")).fetchone() == (200000,)
    with pytest.raises(sqlite3.OperationalError, match="no such table"), deadline(conn, 5):
        conn.execute("SELECT * FROM missing")
    conn.close()
