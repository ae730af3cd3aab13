"""Error pages: every HTTP error shown as a page of the app, with a message that says what to do."""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException

from webapp.web.rendering import size_limit


def render_error(error: HTTPException):
    """Show an HTTP error as a page of the app, with a message that says what to do."""
    message = error.description or ""
    if error.code == 404 and "requested URL was not found" in message:
        message = "There is nothing at this address."
    html = render_template("errors/error.html", status=error.code, title=error.name, message=message)
    return html, error.code or 500


def render_too_large(error: HTTPException):
    """Say that an upload or pasted text is over the size limit, naming the limit."""
    limit = size_limit()
    error.description = (
        f"The upload is larger than the limit of {limit}. Upload a smaller file, or paste only the"
        " part of the text you need."
    )
    return render_error(error)


def init_app(app) -> None:
    """Render HTTP errors, and over-large uploads, as the app's error page."""
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(413, render_too_large)
