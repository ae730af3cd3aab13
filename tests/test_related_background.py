"""A large corpus's related index is built in the background: pages answer at once and say so meanwhile.

The seed corpus is small, so these tests lower SIMILARITY_BACKGROUND_PASSAGES to send it down the
large-corpus path, and hold the build on an Event they release, so nothing depends on timing.
"""

import logging

import pytest
from conftest import soup
from helpers_related import NEVER, background_app, finish, hold_builds

from webapp.similarity import index
from webapp.store.db import connect

HX = {"HX-Request": "true"}

@pytest.fixture
def app(corpus):
    """The app over the seed corpus, building its related index in the background."""
    return background_app(corpus)


def test_the_first_page_answers_at_once_says_the_suggestions_are_being_prepared_and_shows_them_once_built(
    app, client, db, held, kassou
):
    content = db.execute("SELECT count(*) FROM passages WHERE kind = 'content'").fetchone()[0]
    client.get("/")  # a session first: a page that starts one is never replayed anyway
    response = client.get(f"/passages/{kassou}")
    assert response.status_code == 200
    panel = soup(response).select_one("#related")
    status = panel.select_one(".preparing[role=status]")
    assert "Finding related passages" in status.text
    assert f"building the similarity index for {content:,} passages" in " ".join(status.text.split())
    assert not panel.select(".suggestion")
    # The panel asks again by itself; the page is of the moment, never confirmed as current later.
    assert status["hx-get"] == f"/passages/{kassou}/related?mode=all" and "load" in status["hx-trigger"]
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"

    finish(app, held)
    refreshed = soup(client.get(status["hx-get"], headers=HX))
    assert refreshed.select("#related .suggestion") and not refreshed.select(".preparing")
    assert held.calls == 1


def test_without_javascript_a_refresh_link_reloads_the_page_at_the_panel(app, client, held, kassou):
    page = soup(client.get(f"/passages/{kassou}?related=same_topic"))
    link = next(a for a in page.select("#related .preparing a") if a.text == "Refresh")
    assert link["href"] == f"/passages/{kassou}?related=same_topic#related"

    finish(app, held)
    assert soup(client.get(link["href"])).select("#related .suggestion")


def test_every_request_meanwhile_answers_from_the_one_build_under_way(app, client, held, kassou):
    for mode in ("all", "same_topic", "counterpoints"):
        fragment = soup(client.get(f"/passages/{kassou}/related?mode={mode}", headers=HX))
        assert fragment.select_one("#related .preparing")
    assert client.get("/").status_code == 200  # other pages do not wait on the build either
    finish(app, held)
    assert held.calls == 1


def test_the_api_says_503_with_when_to_ask_again_until_the_index_is_built(app, client, held, kassou):
    response = client.get(f"/api/passages/{kassou}/related")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "being prepared" in response.get_json()["error"]
    assert "ETag" not in response.headers
    assert client.get(f"/api/passages/{kassou}").status_code == 503  # the passage's answer includes its related

    finish(app, held)
    related = client.get(f"/api/passages/{kassou}/related")
    assert related.status_code == 200 and related.get_json()
    assert client.get(f"/api/passages/{kassou}").get_json()["related"]


def test_a_failed_build_is_logged_the_worker_keeps_serving_and_a_later_request_tries_again(
    app, client, held, kassou, caplog
):
    held.failures = 1
    assert soup(client.get(f"/passages/{kassou}")).select_one("#related .preparing")
    with caplog.at_level(logging.ERROR, logger=index.__name__):
        finish(app, held)
    assert "out of memory, say" in caplog.text

    assert client.get("/").status_code == 200
    held.release.clear()
    assert soup(client.get(f"/passages/{kassou}")).select_one("#related .preparing")
    finish(app, held)
    assert held.calls == 2
    assert soup(client.get(f"/passages/{kassou}")).select("#related .suggestion")


def test_a_due_rebuild_runs_in_the_background_while_the_old_index_answers_and_is_retried_if_it_fails(
    app, db, monkeypatch, kassou, caplog
):
    caches, key = {}, app.config["DATABASE"]
    first = index.current_index(db, caches, key)  # no way to open a connection given: built here, at once
    held = hold_builds(monkeypatch)
    held.failures = 1
    monkeypatch.setattr(index, "REBUILD_AFTER", -1)  # every index is now due for a rebuild

    def open_db():
        return connect(key)

    try:
        assert index.current_index(db, caches, key, open_db, 0) is first
        assert index.current_index(db, caches, key, open_db, 0) is first
        assert held.entered.wait(NEVER) and held.calls == 1
    finally:
        held.release.set()
    assert index.wait_for_build(caches, key, NEVER)
    assert "out of memory, say" in caplog.text

    assert index.current_index(db, caches, key, open_db, 0) is first
    assert index.wait_for_build(caches, key, NEVER) and held.calls == 2
    monkeypatch.setattr(index, "REBUILD_AFTER", 0.2)
    rebuilt = index.current_index(db, caches, key)
    assert rebuilt is not first and kassou in rebuilt
