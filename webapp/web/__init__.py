"""The screens: every blueprint, htmx fragment and piece of Flask glue, and the app factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from webapp.corpus.splitting import KIND_LABELS
from webapp.labels import validation
from webapp.web import (
    access,
    adding,
    analysis,
    api,
    arguments,
    briefs,
    caching,
    database,
    documents,
    downloads,
    errors,
    greeting,
    labelling,
    login,
    pages,
    passages,
    related,
    rendering,
    search,
    security,
    taxonomy,
    topics,
)


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
        SIMILARITY_BACKGROUND_PASSAGES=database.DEFAULT_BACKGROUND_PASSAGES,
        SUGGESTIONS=True,
        PAGE_CACHE_BYTES=database.DEFAULT_PAGE_CACHE_BYTES,
        RENDERED_PAGES_BYTES=pages.DEFAULT_RENDERED_PAGES_BYTES,
        # The overview counts each side's key arguments up to this many labelled passages; beyond,
        # grouping every topic after each save would hold it up (topic pages still group theirs).
        OVERVIEW_ARGUMENTS_LIMIT=5_000,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Shared mode: annotators sign in to write; reads stay open unless READS_REQUIRE_LOGIN.
        SHARED=False,
        READS_REQUIRE_LOGIN=False,
        # Host names served besides localhost, 127.0.0.1 and [::1] in local mode; in shared mode
        # the only ones, when set (see security.check_host).
        TRUSTED_HOSTS=None,
        LOGIN_ATTEMPTS=5,
        LOGIN_WINDOW_SECONDS=15 * 60,
        # A search stops after this long, so one costly query cannot hold a worker thread.
        SEARCH_DEADLINE_SECONDS=2.0,
        # Adding by link: may the server fetch from loopback, private and link-local addresses?
        # None means yes in local mode and no in shared mode, where a link could reach the
        # server's own network (SSRF). The size limit is above MAX_CONTENT_LENGTH because a page's
        # scripts and markup, or a report's PDF, often weigh far more than its text.
        FETCH_PRIVATE_ADDRESSES=None,
        FETCH_TIMEOUT_SECONDS=10.0,
        FETCH_MAX_BYTES=10 * 1024 * 1024,
        CHROMIUM_PATH="/usr/bin/chromium",  # renders `counterpoint brief --format pdf`
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("COUNTERPOINT")
    if test_config:
        app.config.update(test_config)
    if validation.is_adjudicator(str(app.config["ANNOTATOR"])):
        raise security.SettingsError(
            f"ANNOTATOR “{app.config['ANNOTATOR']}” is reserved for adjudicated labels; set COUNTERPOINT_ANNOTATOR"
            " to your own name."
        )
    if not app.config.get("SECRET_KEY"):
        if app.config["SHARED"]:
            raise security.SettingsError(access.NO_SECRET_KEY)
        app.config["SECRET_KEY"] = security.local_secret_key(app.instance_path)

    database.init_app(app)
    security.init_app(app)
    access.init_app(app)
    caching.init_app(app)
    pages.init_app(app)
    app.register_blueprint(topics.bp)
    app.register_blueprint(adding.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(passages.bp)
    app.register_blueprint(related.bp)
    app.register_blueprint(labelling.bp)
    app.register_blueprint(login.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(analysis.bp)
    app.register_blueprint(taxonomy.bp)
    app.register_blueprint(briefs.bp)
    app.register_blueprint(arguments.bp)
    app.jinja_env.globals["kind_labels"] = KIND_LABELS
    rendering.init_app(app)
    greeting.init_app(app)
    # Form fields show the limits the label rules enforce, so the browser stops a typist early.
    app.jinja_env.globals["label_limits"] = {"holder": validation.MAX_HOLDER, "note": validation.MAX_NOTE}

    @app.after_request
    def vary_on_htmx(response):
        # Fragments and full pages share URLs, so caches must key on the htmx header.
        response.vary.add("HX-Request")
        return response

    errors.init_app(app)

    return app
