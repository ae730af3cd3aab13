"""Adding a document by link: on /add (plain form and htmx) and with `counterpoint documents import URL`."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import corpus_config, csrf, import_documents, soup
from helpers_web import ARTICLE_PARAGRAPHS, Route, article_html, web_server
from test_adding import form_data, passages

from webapp import create_app
from webapp.labels import accounts
from webapp.labels.build import build
from webapp.store.db import connect

TITLE = "Harbour wall plan divides the town council"
ROUTES = {
    "/news/harbour-wall": Route(article_html()),
    "/amp/harbour-wall": Route(redirect="/news/harbour-wall"),
    "/mirror/harbour-wall": Route(article_html(outlet="The Estuary Mirror")),
    "/news/bridge": Route(article_html(title="New footbridge opens over the river", paragraphs=[
        "The footbridge between the two market squares opened on Saturday after two years of work.",
        "Shopkeepers on the east bank said trade had already picked up during the first weekend.",
        "The council will decide in the autumn whether cyclists may use the bridge as well.",
    ])),
    "/gone": Route(b"<p>Nothing</p>", status=404),
    "/slow": Route(article_html(), delay=3),
    "/huge": Route(b"<p>" + b"word " * 4000 + b"</p>"),
    "/photo.png": Route(b"\x89PNG\r\n\x1a\n", content_type="image/png"),
    "/loop-a": Route(redirect="/loop-b"),
    "/loop-b": Route(redirect="/loop-a"),
    **{f"/hop{i}": Route(redirect=f"/hop{i + 1}") for i in range(6)},
    "/hop6": Route(article_html()),
    "/feed.xml": Route(b"<?xml version='1.0'?><rss version='2.0'><channel><title>News</title></channel></rss>",
                       content_type="application/rss+xml"),
    "/local.rss": Route(
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>The Estuary Courier: Local</title>"
        + b"".join(f"<item><title>{t}</title><link>{link}</link></item>".encode() for t, link in [
            ("Harbour wall", "/news/harbour-wall"), ("Footbridge", "/news/bridge"), ("Removed story", "/gone")])
        + b"</channel></rss>", content_type="application/rss+xml"),
    "/broken.rss": Route(b"<rss version='2.0'><channel><title>News</title><item><title>Cut off",
                         content_type="application/rss+xml"),
}


@pytest.fixture(scope="module")
def site():
    """The outside world: a web server on 127.0.0.1 with an article, a feed and bad links."""
    with web_server(ROUTES) as running:
        yield running


@pytest.fixture
def limits(app):
    """Short limits, so that the slow and huge links fail quickly."""
    app.config.update(FETCH_TIMEOUT_SECONDS=0.5, FETCH_MAX_BYTES=10_000)
    return app


def by_link(client, link: str, htmx: bool = False):
    """Post the "Add from a link" form."""
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/add/link", data={"csrf_token": csrf(client), "link": link}, headers=headers)


def corpus_state(app, db) -> tuple:
    """What adding a document changes: the seeds folder's files and the documents and passages tables."""
    seeds = sorted(p.name for p in Path(app.config["SEEDS_DIR"]).iterdir())
    return seeds, db["documents"].count, db["passages"].count


def test_the_add_page_has_a_form_to_add_from_a_link(client):
    page = soup(client.get("/add"))
    form = page.find("form", action="/add/link")
    assert form["method"] == "post" and form.find("input", attrs={"name": "csrf_token"})["value"]
    field = form.find("input", attrs={"name": "link"})
    assert field["type"] == "url" and page.find("label", attrs={"for": field["id"]}).text.startswith("Add from a link")


def test_a_link_is_fetched_previewed_with_its_metadata_and_saved(client, app, db, site):
    response = by_link(client, site.url("/amp/harbour-wall"))
    assert response.status_code == 200
    page = soup(response)
    assert page.find("html") and page.find("h1").text == "Check the passages"
    data = form_data(page)
    assert {f: data[f] for f in ("title", "author", "outlet", "date", "url")} == {
        "title": TITLE, "author": "Mara Lindqvist", "outlet": "The Estuary Courier", "date": "2025-04-17",
        "url": site.url("/news/harbour-wall"),
    }
    assert data["name"] == "harbour-wall-plan-divides-the-town-council.txt"
    assert [t for k, t in passages(page) if k == "content"] == ARTICLE_PARAGRAPHS

    saved = client.post("/add/save", data=data)
    assert saved.status_code == 303
    name = "harbour-wall-plan-divides-the-town-council.txt"
    seeds = Path(app.config["SEEDS_DIR"])
    assert ARTICLE_PARAGRAPHS[0] in (seeds / name).read_text(encoding="utf-8")
    assert f'url = "{site.url("/news/harbour-wall")}"' in (seeds / f"{name}.toml").read_text(encoding="utf-8")
    row = db["documents"].get(name)
    assert (row["title"], row["outlet"], row["url"]) == (TITLE, "The Estuary Courier", site.url("/news/harbour-wall"))


def test_htmx_gets_the_preview_alone_and_a_boosted_post_the_page(client, site):
    fragment = by_link(client, site.url("/news/harbour-wall"), htmx=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert not soup(fragment).find("html") and soup(fragment).find("form", id="preview")
    boosted = client.post("/add/link", data={"csrf_token": csrf(client), "link": site.url("/news/harbour-wall")},
                          headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert soup(boosted).find("html") and soup(boosted).find("form", id="preview")


@pytest.mark.parametrize(("path", "message"), [
    ("/gone", "answered 404 Not Found"),
    ("/slow", "did not answer within 0.5 seconds"),
    ("/huge", "is larger than the limit of 10,000 bytes"),
    ("/photo.png", "is image/png, which cannot be added here"),
    ("/loop-a", "redirects in a loop"),
    ("/hop0", "redirects more than 5 times"),
    ("", "Type or paste the link"),
    ("ftp://files.example/report.pdf", "only http:// and https:// links can be fetched"),
])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_bad_link_is_explained_on_the_form_and_nothing_is_saved(client, limits, db, site, path, message, htmx):
    link = site.url(path) if path.startswith("/") else path
    before = corpus_state(limits, db)
    response = by_link(client, link, htmx)
    assert response.status_code == (200 if htmx else 422)
    page = soup(response)
    assert message in page.find(class_="error").text
    assert page.find("input", attrs={"name": "link"})["value"] == link  # there to fix and retry
    assert corpus_state(limits, db) == before


def saved_article(client, site) -> str:
    """Add the harbour article by link; returns the document's name."""
    client.post("/add/save", data=form_data(soup(by_link(client, site.url("/news/harbour-wall")))))
    return "harbour-wall-plan-divides-the-town-council.txt"


@pytest.mark.parametrize("spelling", ["/news/harbour-wall/", "/news/harbour-wall#comments", "/amp/harbour-wall"])
def test_a_link_already_in_the_corpus_is_offered_instead_of_a_copy(client, app, db, site, spelling):
    name = saved_article(client, site)
    before, asked = corpus_state(app, db), len(site.requests)
    response = by_link(client, site.url(spelling))
    assert response.status_code == 200
    notice = soup(response).find(class_="already")
    assert "already in the corpus" in notice.text and TITLE in notice.text
    assert notice.find("a")["href"] == f"/documents/{name}"
    assert not soup(response).find("form", id="preview")
    assert corpus_state(app, db) == before
    # A known spelling costs no request; a redirect is only known once followed.
    assert len(site.requests) == asked + (2 if spelling.startswith("/amp") else 0)


def test_the_same_text_at_another_link_is_already_in_the_corpus(client, app, db, site):
    name = saved_article(client, site)
    response = by_link(client, site.url("/mirror/harbour-wall"))
    assert soup(response).find(class_="already").find("a")["href"] == f"/documents/{name}"


def test_a_feed_link_goes_to_the_feed_page(client, site):
    response = by_link(client, site.url("/feed.xml"))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/add/feed?url=http")
    htmx = by_link(client, site.url("/feed.xml"), htmx=True)
    assert htmx.headers["HX-Redirect"] == response.headers["Location"]


@pytest.fixture
def shared_corpus(corpus) -> Path:
    """The seed corpus built, with annotator alice, for shared-mode apps."""
    db = connect(create_app(corpus_config(corpus)).config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    accounts.add_annotator(db, "alice", "correct horse battery")
    db.close()
    return corpus


def shared_client(corpus: Path, **config):
    """A client signed in as alice to a shared-mode app over the corpus."""
    app = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret", **config})
    client = app.test_client()
    signed_in = client.post("/login", data={"csrf_token": csrf(client), "name": "alice",
                                            "password": "correct horse battery"})
    assert signed_in.status_code == 303
    return client


def test_shared_mode_refuses_a_loopback_link_unless_the_setting_allows_it(shared_corpus, site):
    refused = by_link(shared_client(shared_corpus), site.url("/news/harbour-wall"))
    assert refused.status_code == 422
    assert "leads to 127.0.0.1, a loopback address" in soup(refused).find(class_="error").text
    allowed = by_link(shared_client(shared_corpus, FETCH_PRIVATE_ADDRESSES=True), site.url("/news/harbour-wall"))
    assert allowed.status_code == 200 and form_data(soup(allowed))["title"] == TITLE


def test_local_mode_refuses_loopback_when_the_setting_says_so(client, app, site):
    app.config["FETCH_PRIVATE_ADDRESSES"] = False
    assert "a loopback address" in soup(by_link(client, site.url("/news/harbour-wall"))).find(class_="error").text


# --- counterpoint documents import URL ---------------------------------------------------------------

def test_the_command_imports_a_link_with_the_page_metadata_under_the_options(runner, loaded, site):
    result = import_documents(runner, loaded, site.url("/amp/harbour-wall"), "--outlet", "Estuary Courier Online")
    assert result.exit_code == 0, result.output
    name = "harbour-wall-plan-divides-the-town-council.txt"
    assert f"seeds/{name}: " in result.output
    db = connect(loaded / "instance" / "counterpoint.db")
    row = db["documents"].get(name)
    assert (row["title"], row["author"], row["outlet"], row["date"], row["url"]) == (
        TITLE, "Mara Lindqvist", "Estuary Courier Online", "2025-04-17", site.url("/news/harbour-wall"))
    db.close()
    assert ARTICLE_PARAGRAPHS[-1] in (loaded / "seeds" / name).read_text(encoding="utf-8")


def test_the_command_skips_links_already_in_the_corpus_and_imports_the_others(runner, loaded, site):
    assert import_documents(runner, loaded, site.url("/news/harbour-wall")).exit_code == 0
    result = import_documents(runner, loaded, site.url("/news/harbour-wall/"), site.url("/mirror/harbour-wall"),
                              site.url("/news/bridge"))
    assert result.exit_code == 0, result.output
    name = "harbour-wall-plan-divides-the-town-council.txt"
    assert f"{site.url('/news/harbour-wall/')}: already in the corpus: {name}" in result.output
    assert f"{site.url('/mirror/harbour-wall')}: already in the corpus: {name}" in result.output
    assert "seeds/new-footbridge-opens-over-the-river.txt: " in result.output
    assert not (loaded / "seeds" / f"{name[:-4]}-2.txt").exists()


def seeds_and_documents(corpus: Path) -> tuple:
    """The seeds folder's files and the number of documents in the database."""
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        return sorted(p.name for p in (corpus / "seeds").iterdir()), db["documents"].count
    finally:
        db.close()


@pytest.mark.parametrize(("path", "message"), [
    ("/gone", "answered 404 Not Found"),
    ("/photo.png", "is image/png"),
    ("/loop-a", "redirects in a loop"),
    ("/broken.rss", "is not an RSS or Atom feed that can be read"),
])
def test_one_bad_link_stops_the_whole_import(runner, loaded, site, tmp_path, path, message):
    good = tmp_path / "notes.txt"
    good.write_text("A note about the harbour.\n\nAnother note about the wall.\n", encoding="utf-8")
    before = seeds_and_documents(loaded)
    result = import_documents(runner, loaded, str(good), site.url("/news/bridge"), site.url(path))
    assert result.exit_code == 1
    assert "nothing was imported:" in result.output and message in result.output
    assert seeds_and_documents(loaded) == before


def test_a_feed_link_imports_its_entries_not_yet_in_the_corpus(runner, loaded, site):
    assert import_documents(runner, loaded, site.url("/news/harbour-wall")).exit_code == 0
    before = seeds_and_documents(loaded)
    result = import_documents(runner, loaded, site.url("/local.rss"))
    assert result.exit_code == 0, result.output
    assert "seeds/new-footbridge-opens-over-the-river.txt: " in result.output
    assert "1 imported, 1 failed: Removed story:" in result.output
    assert "answered 404 Not Found" in result.output
    after = seeds_and_documents(loaded)
    assert after[1] == before[1] + 1
    assert set(after[0]) - set(before[0]) == {"new-footbridge-opens-over-the-river.txt",
                                               "new-footbridge-opens-over-the-river.txt.toml"}


def test_a_missing_file_is_still_named_and_a_link_cannot_be_jsonl(runner, loaded, site):
    missing = import_documents(runner, loaded, "no-such-file.html")
    assert missing.exit_code == 2 and "'no-such-file.html' does not exist" in missing.output
    jsonl = import_documents(runner, loaded, "--jsonl", site.url("/news/bridge"))
    assert jsonl.exit_code == 2 and "--jsonl reads files only, not links" in jsonl.output
