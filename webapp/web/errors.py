"""Error pages: every HTTP error shown as a page of the app, with a message that says what to do.

An htmx request gets the message alone, as plain text: htmx 2 swaps nothing on a 4xx or 5xx
answer, and `static/app.js` shows the text in the page's alert region instead.
"""

from __future__ import annotations

import math

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.web.rendering import size_limit

API = "/api"
SERVER_ERROR = (
    "Something went wrong on the server, so this request was not completed. Try again; if it fails"
    " again, whoever runs this Counterpoint will find the cause in the server's log."
)


def render_error(error: HTTPException):
    """Show an HTTP error as a page of the app (htmx: plain text; the API: JSON), with a message that says what to do."""
    message = error.description or ""
    if error.code == 404 and "requested URL was not found" in message:
        message = "There is nothing at this address."
    if message == InternalServerError.description:
        message = SERVER_ERROR
    status = error.code or 500
    if request.path == API or request.path.startswith(API + "/"):
        # Also for addresses no API route matched (e.g. an id too large), so scripts always get JSON.
        return jsonify(error=message or error.name), status
    if request.headers.get("HX-Request") == "true":
        return message or error.name, status, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("errors/error.html", status=status, title=error.name, message=message), status


def render_too_large(error: HTTPException):
    """Say that an upload or pasted text is over the size limit, naming its size and the limit."""
    size = request.content_length  # None when the body came chunked, without a declared length
    it_is = f": it is {format_upload(size)}" if size else ""
    error.description = (
        f"The upload is larger than the limit of {size_limit()}{it_is}. Upload a smaller file, or paste"
        " only the part of the text you need."
    )
    return render_error(error)


def format_upload(size: int) -> str:
    """A refused body's size in MB or KB, rounded up so that it never reads as the limit itself."""
    if size >= 1024 * 1024:
        return f"{math.ceil(size * 10 / 1024 / 1024) / 10:g} MB"
    return f"{math.ceil(size / 1024):,} KB"


def init_app(app) -> None:
    """Render HTTP errors, and over-large uploads, as the app's error page."""
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(413, render_too_large)
