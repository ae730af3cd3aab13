"""Fetching a document by link: redirects, limits and clear refusals, the SSRF guard, spotting copies."""

from __future__ import annotations

import gzip
import socket
import threading
import time

import pytest
from helpers_documents import make_docx, make_pdf
from helpers_web import ARTICLE_PARAGRAPHS, Route, article_html, web_server

from webapp.corpus import fetching, sources
from webapp.corpus.fetching import FetchError

ARTICLE = article_html()
CHAIN = {f"/hop{i}": Route(redirect=f"/hop{i + 1}") for i in range(6)}
ROUTES = {
    "/news/harbour-wall": Route(ARTICLE),
    "/short/hw": Route(redirect="/news/harbour-wall", status=301),
    "/gone": Route(b"<p>Nothing here</p>", status=404),
    "/slow": Route(ARTICLE, delay=3),
    "/trickle": Route(ARTICLE, trickle=0.05),
    "/huge": Route(b"<p>" + b"word " * 2000 + b"</p>"),
    "/huge-undeclared": Route(b"<p>" + b"word " * 2000 + b"</p>", headers={"Content-Length": None}),
    "/photo.png": Route(b"\x89PNG\r\n\x1a\n", content_type="image/png"),
    "/loop-a": Route(redirect="/loop-b"),
    "/loop-b": Route(redirect="/loop-a"),
    "/hop6": Route(ARTICLE),
    **CHAIN,
    "/zipped": Route(gzip.compress(ARTICLE), headers={"Content-Encoding": "gzip"}),
    "/bomb": Route(gzip.compress(b" " * 200_000), headers={"Content-Encoding": "gzip"}),
    "/latin": Route("<p>Le café où l'on débat du mur du port, chaque soir, depuis l'hiver dernier.</p>"
                    .encode("latin-1"), content_type="text/html; charset=ISO-8859-1"),
    "/notes.txt": Route(b"First note about the harbour.\n\nSecond note about the wall.\n", content_type="text/plain"),
    "/feed.xml": Route(b"<?xml version='1.0'?><!-- news --><rss version='2.0'><channel/></rss>",
                       content_type="application/xml"),
}


@pytest.fixture(scope="module")
def site():
    """The test web server with every route above."""
    with web_server(ROUTES) as running:
        yield running


def fetch(url: str, **options) -> fetching.Fetched:
    """Fetch with private addresses allowed (the test server is on loopback) unless told otherwise."""
    return fetching.fetch(url, **{"allow_private": True, **options})


def test_an_article_is_fetched_through_a_redirect_and_read_with_its_metadata(site):
    fetched = fetch(site.url("/short/hw"))
    assert fetched.url == site.url("/news/harbour-wall")
    assert (fetched.content_type, fetched.charset) == ("text/html", "utf-8")
    text, metadata = fetching.read_document(fetched)
    assert [line for line in text.split("\n") if line in ARTICLE_PARAGRAPHS] == ARTICLE_PARAGRAPHS
    assert "Subscribe" not in text and "Home" not in text
    assert metadata == {
        "title": "Harbour wall plan divides the town council",
        "author": "Mara Lindqvist",
        "outlet": "The Estuary Courier",
        "date": "2025-04-17",
        "url": site.url("/news/harbour-wall"),
    }


def test_the_request_names_the_app_and_what_it_accepts(site):
    fetch(site.url("/news/harbour-wall"))
    sent = site.headers[-1]
    assert sent["User-Agent"].startswith("Counterpoint/") and "viewpoint comparison" in sent["User-Agent"]
    assert "text/html" in sent["Accept"] and "application/pdf" in sent["Accept"]


def test_five_redirects_are_followed(site):
    assert fetch(site.url("/hop1")).url == site.url("/hop6")


def test_a_gzipped_page_is_unpacked(site):
    assert fetch(site.url("/zipped")).data == ARTICLE


@pytest.mark.parametrize(("path", "options", "message"), [
    ("/gone", {}, "answered 404 Not Found: there is no page at this address"),
    ("/slow", {"timeout": 0.5}, "did not answer within 0.5 seconds"),
    ("/trickle", {"timeout": 0.5}, "did not answer within 0.5 seconds"),
    ("/huge", {"max_bytes": 5000}, "is larger than the limit of 5,000 bytes"),
    ("/huge-undeclared", {"max_bytes": 5000}, "is larger than the limit of 5,000 bytes"),
    ("/bomb", {"max_bytes": 5000}, "is larger than the limit of 5,000 bytes"),
    ("/photo.png", {}, "is image/png, which cannot be added here (only web pages, PDF, Word"),
    ("/hop0", {}, "redirects more than 5 times"),
    ("/loop-a", {}, "redirects in a loop (back to"),
    ("/feed.xml", {"accept": fetching.DOCUMENT_TYPES}, "is application/xml, which cannot be added here"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("/") else "")
def test_each_bad_link_gets_its_own_message(site, path, options, message):
    with pytest.raises(FetchError) as refused:
        fetch(site.url(path), **options)
    assert message in str(refused.value)


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://files.example/report.pdf", "only http:// and https:// links can be fetched"),
    ("file:///etc/passwd", "only http:// and https:// links can be fetched"),
    ("https://", "names no host"),
    ("https://news.example:99999/", "is not a valid web address"),
    ("https://reader:secret@news.example/", "carries a user name or password"),
])
def test_links_that_are_not_web_addresses_are_refused(url, message):
    with pytest.raises(FetchError, match=message):
        fetch(url)


def test_a_host_that_cannot_be_found_or_refuses_is_named(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens: bound, never listening
        with pytest.raises(FetchError, match=f"127.0.0.1 refused the connection on port {closed_port}"):
            fetch(f"http://127.0.0.1:{closed_port}/")
    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(FetchError, match="The host news.example could not be found"):
        fetch("https://news.example/article")


def test_a_name_server_that_never_answers_is_given_up_at_the_deadline(monkeypatch):
    released = threading.Event()

    def stalled(*args, **kwargs):
        released.wait(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", stalled)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match="Looking up the host news.example took too long"):
            fetch("https://news.example/article", timeout=0.3)
    finally:
        released.set()
    assert time.monotonic() - started < 2


def test_a_server_trickling_its_headers_is_cut_off_at_the_deadline():
    stop = threading.Event()

    def trickle(listener):
        connection, _ = listener.accept()
        with connection:
            for byte in b"HTTP/1.0 200 OK\r\nX-Padding: " + b"a" * 200:
                if stop.wait(0.05):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=trickle, args=[listener])
        thread.start()
        started = time.monotonic()
        try:
            with pytest.raises(FetchError, match="did not answer within 0.5 seconds"):
                fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.5)
            assert time.monotonic() - started < 2
        finally:
            stop.set()
            thread.join()


# --- The SSRF guard -------------------------------------------------------------------------------

REAL_GETADDRINFO = socket.getaddrinfo


def resolving(monkeypatch, answers: dict[str, list[str]]):
    """Make `socket.getaddrinfo` answer these names with these addresses (each a list of answers in
    turn, the last repeated); returns the list of names looked up."""
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        asked.append(host)
        address = answers[host][min(asked.count(host), len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def pretend_public(monkeypatch, *addresses: str) -> None:
    """Let these loopback addresses pass the guard as if public, so the test server can stand in for the internet."""
    original = fetching.address_refusal
    monkeypatch.setattr(fetching, "address_refusal", lambda a: None if str(a) in addresses else original(a))


def test_the_test_server_itself_is_refused_before_any_connection(site):
    before = len(site.requests)
    with pytest.raises(FetchError, match="leads to 127.0.0.1, a loopback address"):
        fetch(site.url("/news/harbour-wall"), allow_private=False)
    assert len(site.requests) == before


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "a loopback address"),
    ("10.0.0.5", "a private network address"),
    ("192.168.1.20", "a private network address"),
    ("169.254.169.254", "a link-local address"),
    ("100.64.0.1", "an address not on the public internet"),
    ("0.0.0.0", "an unspecified address"),
    ("224.0.0.1", "a multicast address"),
    ("::1", "a loopback address"),
    ("fe80::1", "a link-local address"),
    ("fd00::7", "a private network address"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("::ffff:10.1.2.3", "a private network address"),
    ("2002:7f00:1::", "a loopback address"),
])
def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch, address, reason):
    resolving(monkeypatch, {"news.example": [address]})
    with pytest.raises(FetchError, match=f"leads to {address}, {reason}"):
        fetch("http://news.example/article", allow_private=False)


def test_every_address_a_name_resolves_to_is_checked(monkeypatch):
    def two_answers(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(FetchError, match="leads to 10.0.0.5"):
        fetch("http://news.example/article", allow_private=False)


def test_the_connection_goes_to_the_checked_address_with_the_name_in_the_host_header(site, monkeypatch):
    port = site.base.rsplit(":", 1)[1]
    resolving(monkeypatch, {"news.example": ["127.0.0.1"]})
    pretend_public(monkeypatch, "127.0.0.1")
    fetched = fetch(f"http://news.example:{port}/short/hw", allow_private=False)
    assert fetched.url == f"http://news.example:{port}/news/harbour-wall"
    assert site.headers[-1]["Host"] == f"news.example:{port}"


@pytest.mark.parametrize("target", [
    "http://10.0.0.1/admin", "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/news/harbour-wall",
    "http://metadata.internal/computeMetadata/v1/",
])
def test_a_redirect_to_a_private_address_is_refused(monkeypatch, target):
    resolving(monkeypatch, {"metadata.internal": ["169.254.169.254"]})
    pretend_public(monkeypatch, "127.0.0.1")
    with web_server({"/start": Route(redirect=target.replace("{port}", "1"))}) as server:
        with pytest.raises(FetchError, match="this server does not fetch from such addresses"):
            fetch(server.url("/start"), allow_private=False)
        assert server.requests == ["/start"]


def test_a_name_that_changes_its_answer_after_the_check_cannot_reach_the_private_address(site, monkeypatch):
    # The first answer passes the check; a second lookup would lead to the test server on 127.0.0.1.
    port = site.base.rsplit(":", 1)[1]
    asked = resolving(monkeypatch, {"rebind.example": ["127.0.0.2", "127.0.0.1"]})
    pretend_public(monkeypatch, "127.0.0.2")
    before = len(site.requests)
    with pytest.raises(FetchError, match="refused the connection"):
        fetch(f"http://rebind.example:{port}/news/harbour-wall", allow_private=False)
    assert asked == ["rebind.example"]
    assert len(site.requests) == before


# --- Reading what was fetched ----------------------------------------------------------------------

def test_the_charset_the_server_declares_is_used(site):
    text, _ = fetching.read_document(fetch(site.url("/latin")))
    assert "Le café où l'on débat du mur du port" in text


def test_plain_text_is_read_as_it_is(site):
    text, metadata = fetching.read_document(fetch(site.url("/notes.txt")))
    assert text.startswith("First note about the harbour.") and metadata == {"url": site.url("/notes.txt")}


def test_a_pdf_and_a_word_file_are_read_with_their_metadata():
    report = make_pdf([["The river authority proposes to share the water between the two valleys",
                        "in proportion to the farmland each of them irrigates."]],
                      title="Sharing the river", author="Ines Varga")
    memo = make_docx(["The committee met on Monday and agreed to publish the draft for comment."],
                     title="Committee memo", author="Tom Reyes")
    routes = {"/files/report.pdf": Route(report, content_type="application/pdf"),
              "/download?id=7": Route(memo, content_type=fetching.DOCX_TYPE)}
    with web_server(routes) as server:
        text, metadata = fetching.read_document(fetch(server.url("/files/report.pdf")))
        assert "share the water between the two valleys in proportion" in text
        assert (metadata["title"], metadata["author"], metadata["url"]) == (
            "Sharing the river", "Ines Varga", server.url("/files/report.pdf"))
        text, metadata = fetching.read_document(fetch(server.url("/download?id=7")))
        assert text.startswith("The committee met on Monday")
        assert (metadata["title"], metadata["author"]) == ("Committee memo", "Tom Reyes")


@pytest.mark.parametrize(("content_type", "body", "feed"), [
    ("application/rss+xml", b"", True),
    ("application/atom+xml", b"", True),
    ("application/xml", b"<?xml version='1.0'?>\n<!-- a comment -->\n<rss version='2.0'><channel/></rss>", True),
    ("text/xml", b"<feed xmlns='http://www.w3.org/2005/Atom'><title>News</title></feed>", True),
    ("application/xml", b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'></rdf:RDF>", True),
    ("application/xml", b"<?xml version='1.0'?><sitemap><url/></sitemap>", False),
    ("text/html", b"<html><body><rss></rss></body></html>", False),
])
def test_feeds_are_told_apart_from_pages(content_type, body, feed):
    assert fetching.is_feed(fetching.Fetched("https://news.example/feed", content_type, None, body)) is feed


def test_a_feed_is_not_read_as_a_document(site):
    with pytest.raises(fetching.BadInput, match="is a news feed, not a document"):
        fetching.read_document(fetch(site.url("/feed.xml")))


# --- Already in the corpus ----------------------------------------------------------------------------

@pytest.fixture
def known(memory_db):
    """A database holding the article, saved with its link."""
    text = "\n\n".join(ARTICLE_PARAGRAPHS)
    sources.import_document(memory_db, "harbour-wall.txt", text, {"url": "https://news.example/local/harbour-wall"})
    sources.import_document(memory_db, "other.txt", "A different story.\n\nAbout something else.", {})
    return memory_db


@pytest.mark.parametrize("spelling", [
    "https://news.example/local/harbour-wall",
    "https://news.example/local/harbour-wall/",
    "https://news.example/local/harbour-wall#comments",
    "HTTPS://News.Example/local/harbour-wall",
    "https://news.example:443/local/harbour-wall/#top",
])
def test_a_known_link_is_found_in_any_spelling(known, spelling):
    assert fetching.already_in_corpus(known, url=spelling) == "harbour-wall.txt"


@pytest.mark.parametrize("other", [
    "http://news.example/local/harbour-wall",
    "https://news.example/local/harbour-wall?page=2",
    "https://news.example/Local/Harbour-Wall",
    "https://news.example:8443/local/harbour-wall",
])
def test_a_different_link_is_not_taken_for_a_known_one(known, other):
    assert fetching.already_in_corpus(known, url=other) is None


def test_identical_text_is_found_and_other_text_is_not(known):
    text = "\n".join(ARTICLE_PARAGRAPHS)
    assert fetching.already_in_corpus(known, text=text) == "harbour-wall.txt"
    assert fetching.already_in_corpus(known, text=text + "\nOne more paragraph that no document has.") is None
    assert fetching.already_in_corpus(known, text="\n".join(ARTICLE_PARAGRAPHS[:3])) is None
    assert fetching.already_in_corpus(known, url="https://news.example/elsewhere", text="Nothing like it.") is None
