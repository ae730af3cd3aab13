"""ETags and 304s: what a cached page depends on, what is never cached, and that a 304 renders nothing."""

from __future__ import annotations

import pytest
from conftest import shared_app

from webapp.store.db import DeadlineExceeded
from webapp.web import caching

TOKEN = "caching-test-token"
TOPIC = "/topics/deportation"
PAGES = ["/", TOPIC, f"{TOPIC}?view=holder", "/search?q=Kabul", "/passages/3", "/label", "/charts", "/agreement"]
API = ["/api/topics", "/api/passages?topic=deportation", "/api/passages/3", "/api/session"]
PASSWORD = "correct horse battery"


@pytest.fixture
def browser_client(client):
    """A client whose session already holds a CSRF token, as after a browser's first page."""
    with client.session_transaction() as session:
        session["csrf_token"] = TOKEN
    return client


def etag_of(client, url: str, **headers) -> str:
    """The ETag of a 200 answer to GET `url`."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers.get("ETag"), url
    return response.headers["ETag"]


def save_label(client, passage: int = 3, stance: str = "favour") -> None:
    """Save a label through the API, which bumps the data version."""
    body = {"labels": [{"topic": "deportation", "stance": stance, "holder": "the reporter"}]}
    response = client.put(f"/api/passages/{passage}/labels", json=body, headers={"X-CSRFToken": TOKEN})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("url", PAGES + API)
def test_pages_and_api_answers_carry_an_etag_and_revalidate(browser_client, url):
    response = browser_client.get(url)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Cache-Control"] == "no-cache, private"
    assert {"HX-Request", "HX-Boosted", "HX-History-Restore-Request"} <= set(response.vary)


@pytest.mark.parametrize("url", [TOPIC, "/api/passages/3"])
def test_a_matching_if_none_match_gets_an_empty_304(browser_client, url):
    etag = etag_of(browser_client, url)
    again = browser_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "no-cache, private"
    assert "HX-Request" in again.vary
    assert browser_client.get(url, headers={"If-None-Match": 'W/"something-else"'}).status_code == 200


def test_the_view_does_not_run_on_a_304(app, browser_client, monkeypatch):
    calls = []
    view = app.view_functions["topics.topic"]

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return view(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, "topics.topic", counted)
    etag = etag_of(browser_client, TOPIC)
    assert len(calls) == 1
    assert browser_client.get(TOPIC, headers={"If-None-Match": etag}).status_code == 304
    assert len(calls) == 1


def test_a_304_reads_only_the_counters(app, browser_client, monkeypatch):
    etag = etag_of(browser_client, TOPIC)
    statements = []
    real_connect = caching.get_db

    def traced():
        db = real_connect()
        db.conn.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(caching, "get_db", traced)
    assert browser_client.get(TOPIC, headers={"If-None-Match": etag}).status_code == 304
    assert statements and all("counters" in sql for sql in statements), statements


@pytest.mark.parametrize("url", [TOPIC, "/", "/api/passages/3", "/api/topics"])
def test_a_saved_label_changes_the_etag(browser_client, url):
    before = etag_of(browser_client, url)
    save_label(browser_client)
    after = browser_client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


def test_a_topic_edit_changes_the_etag(browser_client, db):
    before = etag_of(browser_client, TOPIC)
    with db.atomic():
        db.execute("UPDATE topics SET name = name || ' (edited)' WHERE id = 'deportation'")
    assert etag_of(browser_client, TOPIC) != before


def test_another_session_gets_another_etag(app, browser_client):
    other = app.test_client()
    with other.session_transaction() as session:
        session["csrf_token"] = "someone-else"
    # Each page embeds its session's CSRF token, so one session's copy is no good to another.
    assert etag_of(browser_client, TOPIC) != etag_of(other, TOPIC)


def test_the_queue_order_kept_in_the_session_changes_the_etag(browser_client):
    before = etag_of(browser_client, "/label")
    with browser_client.session_transaction() as session:
        session["queue_order"] = "uncertain"
    assert etag_of(browser_client, "/label") != before


def test_another_local_annotator_or_setting_gets_another_etag(app, browser_client):
    before = etag_of(browser_client, TOPIC)
    app.config["ANNOTATOR"] = "someone-else"
    annotator = etag_of(browser_client, TOPIC)
    app.config["SIMILARITY"] = False
    assert len({before, annotator, etag_of(browser_client, TOPIC)}) == 3


def test_fragments_and_pages_of_one_url_get_different_etags(browser_client):
    page = etag_of(browser_client, TOPIC)
    fragment = etag_of(browser_client, TOPIC, **{"HX-Request": "true"})
    boosted = etag_of(browser_client, TOPIC, **{"HX-Request": "true", "HX-Boosted": "true"})
    restore = etag_of(browser_client, TOPIC, **{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert len({page, fragment, boosted, restore}) == 4
    assert browser_client.get(TOPIC, headers={"HX-Request": "true", "If-None-Match": page}).status_code == 200


def test_the_query_string_is_part_of_the_etag(browser_client):
    assert etag_of(browser_client, TOPIC) != etag_of(browser_client, f"{TOPIC}?view=holder")


def test_a_page_showing_a_flash_is_never_cached_or_304d(browser_client):
    etag = etag_of(browser_client, "/label")
    with browser_client.session_transaction() as session:
        session["_flashes"] = [("message", "Saved passage 3.")]
    # The overview shows no messages, so this one waits for the next page that does: no ETag meanwhile.
    waiting = browser_client.get("/")
    assert waiting.status_code == 200 and "ETag" not in waiting.headers
    shown = browser_client.get("/label", headers={"If-None-Match": etag})
    assert shown.status_code == 200 and "Saved passage 3." in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers
    assert shown.headers["Cache-Control"] == "no-store"
    # Shown once, the message is gone, and the page is the one the browser already holds.
    assert browser_client.get("/label", headers={"If-None-Match": etag}).status_code == 304


def test_a_flash_from_a_form_post_is_shown_not_304d(browser_client):
    etag = etag_of(browser_client, TOPIC)
    undone = browser_client.post("/label/undo", data={"csrf_token": TOKEN})
    assert undone.status_code in (302, 303)
    shown = browser_client.get(TOPIC, headers={"If-None-Match": etag})
    assert shown.status_code == 200 and "Nothing to undo." in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers


def test_a_first_visit_that_sets_the_session_cookie_has_no_etag(client):
    first = client.get(TOPIC)
    assert first.status_code == 200 and "Set-Cookie" in first.headers
    assert "ETag" not in first.headers and first.headers["Cache-Control"] == "no-store"
    assert client.get(TOPIC).headers.get("ETag")


def test_posts_are_never_answered_304(browser_client):
    etag = etag_of(browser_client, "/api/passages/3")
    body = {"labels": [{"topic": "deportation", "stance": "favour", "holder": "x"}]}
    response = browser_client.put("/api/passages/3/labels", json=body,
                                  headers={"X-CSRFToken": TOKEN, "If-None-Match": "*"})
    assert response.status_code == 200 and "ETag" not in response.headers
    posted = browser_client.post("/label/3", data={"csrf_token": TOKEN}, headers={"If-None-Match": etag})
    assert posted.status_code != 304 and "ETag" not in posted.headers


def test_errors_get_no_etag(browser_client):
    missing = browser_client.get("/passages/999999")
    assert missing.status_code == 404 and "ETag" not in missing.headers
    assert missing.headers["Cache-Control"] == "no-store"


def test_a_search_stopped_at_its_deadline_is_not_kept(browser_client, monkeypatch):
    def too_slow(*args, **kwargs):
        raise DeadlineExceeded()

    monkeypatch.setattr("webapp.analysis.fulltext.search", too_slow)
    response = browser_client.get("/search?q=Kabul", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "took too long" in response.get_data(as_text=True)
    assert "ETag" not in response.headers


def test_static_files_keep_their_own_validators(browser_client):
    response = browser_client.get("/static/app.js")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_the_code_version_follows_the_files(tmp_path):
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "page.html"
    page.write_text("one", encoding="utf-8")
    before = caching.code_version(tmp_path)
    assert caching.code_version(tmp_path) == before
    page.write_text("two!", encoding="utf-8")
    assert caching.code_version(tmp_path) != before


def shared_client(app, name: str):
    """A client signed in as `name` in a shared-mode app."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = TOKEN
    response = client.post("/login", data={"csrf_token": TOKEN, "name": name, "password": PASSWORD})
    assert response.status_code in (302, 303)
    client.get("/label")  # shows, and so clears, the "Signed in" flash
    return client


def test_signed_in_annotators_get_their_own_etags(corpus):
    app = shared_app(corpus, "alice", "bea", password=PASSWORD)
    alice, bea = shared_client(app, "alice"), shared_client(app, "bea")
    anonymous = app.test_client()
    with anonymous.session_transaction() as session:
        session["csrf_token"] = TOKEN
    etags = {etag_of(alice, "/label"), etag_of(bea, "/label"), etag_of(anonymous, TOPIC)}
    assert len(etags) == 3
    # Same session and token as alice's but signed out: the page (status, links) differs, so does the tag.
    assert etag_of(anonymous, TOPIC) != etag_of(alice, TOPIC)
