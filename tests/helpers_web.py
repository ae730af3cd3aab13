"""A small web server on 127.0.0.1 for tests that fetch links: a dict of paths to canned responses.

    with web_server({"/article": Route(body=b"<html>...</html>"),
                     "/old": Route(redirect="/article"),
                     "/slow": Route(delay=2.0)}) as site:
        fetching.fetch(site.url("/article"), allow_private=True)
        assert site.requests == ["/article"]

A path not in the dict answers 404. The server runs in a background thread and is shut down,
with its connections closed, when the block ends, even while a slow response is still trickling.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Route:
    """One canned response.

    `redirect` answers `status` (302 unless set otherwise) with that Location; `delay` waits
    before answering; `trickle` sends the body one byte every `trickle` seconds. Unless `headers`
    sets them, Content-Type is `content_type` and Content-Length the body's length; a header set
    to None is not sent (without Content-Length the body ends when the connection closes).
    """

    body: bytes = b""
    status: int | None = None
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str | None] = field(default_factory=dict)
    redirect: str | None = None
    delay: float = 0.0
    trickle: float = 0.0


class Site:
    """The running server: its base URL, and the paths requested so far with their headers."""

    def __init__(self, server: ThreadingHTTPServer, stopping: threading.Event):
        self.base = f"http://{HOST}:{server.server_port}"
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.stopping = stopping

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self.base + path


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client hanging up mid-answer is what the timeout and size-limit tests do on purpose


def _handler(routes: dict[str, Route], site: Site):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            site.requests.append(self.path)
            site.headers.append(dict(self.headers))
            route = routes.get(self.path) or Route(b"<p>Not found</p>", status=404)
            if route.delay and site.stopping.wait(route.delay):
                return
            self.send_response(route.status or (302 if route.redirect else 200))
            headers = {"Content-Type": route.content_type, "Content-Length": str(len(route.body))}
            if route.redirect:
                headers["Location"] = route.redirect
            for name, value in {**headers, **route.headers}.items():
                if value is not None:
                    self.send_header(name, value)
            self.end_headers()
            if not route.trickle:
                self.wfile.write(route.body)
                return
            for byte in route.body:
                if site.stopping.wait(route.trickle):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def log_message(self, *args):
            pass  # the tests assert on site.requests instead of reading a log

    return Handler


@contextmanager
def web_server(routes: dict[str, Route]) -> Iterator[Site]:
    """Serve `routes` on a free 127.0.0.1 port for the block; yields the Site."""
    stopping = threading.Event()
    server = _Server((HOST, 0), BaseHTTPRequestHandler)
    site = Site(server, stopping)
    server.RequestHandlerClass = _handler(routes, site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        # Slow handlers watch `stopping`, so shutting down never waits for a trickle to finish.
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def article_html(title: str = "Harbour wall plan divides the town council",
                 author: str = "Mara Lindqvist", outlet: str = "The Estuary Courier",
                 published: str = "2025-04-17", paragraphs: list[str] | None = None) -> bytes:
    """A news article page written for these tests, with title, author, site name and date in <meta> tags."""
    paragraphs = paragraphs or ARTICLE_PARAGRAPHS
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} | {outlet}</title>"
        f"<meta property='og:title' content='{title}'>"
        f"<meta name='author' content='{author}'>"
        f"<meta property='og:site_name' content='{outlet}'>"
        f"<meta property='article:published_time' content='{published}T08:30:00+00:00'>"
        "</head><body><nav><a href='/'>Home</a> <a href='/local'>Local</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>Subscribe to our newsletter</footer></body></html>"
    ).encode("utf-8")


ARTICLE_PARAGRAPHS = [
    "The town council split six to five on Tuesday over a plan to raise the harbour wall by a metre,"
    " after a winter in which the quay flooded four times and two fishing sheds were lost.",
    "Supporters of the plan said the wall was the cheapest way to protect the lower streets, and that"
    " every further year of delay would add to the bill the town will eventually have to pay.",
    "Opponents argued that a higher wall would cut the old harbour off from the sea it was built for,"
    " and urged the council to study a tidal barrier further out in the estuary before deciding.",
    "A public meeting is planned for next month, when engineers will present both options and residents"
    " of the lower streets will be invited to say which risk they would rather live with.",
]
