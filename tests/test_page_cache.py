"""Rendered pages kept per process: repeat visits skip the view, yet every visitor gets their own
working CSRF token, fresh data after a save, their own name, and each flashed message once."""

from __future__ import annotations

import pytest
from conftest import shared_app, soup
from flask import flash, template_rendered

from webapp.web import caching, pages, security

TOPIC = "/topics/deportation"
HOLDER = "the harbour master"
PASSWORD = "correct horse battery"


@pytest.fixture
def renders(app):
    """The templates rendered so far (a page served from the cache renders none)."""
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    with template_rendered.connected_to(record, app):
        yield rendered


@pytest.fixture
def views(app, monkeypatch):
    """The topic pages whose view ran."""
    calls = []
    view = app.view_functions["topics.topic"]

    def counted(**kwargs):
        calls.append(kwargs["topic_id"])
        return view(**kwargs)

    monkeypatch.setitem(app.view_functions, "topics.topic", counted)
    return calls


def visit(client, url: str = TOPIC, **headers):
    """GET a page that must answer 200; returns the response and its CSRF token."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response, soup(response).find("meta", attrs={"name": "csrf-token"})["content"]


def session_token(client) -> str:
    """The CSRF token the client's session holds."""
    with client.session_transaction() as session:
        return session["csrf_token"]


def kept(app):
    """This app's cache of rendered pages."""
    return app.extensions[pages.CACHE]


def test_a_second_visitor_gets_the_page_without_the_view_or_templates_running(app, views, renders):
    first, _ = visit(app.test_client())
    assert views == ["deportation"] and "topics/topic.html" in renders
    renders.clear()
    second, _ = visit(app.test_client())
    assert views == ["deportation"] and renders == []
    assert "Held by" in second.get_data(as_text=True)
    assert len(second.data) == len(first.data)
    # The home page is kept too, under its own key.
    visit(app.test_client(), "/")
    renders.clear()
    visit(app.test_client(), "/")
    assert renders == []


def test_every_visitor_gets_their_own_token_and_can_post_with_it(app, views):
    alice, bea = app.test_client(), app.test_client()
    _, alice_token = visit(alice)
    page, bea_token = visit(bea)
    assert views == ["deportation"], "the second page should come from the cache"
    assert alice_token != bea_token
    assert (alice_token, bea_token) == (session_token(alice), session_token(bea))
    body = page.get_data(as_text=True)
    assert app.extensions[pages.PLACEHOLDER] not in body
    assert f'"X-CSRFToken": "{bea_token}"' in body
    # A plain form post with the page's field, and an htmx write with the page's header.
    assert bea.post("/label/undo", data={"csrf_token": bea_token}).status_code == 303
    labels = {"labels": [{"topic": "deportation", "stance": "favour", "holder": HOLDER}]}
    assert bea.put("/api/passages/3/labels", json=labels, headers={"X-CSRFToken": bea_token}).status_code == 200
    assert alice.post("/label/undo", data={"csrf_token": alice_token}).status_code == 303
    assert bea.post("/label/undo", data={"csrf_token": alice_token}).status_code == 400


def test_a_page_from_the_cache_is_the_page_a_render_gives_with_the_same_etag(app, views):
    client = app.test_client()
    visit(client)  # starts the session
    rendered = client.get("/?all=topics")
    cached = client.get("/?all=topics")
    assert rendered.data == cached.data
    assert rendered.headers["ETag"] == cached.headers["ETag"]
    assert client.get("/?all=topics", headers={"If-None-Match": cached.headers["ETag"]}).status_code == 304


def test_a_page_holding_a_real_token_is_never_kept(app, views, monkeypatch):
    # As if a template wrote the session's token without going through the template global.
    monkeypatch.setitem(app.jinja_env.globals, "csrf_token", security.csrf_token)
    alice, bea = app.test_client(), app.test_client()
    assert visit(alice)[1] != visit(bea)[1]
    assert len(views) == 2 and not kept(app).entries


def votes_on_passage_3(response) -> str:
    """What the topic page says about annotators' votes on passage 3 ('' when they agree)."""
    note = soup(response).select_one("#card-3 .contested-note")
    return note.get_text() if note else ""


def test_a_saved_label_shows_at_once_and_older_pages_are_dropped(app, views):
    app.config["ANNOTATOR"] = "ada"
    reader, labeller = app.test_client(), app.test_client()
    assert "ada" not in votes_on_passage_3(visit(reader)[0])
    _, token = visit(labeller)
    saved = labeller.post("/label/3", data={"csrf_token": token, "stance-deportation": "favour",
                                            "holder-deportation": HOLDER})
    assert saved.status_code == 303
    assert "ada: Supports returns" in votes_on_passage_3(visit(reader)[0])
    assert "ada: Supports returns" in votes_on_passage_3(visit(app.test_client())[0])
    assert len(views) == 2
    assert len({key[1] for key in kept(app).entries}) == 1, "pages of the old data version are still kept"


def test_a_flashed_message_is_shown_once_to_its_owner_and_never_kept(app, views):
    owner, other = app.test_client(), app.test_client()
    _, token = visit(owner)
    owner.post("/label/undo", data={"csrf_token": token})
    # The page is in the cache, yet the owner's message shows.
    assert "Nothing to undo." in visit(owner)[0].get_data(as_text=True)
    assert "Nothing to undo." not in visit(other)[0].get_data(as_text=True)
    assert "Nothing to undo." not in visit(owner)[0].get_data(as_text=True)
    kept(app).entries.clear()
    owner.post("/label/undo", data={"csrf_token": token})
    assert "Nothing to undo." in visit(owner)[0].get_data(as_text=True)
    assert "Nothing to undo." not in visit(other)[0].get_data(as_text=True)


def test_a_message_flashed_by_the_view_itself_is_never_kept(app, monkeypatch):
    view = app.view_functions["topics.topic"]

    def flashing(**kwargs):
        flash("Only for the first visitor.")
        return view(**kwargs)

    monkeypatch.setitem(app.view_functions, "topics.topic", flashing)
    assert "Only for the first visitor." in visit(app.test_client())[0].get_data(as_text=True)
    monkeypatch.setitem(app.view_functions, "topics.topic", view)
    assert "Only for the first visitor." not in visit(app.test_client())[0].get_data(as_text=True)


def test_a_page_of_the_moment_is_not_kept(app, views, monkeypatch):
    view = app.view_functions["topics.topic"]

    def stopped_early(**kwargs):
        caching.of_the_moment()
        return view(**kwargs)

    monkeypatch.setitem(app.view_functions, "topics.topic", stopped_early)
    visit(app.test_client())
    visit(app.test_client())
    assert not kept(app).entries


def test_fragments_and_filters_are_kept_apart_from_the_page(app, views):
    page, _ = visit(app.test_client())
    fragment = app.test_client().get(TOPIC, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    holders, _ = visit(app.test_client(), f"{TOPIC}?view=holder")
    assert len({page.data, fragment.data, holders.data}) == 3
    assert len(views) == 3


def test_an_error_page_carries_a_real_token_and_is_not_kept(app):
    client = app.test_client()
    missing = client.get("/topics/no-such-topic")
    assert missing.status_code == 404
    token = soup(missing).find("meta", attrs={"name": "csrf-token"})["content"]
    assert token == session_token(client)
    assert not kept(app).entries


def test_another_annotator_never_sees_anothers_page(app):
    assert "Labelling as <strong>ada</strong>" not in visit(app.test_client())[0].get_data(as_text=True)
    app.config["ANNOTATOR"] = "ada"
    assert "Labelling as <strong>ada</strong>" in visit(app.test_client())[0].get_data(as_text=True)


def signed_in(app, name: str):
    """A client signed in as `name`, its welcome message already shown."""
    client = app.test_client()
    _, token = visit(client, "/login")
    assert client.post("/login", data={"csrf_token": token, "name": name, "password": PASSWORD}).status_code == 303
    visit(client, "/label")  # shows, and so clears, the "Signed in" flash
    return client


def test_signed_in_annotators_and_visitors_each_get_their_own_page(corpus):
    app = shared_app(corpus, "alice", "bea", password=PASSWORD)
    for _ in range(2):  # the second round comes from the cache
        alice = visit(signed_in(app, "alice"))[0].get_data(as_text=True)
        bea = visit(signed_in(app, "bea"))[0].get_data(as_text=True)
        anonymous = visit(app.test_client())[0].get_data(as_text=True)
        assert "Signed in as <strong>alice</strong>" in alice and "bea" not in alice
        assert "Signed in as <strong>bea</strong>" in bea
        assert "Signed in as" not in anonymous and "Sign in" in anonymous


def test_the_kept_pages_stay_within_their_byte_cap(app, views):
    one_page = len(visit(app.test_client())[0].data)
    app.config["RENDERED_PAGES_BYTES"] = int(one_page * 2.5)
    for limit in (20, 40, 60, 80):
        visit(app.test_client(), f"{TOPIC}?limit={limit}")
    assert 0 < kept(app).bytes <= app.config["RENDERED_PAGES_BYTES"]
    assert len(kept(app).entries) == 2
    before = len(views)
    visit(app.test_client(), f"{TOPIC}?limit=80")
    visit(app.test_client(), f"{TOPIC}?limit=20")
    assert len(views) == before + 1, "the newest page should be kept and the oldest dropped"
