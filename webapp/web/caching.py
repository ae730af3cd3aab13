"""HTTP revalidation: an ETag on every GET page and API answer, and 304 without rendering on a match.

A page is a function of the data (the `counters` table, which every write to documents,
passages, labels, links or topics bumps; see store.migrations m080), the request (URL and query,
the htmx headers that pick page or fragment), who asks (annotator, role, and the session, whose CSRF
token every page embeds), the app's settings and its code. The ETag hashes exactly those, so a
`before_request` can compare it with If-None-Match from one small query, before any view reads
the data it shows.

Every answer says `Cache-Control: no-cache, private`: browsers keep it but ask again each time, so
a page is never shown older than the data, and a shared proxy never hands one person's page (with
their CSRF token) to another. Answers that must not be replayed at all (a flash message, a new
session cookie) say `no-store` instead and carry no ETag.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, g, request, session

from webapp.store.db import counters
from webapp.web import access
from webapp.web.database import get_db

# The headers that choose page or fragment (rendering.wants_fragment); they name the cache variants.
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")
REVALIDATE = "no-cache, private"
NEVER_STORE = "no-store"
_CODE = "counterpoint.code_version"
_SETTINGS = "counterpoint.settings_digest"


def of_the_moment() -> None:
    """Mark this request's answer as one of the moment, not of the data (a search stopped at its
    deadline, say), so that it gets no ETag and is never confirmed as current later."""
    g.of_the_moment = True


def code_version(package: Path) -> str:
    """A hash of the names, sizes and modification times of the package's files (code, templates, static).

    A deploy or an edit changes it, so a page rendered by the old code is never confirmed as current.
    """
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(package)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _settings() -> str:
    # Settings such as SHARED, ANNOTATOR, SIMILARITY and the size limits change what pages show;
    # hashing them all (the secret key included, only ever as part of a hash) misses none.
    # Writing them out costs more than the rest of a cached page, so it is redone only when a
    # setting is replaced (the held values cannot be freed, so a new one never reuses an old id).
    items = tuple(current_app.config.items())
    held = current_app.extensions.get(_SETTINGS)
    if held is None or len(held[0]) != len(items) or any(
        key is not old_key or value is not old_value for (key, value), (old_key, old_value) in zip(items, held[0])
    ):
        text = repr(sorted((key, repr(value)) for key, value in items))
        held = current_app.extensions[_SETTINGS] = (items, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
    return held[1]


def _cacheable_request() -> bool:
    return request.method in ("GET", "HEAD") and request.endpoint not in (None, "static")


def page_parts() -> list[str]:
    """What a GET answer depends on besides the session: code, settings, data, request and annotator.

    Worked out once per request (the ETag and the rendered-pages cache both need it), before the view.
    """
    if "page_parts" not in g:
        g.page_parts = _page_parts()
    return g.page_parts


def request_counters() -> tuple[tuple[str, int], ...]:
    """The data version this request sees: the counters, read once for its ETag and its kept page alike."""
    if "counters" not in g:
        g.counters = counters(get_db())
    return g.counters


def _page_parts() -> list[str]:
    return [
        current_app.extensions[_CODE],
        _settings(),
        repr(request_counters()),
        request.full_path,
        *(request.headers.get(name, "") for name in HTMX_HEADERS),
        repr((access.current_annotator(), access.may_adjudicate())),
    ]


def request_etag() -> str:
    """The (weak) ETag value of the answer this GET request will get, from the data version and the request alone."""
    # The whole session, not just its CSRF token: the queue's order is kept there too.
    parts = [*page_parts(), repr(sorted(session.items()))]
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()


def revalidate():
    """Answer 304, before the view runs, when the client already holds this version of the answer."""
    # No ETag, and no 304, while a flashed message waits: the page may show it. A message flashed
    # by the view itself changes the session, and a changed session is never tagged either.
    if not _cacheable_request() or "_flashes" in session:
        return None
    g.etag = request_etag()
    if request.if_none_match.contains_weak(g.etag):
        response = current_app.response_class(status=304)
        response.set_etag(g.etag, weak=True)
        response.headers["Cache-Control"] = REVALIDATE
        return response
    return None


def label_answer(response):
    """Give a full GET answer its ETag and caching rules; a flash or a new cookie is never replayed."""
    if not _cacheable_request():
        return response
    response.vary.update(HTMX_HEADERS)
    if response.status_code == 304:
        return response
    etag = g.pop("etag", None)
    # Flask adds the session cookie after these hooks run, so ask whether it is going to.
    replayable = (
        etag is not None
        and response.status_code == 200
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
        and not current_app.session_interface.should_set_cookie(current_app, session)
        and not g.get("of_the_moment")
    )
    if replayable:
        response.set_etag(etag, weak=True)
        response.headers.setdefault("Cache-Control", REVALIDATE)
    else:
        response.headers.pop("ETag", None)
        response.headers["Cache-Control"] = NEVER_STORE
    return response


def init_app(app) -> None:
    """Check If-None-Match before each view and label every GET answer; register after the access checks."""
    app.extensions[_CODE] = code_version(Path(__file__).resolve().parent.parent)
    app.before_request(revalidate)
    app.after_request(label_answer)
