"""Counterpoint: compare viewpoints across articles, topic by topic."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template

from . import db
from .splitting import KIND_LABELS


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app for the corpus folder in COUNTERPOINT_CORPUS (default: the working directory).

    Settings come from defaults, then `instance/config.py`, then COUNTERPOINT_* environment
    variables, then `test_config`.
    """
    corpus = Path(os.environ.get("COUNTERPOINT_CORPUS", os.getcwd())).resolve()
    app = Flask(__name__, instance_path=str(corpus / "instance"), instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY="local-mode-only",
        CORPUS=str(corpus),
        SEEDS_DIR=str(corpus / "seeds"),
        LABELS_DIR=str(corpus / "labels"),
        DATABASE=str(corpus / "instance" / "counterpoint.db"),
        ANNOTATOR=os.environ.get("USER") or "local",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("COUNTERPOINT")
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    from . import compare, documents, passages

    app.register_blueprint(compare.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(passages.bp)
    app.jinja_env.globals["kind_labels"] = KIND_LABELS

    @app.after_request
    def vary_on_htmx(response):
        # Fragments and full pages share URLs, so caches must key on the htmx header.
        response.vary.add("HX-Request")
        return response

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html", message=getattr(error, "description", "")), 404

    return app
