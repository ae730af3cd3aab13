"""News feeds: an RSS or Atom link lists its entries, ticked ones are fetched and saved, known ones are marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import soup
from helpers_web import Route, article_html, web_server

from webapp.corpus import feeds, fetching
from webapp.corpus.textfiles import BadInput

HARBOUR = "Harbour wall plan divides the town council"
BRIDGE = "New footbridge opens over the river"
FERRY = "Ferry timetable cut for the winter"
RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>The Estuary Courier</title><link>/</link><description>News from the estuary towns</description>
  <item><title>{HARBOUR}</title><link>/news/harbour-wall</link>
    <pubDate>Thu, 17 Apr 2025 08:30:00 GMT</pubDate>
    <description>&lt;p&gt;The council split six to five over raising the wall.&lt;/p&gt;</description></item>
  <item><title>{BRIDGE}</title><link>/news/bridge</link>
    <pubDate>Sat, 12 Apr 2025 07:00:00 GMT</pubDate><author>desk@courier.example (Ines Moreau)</author></item>
  <item><title>{FERRY}</title><link>/news/ferry</link><pubDate>Fri, 11 Apr 2025 18:00:00 GMT</pubDate></item>
</channel></rss>""".encode()
ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Hill Farm Notes</title><id>urn:hill-farm</id>
  <updated>2025-05-02T09:00:00Z</updated>
  <entry><title>{HARBOUR}</title><link href="/news/harbour-wall"/><id>urn:hill-farm:1</id>
    <updated>2025-05-02T09:00:00Z</updated><author><name>Oskar Brandt</name></author>
    <summary>Why a farmer upriver cares about the harbour wall.</summary></entry>
</feed>""".encode()
# A page that declares nothing about itself: the feed's entry gives its title, author and date.
BARE_PAGE = (
    "<html><body><article>"
    "<p>The footbridge between the two market squares opened on Saturday after two years of building work.</p>"
    "<p>Shopkeepers on the east bank said that trade had already picked up during the first weekend.</p>"
    "<p>The council will decide in the autumn whether cyclists may ride over the bridge as well.</p>"
    "</article></body></html>"
).encode()
ROUTES = {
    "/feeds/courier.xml": Route(RSS, content_type="application/rss+xml"),
    "/feeds/hill.atom": Route(ATOM, content_type="application/atom+xml"),
    "/feeds/broken.xml": Route(b"<?xml version='1.0'?>\n<rss version='2.0'><channel><item><title>Half an",
                               content_type="application/rss+xml"),
    "/news/harbour-wall": Route(article_html()),
    "/news/bridge": Route(BARE_PAGE),
}


@pytest.fixture(scope="module")
def site():
    """The outside world: an outlet with an RSS feed, an Atom feed, a broken feed and its articles."""
    with web_server(ROUTES) as running:
        yield running


@pytest.fixture
def fetching_allowed(app):
    """The app allowed to fetch from the test server on 127.0.0.1."""
    app.config["FETCH_PRIVATE_ADDRESSES"] = True
    return app


def feed_page(client, url: str, htmx: bool = False):
    """Open the feed page for a feed URL."""
    return client.get("/add/feed", query_string={"url": url}, headers={"HX-Request": "true"} if htmx else {})


def import_ticked(client, page, titles: list[str], htmx: bool = False):
    """Tick the entries with these titles on a feed page and post its form, as a browser would."""
    form = page.find("form", attrs={"method": "post"})
    data = {name: [i.get("value", "") for i in form.find_all("input", attrs={"name": name})]
            for name in ("csrf_token", "url", "feed_title", "entry_url", "entry_title", "entry_date", "entry_author")}
    data["entry"] = [form.find("input", id=label["for"])["value"]
                     for label in form.find_all("label") if label.text in titles]
    assert len(data["entry"]) == len(titles)
    return client.post(form["action"], data=data, headers={"HX-Request": "true"} if htmx else {})


def entries(page) -> dict[str, dict]:
    """Each listed entry by title: whether it can be ticked, the document it is known as, its date."""
    listed = {}
    for item in page.select(".feed-entries li"):
        known = item.find("a")
        time = item.find("time")
        title = known.text if known else item.find(["label", "span"]).text.strip()
        listed[title] = {"tickable": bool(item.find("input", attrs={"type": "checkbox"})),
                         "known": known["href"] if known else None, "date": time["datetime"] if time else ""}
    return listed


def test_an_rss_feed_lists_its_entries_with_their_titles_and_dates(client, fetching_allowed, site):
    response = feed_page(client, site.url("/feeds/courier.xml"))
    assert response.status_code == 200
    page = soup(response)
    assert page.find("h2").text == "The Estuary Courier"
    assert entries(page) == {
        HARBOUR: {"tickable": True, "known": None, "date": "2025-04-17"},
        BRIDGE: {"tickable": True, "known": None, "date": "2025-04-12"},
        FERRY: {"tickable": True, "known": None, "date": "2025-04-11"},
    }
    # Relative links are read against the feed's own address.
    assert page.find("input", attrs={"name": "entry", "value": site.url("/news/bridge")})
    assert "The council split six to five over raising the wall." in page.select_one(".feed-entries li").text
    assert "Ines Moreau" in page.select(".feed-entries li")[1].text


def test_an_atom_feed_lists_its_entries_too(client, fetching_allowed, site):
    page = soup(feed_page(client, site.url("/feeds/hill.atom")))
    assert page.find("h2").text == "Hill Farm Notes"
    assert entries(page) == {HARBOUR: {"tickable": True, "known": None, "date": "2025-05-02"}}
    assert "Oskar Brandt" in page.select_one(".feed-entries li").text


def test_ticked_entries_are_saved_and_one_that_fails_is_reported_with_its_reason(client, fetching_allowed, db, site):
    before = db["documents"].count
    page = soup(feed_page(client, site.url("/feeds/courier.xml")))
    response = import_ticked(client, page, [HARBOUR, FERRY])
    assert response.status_code == 200
    result = soup(response)
    status = result.find(class_="flash").find("p").text
    assert status.startswith("1 imported, 1 failed: Ferry timetable cut for the winter: ")
    assert "/news/ferry answered 404" in status
    assert result.find(class_="problem").text.startswith(f"Failed: {FERRY}")

    assert db["documents"].count == before + 1
    saved = db.execute("SELECT id, title, author, outlet, date, url FROM documents WHERE url = ?",
                       [site.url("/news/harbour-wall")]).fetchone()
    assert saved[1:] == (HARBOUR, "Mara Lindqvist", "The Estuary Courier", "2025-04-17", site.url("/news/harbour-wall"))
    assert (Path(fetching_allowed.config["SEEDS_DIR"]) / saved[0]).read_text(encoding="utf-8").count("harbour") >= 2
    assert result.find("a", string=HARBOUR)["href"] == f"/documents/{saved[0]}"
    assert not db.execute("SELECT 1 FROM documents WHERE title = ?", [FERRY]).fetchone()


def test_the_entry_gives_the_title_author_and_date_a_page_lacks(client, fetching_allowed, db, site):
    import_ticked(client, soup(feed_page(client, site.url("/feeds/courier.xml"))), [BRIDGE])
    row = db.execute("SELECT title, author, outlet, date FROM documents WHERE url = ?", [site.url("/news/bridge")])
    assert row.fetchone() == (BRIDGE, "Ines Moreau", "The Estuary Courier", "2025-04-12")


def test_entries_already_in_the_corpus_are_marked_linked_and_cannot_be_ticked(client, fetching_allowed, db, site):
    import_ticked(client, soup(feed_page(client, site.url("/feeds/courier.xml"))), [HARBOUR])
    name = db.execute("SELECT id FROM documents WHERE title = ?", [HARBOUR]).fetchone()[0]
    listed = entries(soup(feed_page(client, site.url("/feeds/courier.xml"))))
    assert listed[HARBOUR] == {"tickable": False, "known": f"/documents/{name}", "date": "2025-04-17"}
    assert listed[BRIDGE]["tickable"]
    # The same article in another feed is known too.
    assert entries(soup(feed_page(client, site.url("/feeds/hill.atom"))))[HARBOUR]["known"] == f"/documents/{name}"


def test_htmx_gets_the_entries_alone_and_a_plain_request_the_page(client, fetching_allowed, site):
    page = soup(feed_page(client, site.url("/feeds/courier.xml")))
    fragment = import_ticked(client, page, [HARBOUR], htmx=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert not soup(fragment).find("html") and soup(fragment).find(id="feed-entries")
    assert soup(feed_page(client, site.url("/feeds/courier.xml"))).find("html")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/feeds/broken.xml", "is not an RSS or Atom feed that can be read (its XML is malformed"),
        ("/news/harbour-wall", "is text/html, which cannot be added here (only RSS and Atom feeds)"),
        ("/feeds/gone.xml", "answered 404"),
    ],
)
def test_a_link_that_is_no_readable_feed_is_explained(client, fetching_allowed, site, path, message):
    response = feed_page(client, site.url(path))
    assert response.status_code == 422
    page = soup(response)
    assert message in page.find(class_="error").text
    assert page.find("input", id="feed-url")["value"] == site.url(path)  # the form again, to fix the link


def test_importing_with_nothing_ticked_says_so(client, fetching_allowed, db, site):
    before = db["documents"].count
    response = import_ticked(client, soup(feed_page(client, site.url("/feeds/courier.xml"))), [])
    assert response.status_code == 422 and "No entry is ticked" in soup(response).find(class_="error").text
    assert db["documents"].count == before


def test_the_feed_page_refuses_loopback_when_the_setting_says_so(client, app, site):
    app.config["FETCH_PRIVATE_ADDRESSES"] = False
    requests = len(site.requests)
    assert "a loopback address" in soup(feed_page(client, site.url("/feeds/courier.xml"))).find(class_="error").text
    assert len(site.requests) == requests


def test_import_new_takes_the_entries_not_yet_in_the_corpus(client, fetching_allowed, db, site):
    import_ticked(client, soup(feed_page(client, site.url("/feeds/courier.xml"))), [HARBOUR])
    seeds = Path(fetching_allowed.config["SEEDS_DIR"])
    fetched = fetching.fetch(site.url("/feeds/courier.xml"), allow_private=True)
    outcomes = feeds.import_new(db, seeds, fetched, allow_private=True)
    assert [(o.entry.title, bool(o.saved), o.error is not None) for o in outcomes] == [
        (BRIDGE, True, False), (FERRY, False, True)]
    assert feeds.summary(outcomes).startswith("1 imported, 1 failed: Ferry timetable cut for the winter:")
    assert [o.entry.title for o in feeds.import_new(db, seeds, fetched, allow_private=True)] == [FERRY]


def test_feed_bytes_that_look_like_a_link_or_a_file_name_are_never_fetched_or_opened(site, tmp_path):
    on_disk = tmp_path / "feed.xml"
    on_disk.write_bytes(RSS)
    requests = len(site.requests)
    for data in (site.url("/feeds/courier.xml").encode(), str(on_disk).encode()):
        with pytest.raises(BadInput, match="is not an RSS or Atom feed"):
            feeds.parse_feed(data, "http://example.org/feed")
    assert len(site.requests) == requests


def test_the_feed_page_without_a_link_asks_for_one(client):
    response = client.get("/add/feed")
    assert response.status_code == 200
    page = soup(response)
    assert page.find("label", attrs={"for": "feed-url"}).text == "Link to an RSS or Atom feed"
    assert page.find("form", attrs={"method": "get"}).find("input", id="feed-url")["name"] == "url"
    assert not page.find(class_="error") and not page.select(".feed-entries li")
