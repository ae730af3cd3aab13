"""Fetching a document from a link, guarded against server-side request forgery, and spotting copies.

A shared server that fetches any link it is given could be made to read its own admin pages or
a cloud provider's metadata service (169.254.169.254). So unless private addresses are allowed,
the host is resolved here, every address it resolves to is checked, and the connection goes to
the checked address itself, never to the name again: a DNS answer that changes between the check
and the connection (rebinding) cannot slip through. The Host header and the TLS certificate check
still use the name. Each redirect is checked the same way.

Only the standard library is used (http.client and ssl), so that nothing beneath us follows
redirects, reads proxies from the environment or resolves names on its own.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from webapp.corpus import splitting, textfiles
from webapp.corpus.textfiles import BadInput

HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_TYPES = ("text/plain", "text/markdown")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
DOCUMENT_TYPES = (*HTML_TYPES, PDF_TYPE, DOCX_TYPE, *TEXT_TYPES)
MAX_REDIRECTS = 5
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024
_FEED_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(rss|feed|RDF)[\s>/]")
_XML_PROLOGUE = re.compile(rb"\A(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.DOTALL)


def _user_agent() -> str:
    """Counterpoint/<version>, with the project's home page once pyproject.toml names one."""
    try:
        meta = metadata.metadata("counterpoint")
    except metadata.PackageNotFoundError:
        return "Counterpoint/dev (self-hosted viewpoint comparison)"
    home = next((u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or [] if "," in u), "")
    return f"Counterpoint/{meta['Version']} ({f'+{home}; ' if home else ''}self-hosted viewpoint comparison)"


USER_AGENT = _user_agent()


class FetchError(BadInput):
    """A link that could not be fetched as a document; the message says why."""


@dataclass(frozen=True)
class Fetched:
    """What a link answered: the final URL after redirects, its content type and charset, the body."""

    url: str
    content_type: str
    charset: str | None
    data: bytes


def fetch(
    url: str,
    *,
    allow_private: bool,
    accept: tuple[str, ...] = DOCUMENT_TYPES + FEED_TYPES,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_SECONDS,
) -> Fetched:
    """GET `url`, following at most MAX_REDIRECTS redirects, within `timeout` seconds in all.

    Raises FetchError for a bad link, an address refused (loopback, private, link-local... unless
    `allow_private`), a host that cannot be reached, an error status, a body over `max_bytes` and
    a content type not in `accept`.
    """
    deadline = time.monotonic() + timeout
    seen = [url.strip()]
    while True:
        reply_url, status, headers, body = _get(seen[-1], allow_private, accept, max_bytes, timeout, deadline)
        if status not in _REDIRECTS:
            break
        target = _redirect_target(reply_url, headers)
        if target in seen:
            raise FetchError(f"{_shown(seen[0])} redirects in a loop (back to {_shown(target)}), so it cannot be fetched.")
        if len(seen) > MAX_REDIRECTS:
            raise FetchError(f"{_shown(seen[0])} redirects more than {MAX_REDIRECTS} times; open it in a browser"
                             " and add the address it ends at.")
        seen.append(target)
    content_type, charset = _content_type(headers.get("Content-Type", ""))
    return Fetched(reply_url, content_type, charset, body)


def _get(url, allow_private, accept, max_bytes, timeout, deadline):
    """One request: (the URL asked, status, headers, body; the body is empty for redirects)."""
    parts, host, port = _check_url(url)
    addresses = _resolve(host, port, url, allow_private, deadline)
    if parts.scheme.lower() == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    watchdogs: list[threading.Timer] = []
    connection._create_connection = lambda *_args, **_kw: _connect(addresses, deadline, watchdogs)
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~") + (
        "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=-._~") if parts.query else "")
    reply = None
    try:
        connection.request("GET", target, headers={
            "User-Agent": USER_AGENT, "Accept": ", ".join(accept) + ", */*;q=0.1", "Accept-Encoding": "gzip"})
        _settle(connection, deadline)
        reply = connection.getresponse()
        if reply.status in _REDIRECTS and reply.getheader("Location"):
            return url, reply.status, reply.headers, b""
        if reply.status not in (200, 203):
            raise FetchError(f"{_shown(url)} answered {reply.status} {reply.reason or ''}".rstrip()
                             + (": there is no page at this address." if reply.status in (404, 410) else "."))
        content_type, _ = _content_type(reply.getheader("Content-Type", ""))
        if content_type not in accept:
            raise FetchError(f"{_shown(url)} is {content_type or 'of no declared type'}, which cannot be added here"
                             f" (only {_kinds(accept)}).")
        return url, reply.status, reply.headers, _read_body(connection, reply, url, max_bytes, deadline)
    except (OSError, http.client.HTTPException) as exc:
        raise _failure(exc, url, host, port, timeout, deadline) from None
    finally:
        for watchdog in watchdogs:
            watchdog.cancel()
        # A reply that ends with the connection holds the socket itself, so it is closed too.
        if reply is not None:
            reply.close()
        connection.close()


def _failure(exc: Exception, url: str, host: str, port: int, timeout: float, deadline: float) -> FetchError:
    """The FetchError that says why a request failed."""
    if isinstance(exc, TimeoutError) or time.monotonic() >= deadline:
        return FetchError(f"{_shown(url)} did not answer within {timeout:g} seconds; the server is too slow"
                         " or not responding. Try again later.")
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"A secure connection to {host} failed ({exc.reason or exc}).")
    if isinstance(exc, ConnectionRefusedError):
        return FetchError(f"{host} refused the connection on port {port}; nothing serves web pages there.")
    return FetchError(f"{_shown(url)} could not be read: the connection failed ({exc or type(exc).__name__}).")


def _check_url(url: str):
    """(parts, ASCII host, port) of `url` if it is an http(s) link with a host, else FetchError."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise FetchError(f"{_shown(url)} is not a valid web address.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"{_shown(url)} is not a web link: only http:// and https:// links can be fetched.")
    if not parts.hostname:
        raise FetchError(f"{_shown(url)} names no host: a link looks like https://example.org/article.")
    if parts.username is not None or parts.password is not None:
        raise FetchError(f"{_shown(url)} carries a user name or password; remove it from the link.")
    return parts, host, port


def _resolve(host: str, port: int, url: str, allow_private: bool, deadline: float) -> list[tuple]:
    """Every address `host` resolves to, each checked, as (family, type, proto, sockaddr)."""
    answer: dict = {}

    def lookup() -> None:
        try:
            answer["found"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            answer["error"] = exc

    # getaddrinfo has no timeout of its own; a stalled name server must not hold a worker thread.
    resolver = threading.Thread(target=lookup, name="fetch-lookup", daemon=True)
    resolver.start()
    resolver.join(max(0.0, deadline - time.monotonic()))
    if resolver.is_alive():
        raise FetchError(f"Looking up the host {host} took too long; try again later.")
    if "found" not in answer:
        raise FetchError(f"The host {host} could not be found: check the link's spelling"
                         " (or this server has no access to the internet).")
    found = answer["found"]
    addresses = [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
    if not allow_private:
        for *_, sockaddr in addresses:
            if reason := address_refusal(ipaddress.ip_address(sockaddr[0].split("%")[0])):
                raise FetchError(f"{_shown(url)} leads to {sockaddr[0]}, {reason}; this server does not fetch"
                                 " from such addresses (the FETCH_PRIVATE_ADDRESSES setting allows it).")
    return addresses


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a server in shared use must not connect to `address`, or None for a public address."""
    embedded = getattr(address, "ipv4_mapped", None) or getattr(address, "sixtofour", None)
    if embedded is not None:
        return address_refusal(embedded)
    for test, reason in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address (this machine)"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private network address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, test):
            return reason
    return None if address.is_global else "an address not on the public internet"


def _connect(addresses: list[tuple], deadline: float, watchdogs: list[threading.Timer]) -> socket.socket:
    """A socket connected to the first of the checked `addresses` that answers.

    A watchdog shuts the socket at the deadline: socket timeouts alone would let a server that
    trickles a byte at a time keep the request open for ever.
    """
    error: OSError = ConnectionRefusedError()
    for family, kind, proto, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(sockaddr)
            watchdogs.append(threading.Timer(max(0.0, deadline - time.monotonic()), _shut, [sock]))
            watchdogs[-1].start()
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: the request ended in time


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _settle(connection: http.client.HTTPConnection, deadline: float) -> None:
    """Let the next socket operation wait only until the overall deadline."""
    if connection.sock is not None:
        connection.sock.settimeout(_remaining(deadline))


def _read_body(connection, reply, url: str, max_bytes: int, deadline: float) -> bytes:
    """The body, gunzipped, read in chunks until the deadline; past `max_bytes` reading stops."""
    too_big = FetchError(f"{_shown(url)} is larger than the limit of {max_bytes:,} bytes, so it was not added.")
    declared = reply.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    encoding = reply.getheader("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise FetchError(f"{_shown(url)} was sent in the {encoding} encoding, which cannot be read here.")
    gunzip = zlib.decompressobj(wbits=31) if encoding != "identity" else None
    body, size = [], 0
    while True:
        _settle(connection, deadline)
        chunk = reply.read1(_CHUNK)
        if not chunk:
            # An end cut short by the watchdog is a timeout, not the whole body.
            _remaining(deadline)
            break
        if gunzip is not None:
            try:
                # Decompress no more than the limit allows, so a small bomb cannot fill memory.
                chunk = gunzip.decompress(chunk, max_bytes + 1 - size)
            except zlib.error:
                raise FetchError(f"{_shown(url)} sent a damaged compressed body.") from None
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        body.append(chunk)
    return b"".join(body)


def _kinds(accept: tuple[str, ...]) -> str:
    """The accepted content types in words, e.g. "web pages, PDF or RSS and Atom feeds"."""
    words = {**dict.fromkeys(HTML_TYPES, "web pages"), PDF_TYPE: "PDF", DOCX_TYPE: "Word (.docx)",
             **dict.fromkeys(TEXT_TYPES, "plain text"), **dict.fromkeys(FEED_TYPES, "RSS and Atom feeds")}
    named = list(dict.fromkeys(words.get(t, t) for t in accept))
    return ", ".join(named[:-1]) + f" or {named[-1]}" if len(named) > 1 else named[0]


def _redirect_target(url: str, headers) -> str:
    """The absolute address a redirect points to, without its fragment."""
    return urljoin(url, headers.get("Location", "").strip()).split("#")[0]


def _content_type(header: str) -> tuple[str, str | None]:
    """(type, charset) of a Content-Type header: the type lower-case, a charset only if it is a plain name."""
    kind, *params = header.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and re.fullmatch(r"[A-Za-z0-9_.:-]+", value := value.strip().strip('"')):
            charset = value.lower()
    return kind.strip().lower(), charset


def _shown(url: str) -> str:
    """A link as messages show it: cut short if long."""
    return url if len(url) <= 120 else url[:117] + "…"


def read_document(fetched: Fetched) -> tuple[str, dict[str, str]]:
    """The text and metadata (title, author, outlet, date, url) of a fetched page, PDF, Word or text file."""
    if fetched.content_type in HTML_TYPES:
        data = fetched.data
        if fetched.charset:
            # The HTTP header's charset wins over the page's own (as in browsers); decode() reads it from here.
            data = f'<meta charset="{fetched.charset}">'.encode("ascii") + data
        text, found = textfiles.read_source(_file_name(fetched.url, ".html"), data)
    elif fetched.content_type == PDF_TYPE:
        text, found = textfiles.read_source(_file_name(fetched.url, ".pdf"), fetched.data)
    elif fetched.content_type == DOCX_TYPE:
        text, found = textfiles.read_source(_file_name(fetched.url, ".docx"), fetched.data)
    elif fetched.content_type in TEXT_TYPES:
        text, found = textfiles.read_source(_file_name(fetched.url, ".txt"), fetched.data)
    elif is_feed(fetched):
        raise BadInput(f"{_shown(fetched.url)} is a news feed, not a document: add its entries from the feed page.")
    else:
        raise BadInput(f"{_shown(fetched.url)} is {fetched.content_type}, which cannot be read as a document.")
    return text, {**{f: v for f, v in found.items() if v}, "url": fetched.url}


def _file_name(url: str, suffix: str) -> str:
    """The file name a link's last path segment gives, ending in `suffix`, for messages."""
    last = urlsplit(url).path.rstrip("/").rpartition("/")[2] or "page"
    return last if last.lower().endswith(suffix) else f"{last}{suffix}"


def is_feed(fetched: Fetched) -> bool:
    """True for an RSS or Atom feed: by its content type, or XML whose root element is rss, feed or RDF."""
    if fetched.content_type in FEED_TYPES[:3]:
        return True
    if fetched.content_type not in FEED_TYPES and not fetched.content_type.endswith("+xml"):
        return False
    # A look at the root element only: parsing untrusted XML here would invite entity expansion.
    start = _XML_PROLOGUE.match(fetched.data[:4096]).end()
    return bool(_FEED_ROOT.match(fetched.data, start, start + 200))


def document_name_for(fetched: Fetched, title: str) -> str:
    """A document name for a fetched page: from its title, else from the link's last path segment."""
    stem = _file_name(fetched.url, "").rsplit(".", 1)[0] if not title else title
    return textfiles.document_name(stem)


def normalise_url(url: str) -> str:
    """A link in the form two spellings of the same address share: no fragment, no trailing slash,
    lower-case scheme and host, no default port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, ""))


def already_in_corpus(db, url: str | None = None, text: str | None = None) -> str | None:
    """The name of a document with this URL (normalised) or with exactly this text's passages, else None."""
    if url and (wanted := normalise_url(url)):
        for name, known in db.execute("SELECT id, url FROM documents WHERE url IS NOT NULL AND url != '' ORDER BY id"):
            if normalise_url(known) == wanted:
                return name
    if text and text.strip():
        hashes = [p.text_hash for p in splitting.split(splitting.normalise(text))]
        candidates = db.execute(
            """SELECT document FROM passages WHERE position = 0 AND text_hash = ?
            AND document IN (SELECT document FROM passages GROUP BY document HAVING count(*) = ?)
            ORDER BY document""",
            [hashes[0], len(hashes)],
        ).fetchall()
        for (name,) in candidates:
            stored = [h for (h,) in db.execute(
                "SELECT text_hash FROM passages WHERE document = ? ORDER BY position", [name])]
            if stored == hashes:
                return name
    return None
