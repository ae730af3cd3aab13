"""Counterpoint: compare viewpoints across articles, topic by topic."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app, render_template
from werkzeug.exceptions import HTTPException

from . import (
    adding,
    analysis,
    api,
    auth,
    compare,
    db,
    documents,
    downloads,
    labelling,
    passages,
    relating,
    searching,
    security,
)
from .splitting import KIND_LABELS


def create_app(test_config: dict | None = None, *, corpus: Path | None = None) -> Flask:
    """Create the app for a corpus folder: `corpus`, else $COUNTERPOINT_CORPUS, else the working directory.

    Settings come from defaults, then `instance/config.py`, then COUNTERPOINT_* environment
    variables, then `test_config`.
    """
    corpus = Path(corpus or os.environ.get("COUNTERPOINT_CORPUS") or os.getcwd()).resolve()
    app = Flask(__name__, instance_path=str(corpus / "instance"), instance_relative_config=True)
    app.config.from_mapping(
        CORPUS=str(corpus),
        SEEDS_DIR=str(corpus / "seeds"),
        LABELS_DIR=str(corpus / "labels"),
        DATABASE=str(corpus / "instance" / "counterpoint.db"),
        ANNOTATOR=os.environ.get("USER") or "local",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WORKERS=2,
        SIMILARITY=True,
        SUGGESTIONS=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Shared mode: annotators sign in to write; reads stay open unless READS_REQUIRE_LOGIN.
        SHARED=False,
        READS_REQUIRE_LOGIN=False,
        LOGIN_ATTEMPTS=5,
        LOGIN_WINDOW_SECONDS=15 * 60,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("COUNTERPOINT")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        if app.config["SHARED"]:
            raise auth.SharedModeError(auth.NO_SECRET_KEY)
        app.config["SECRET_KEY"] = security.local_secret_key(app.instance_path)

    db.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    app.register_blueprint(compare.bp)
    app.register_blueprint(adding.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(passages.bp)
    app.register_blueprint(relating.bp)
    app.register_blueprint(labelling.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(searching.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(analysis.bp)
    app.jinja_env.globals["kind_labels"] = KIND_LABELS

    @app.after_request
    def vary_on_htmx(response):
        # Fragments and full pages share URLs, so caches must key on the htmx header.
        response.vary.add("HX-Request")
        return response

    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(413, render_too_large)

    return app


def render_error(error: HTTPException):
    """Show an HTTP error as a page of the app, with a message that says what to do."""
    message = error.description or ""
    if error.code == 404 and "requested URL was not found" in message:
        message = "There is nothing at this address."
    html = render_template("errors/error.html", status=error.code, title=error.name, message=message)
    return html, error.code or 500


def render_too_large(error: HTTPException):
    """Say that an upload or pasted text is over the size limit, naming the limit."""
    limit = adding.format_size(current_app.config.get("MAX_CONTENT_LENGTH"))
    error.description = (
        f"The upload is larger than the limit of {limit}. Upload a smaller file, or paste only the"
        " part of the text you need."
    )
    return render_error(error)
