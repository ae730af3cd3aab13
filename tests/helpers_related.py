"""A related-index build the test holds until it lets it go, and an app that builds in the background."""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import corpus_config
from flask import Flask

from webapp import create_app
from webapp.labels.build import build
from webapp.similarity import index
from webapp.store.db import connect

# Long enough never to be reached by a build that was released; only a broken test waits this long.
NEVER = 60


class HeldBuild:
    """Stands in for the index build: counts builds, holds each until released, and may fail."""

    def __init__(self, real):
        self.real = real
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls = 0
        self.failures = 0

    def __call__(self, db):
        self.calls += 1
        self.entered.set()
        # The test client runs requests on the main thread: a build there would stall the request.
        assert threading.current_thread() is not threading.main_thread(), "the index was built inside the request"
        self.release.wait(NEVER)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("out of memory, say")
        return self.real(db)


def hold_builds(monkeypatch) -> HeldBuild:
    """Make every related-index build wait for the test's word."""
    held = HeldBuild(index._build)
    monkeypatch.setattr(index, "_build", held)
    return held


def background_app(corpus: Path, **settings) -> Flask:
    """The app over the seed corpus, treating it as large enough to build its index in the background."""
    app = create_app({**corpus_config(corpus), "SIMILARITY_BACKGROUND_PASSAGES": 0, **settings})
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    db.close()
    return app


def finish(app: Flask, held: HeldBuild) -> None:
    """Let the held build run, and wait until the worker has swapped its index in."""
    held.release.set()
    assert index.wait_for_build(app.extensions["counterpoint_similarity"], app.config["DATABASE"], NEVER)
