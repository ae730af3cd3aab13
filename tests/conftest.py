"""Shared fixtures: a corpus folder copied from the repo, an app on a temporary database."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from werkzeug.serving import make_server

from webapp import create_app
from webapp.cli import main
from webapp.cli.briefs import CHROMIUM_ARGS
from webapp.labels import accounts, mirror
from webapp.labels.build import build
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seed corpus: seeds/, labels/ and an instance/ folder."""
    root = tmp_path / "corpus"
    shutil.copytree(REPO / "seeds", root / "seeds")
    shutil.copytree(REPO / "labels", root / "labels")
    return root


PAKISTAN = "002_ce58d6deddc87eed.txt"


def passage_id(db, document: str, position: int) -> int:
    """The id of the passage at a position of a document."""
    return db.execute("SELECT id FROM passages WHERE document = ? AND position = ?", [document, position]).fetchone()[0]


def add_second_annotator(db, name: str = "bea") -> None:
    """As the founding team on the Pakistan report, except: passage 7 against, passage 8 no topic."""
    records = []
    for r in mirror.records(db, PAKISTAN):
        if r.position == 7:
            r = replace(r, stance="against")
        if r.position == 8:
            r = replace(r, topic=None, stance=None, holder=None)
        records.append(replace(r, annotator=name))
    mirror.store(db, records)


def copy_db(path: Path):
    """An in-memory copy of a built database."""
    source, copy = connect(path), connect(":memory:")
    source.conn.backup(copy.conn)
    source.close()
    return copy


def soup(response) -> BeautifulSoup:
    """Parse a response body."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf(client) -> str:
    """The session's CSRF token, read from a page as a browser would."""
    return soup(client.get("/")).find("meta", attrs={"name": "csrf-token"})["content"]


def shown_passage(page: BeautifulSoup) -> int:
    """The id of the passage the queue shows."""
    return int(page.select_one(".to-label")["data-passage"])


def corpus_config(root: Path) -> dict:
    """App settings pointing at a corpus folder."""
    return {
        "TESTING": True,
        "CORPUS": str(root),
        "SEEDS_DIR": str(root / "seeds"),
        "LABELS_DIR": str(root / "labels"),
        "DATABASE": str(root / "instance" / "counterpoint.db"),
    }


@pytest.fixture
def app(corpus: Path):
    """The app over the seed corpus, database built."""
    app = create_app(corpus_config(corpus))
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    db.close()
    return app


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def db(app):
    """A connection to the app's database, for reading back what a request wrote."""
    database = connect(app.config["DATABASE"])
    yield database
    database.close()


@pytest.fixture
def memory_db():
    """An empty in-memory database with the schema applied."""
    database = connect(":memory:")
    yield database
    database.close()


@pytest.fixture
def runner():
    """A click runner for the `counterpoint` command."""
    return CliRunner()


@pytest.fixture
def loaded(runner, corpus) -> Path:
    """The seed corpus with its database built by `counterpoint load`."""
    assert runner.invoke(main, ["--corpus", str(corpus), "load"]).exit_code == 0
    return corpus


def import_documents(runner, corpus: Path, *args: str):
    """Invoke `counterpoint --corpus CORPUS documents import ARGS...`."""
    return runner.invoke(main, ["--corpus", str(corpus), "documents", "import", *args])


def chromium_path() -> str | None:
    """Debian's Chromium, or the one named by CHROMIUM_PATH."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright; skips without Chromium except in CI."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") or os.environ.get("COUNTERPOINT_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required for browser tests here (apt-get install chromium)")
        pytest.skip("no Chromium on this machine")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()




@contextmanager
def served(app):
    """Serve `app` on a free 127.0.0.1 port in a background thread for the block; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live_server(app):
    """The app served on a free 127.0.0.1 port in a background thread; yields its base URL."""
    with served(app) as base:
        yield base


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page; fails the test if the page logs an error or opens a dialog."""
    context = browser.new_context(base_url=live_server)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture
def held(monkeypatch):
    """The related-index build, held until the test releases it (tests/helpers_related.py)."""
    from helpers_related import hold_builds

    held = hold_builds(monkeypatch)
    yield held
    held.release.set()


@pytest.fixture
def kassou(db):
    """An op-ed passage against deportation, which has related passages in other documents."""
    return passage_id(db, "000_26419f1f75a7eb13.txt", 9)


def shared_app(corpus: Path, *annotators: str, password: str):
    """The app over the seed corpus in shared mode, with these annotators' accounts."""
    app = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret"})
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    for name in annotators:
        accounts.add_annotator(db, name, password)
    db.close()
    return app
