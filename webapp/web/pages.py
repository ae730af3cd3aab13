"""Rendered pages kept per process: a repeat GET of a page at the same data version is answered
from its HTML, without running the view or its templates.

A topic page takes tens of milliseconds to render, almost all of it Jinja, and a visitor with no
session (a first visit, a link opened elsewhere, a load test) makes every copy unique through the
CSRF token it embeds. So a page kept here holds a placeholder where the token goes, and each answer
puts the requester's own token (created in their session as usual) in its place.

Only the endpoints in KEPT_ENDPOINTS are kept: pages that read nothing from the session but the
token and the signed-in annotator, who is part of the key. The labelling queue, for one, keeps its
order in the session, and a page that shows a flashed message must show it once only, so no page is
kept or served while a message waits. The key is what the ETag hashes (caching.page_parts) except
the session; the data version leads it, so a save makes every older page unreachable and the next
page kept drops them.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, request, session
from flask.globals import request_ctx

from webapp.web import caching, security
from webapp.web.database import PageCache

# Pages whose HTML depends on the data, the request and the annotator, never on the session.
KEPT_ENDPOINTS = frozenset({"topics.home", "topics.topic"})
# A topic page of 75 cards is about 150 KB, so this keeps a hundred or so pages per worker.
DEFAULT_RENDERED_PAGES_BYTES = 16 * 1024 * 1024
CACHE = "counterpoint.rendered_pages"
PLACEHOLDER = "counterpoint.csrf_placeholder"


def page_key() -> tuple | None:
    """The key this GET's page is kept under, or None if the page must not be kept or served from the cache."""
    if request.method != "GET" or request.endpoint not in KEPT_ENDPOINTS or "_flashes" in session:
        return None
    # The counters lead the key: they only grow, so PageCache can tell older pages and drop them.
    return (current_app.config["DATABASE"], caching.request_counters(), request.root_path, *caching.page_parts())


def page_token() -> str:
    """The CSRF token for a template: the placeholder while rendering a page to keep, else the session's token."""
    token = security.csrf_token()
    return current_app.extensions[PLACEHOLDER] if g.get("page_key") else token


def serve_kept():
    """Answer with the kept copy of this page, carrying the requester's token, if there is one."""
    key = page_key()
    if key is None:
        return None
    g.page_key = key
    found, body = current_app.extensions[CACHE].get(key)
    if not found:
        return None
    g.page_served = True
    placeholder = current_app.extensions[PLACEHOLDER].encode()
    return current_app.response_class(body.replace(placeholder, security.csrf_token().encode()), mimetype="text/html")


def keep_page(response):
    """Keep a freshly rendered page that may be replayed, then give it the requester's token."""
    key = g.pop("page_key", None)
    if key is None or g.pop("page_served", False) or response.is_streamed:
        return response
    placeholder = current_app.extensions[PLACEHOLDER].encode()
    token = security.csrf_token().encode()
    body = response.get_data()
    replayable = (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not g.get("of_the_moment")
        # A message shown on this page (one the view itself flashed) must be shown once only.
        and not request_ctx.flashes
        # A token that reached the page some other way than the template global would be handed
        # to every later visitor: such a page is never kept.
        and token not in body
    )
    if replayable:
        cap = int(current_app.config.get("RENDERED_PAGES_BYTES", DEFAULT_RENDERED_PAGES_BYTES))
        current_app.extensions[CACHE].put(key, body, len(body), cap)
    # Error pages rendered during this request carry the placeholder too.
    response.set_data(body.replace(placeholder, token))
    return response


def init_app(app) -> None:
    """Serve kept pages before their views run; register after caching, whose 304 comes first."""
    app.extensions[CACHE] = PageCache()
    # Random, so that no passage's text can contain it by accident or design.
    app.extensions[PLACEHOLDER] = f"csrf-{secrets.token_hex(16)}"
    app.jinja_env.globals["csrf_token"] = page_token
    app.before_request(serve_kept)
    app.after_request(keep_page)
