"""Counterpoint: compare viewpoints across articles, topic by topic."""

from __future__ import annotations


def create_app(test_config: dict | None = None, *, corpus=None):
    """Create the Flask app for a corpus folder; see `webapp.web.create_app`."""
    # Imported on call, so that the domain packages and the CLI's data commands load without Flask.
    from webapp.web import create_app as create

    return create(test_config, corpus=corpus)
