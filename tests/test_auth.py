"""Shared mode: annotator accounts, sign-in, refused anonymous writes, rate limits, secret key."""

from __future__ import annotations

import time

import pytest
from bs4 import BeautifulSoup
from conftest import corpus_config

from webapp import create_app
from webapp.cli import main
from webapp.labels import accounts
from webapp.labels.build import build
from webapp.store.db import connect
from webapp.web import serving
from webapp.web.security import SettingsError

PASSWORD = "correct horse battery"


def shared_app(corpus, **config):
    """A shared-mode app over the corpus, database built, with annotator alice."""
    app = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret", **config})
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    accounts.add_annotator(db, "alice", PASSWORD)
    db.close()
    return app


@pytest.fixture
def shared(corpus):
    """A shared-mode app with open reads."""
    return shared_app(corpus)


@pytest.fixture
def anon(shared):
    """A client nobody has signed in on."""
    return shared.test_client()


def csrf(client, url: str = "/") -> str:
    """The CSRF token from a page's meta tag."""
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    return page.find("meta", attrs={"name": "csrf-token"})["content"]


def login(client, name: str = "alice", password: str = PASSWORD, **extra):
    """Post the sign-in form."""
    return client.post("/login", data={"csrf_token": csrf(client, "/login"), "name": name, "password": password,
                                       **extra})


def some_passage(app) -> int:
    """A content passage id."""
    db = connect(app.config["DATABASE"])
    try:
        return db.execute("SELECT id FROM passages WHERE kind = 'content' LIMIT 1").fetchone()[0]
    finally:
        db.close()


def changes(app) -> int:
    """How many label changes are recorded."""
    db = connect(app.config["DATABASE"])
    try:
        return db["label_changes"].count
    finally:
        db.close()


def test_passwords_are_hashed(shared):
    db = connect(shared.config["DATABASE"])
    stored = db.execute("SELECT password_hash FROM annotators WHERE name = 'alice'").fetchone()[0]
    db.close()
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize(("name", "password", "message"), [
    ("alice", "long enough pw", "already"), ("bad name", "long enough pw", "no spaces"), ("bob", "short", "at least"),
    ("adjudicator", "long enough pw", "reserved"), ("Adjudicator", "long enough pw", "reserved"),
    ("ADJUDICATOR", "long enough pw", "reserved"), ("ａｄｊｕｄｉｃａｔｏｒ", "long enough pw", "reserved"),
])
def test_add_annotator_refuses_bad_accounts(shared, name, password, message):
    db = connect(shared.config["DATABASE"])
    with pytest.raises(accounts.AuthError, match=message):
        accounts.add_annotator(db, name, password)
    db.close()


def test_reads_are_open_but_writes_need_sign_in(shared, anon):
    assert anon.get("/").status_code == 200
    assert anon.get("/label").headers["Location"].startswith("/login?next=")
    token, pid = csrf(anon), some_passage(shared)
    response = anon.post(f"/label/{pid}", data={"csrf_token": token, "stance-security": "favour"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    htmx = anon.post(f"/label/{pid}", data={"csrf_token": token, "stance-security": "favour"},
                     headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    assert anon.post("/label/undo", data={"csrf_token": token}).status_code == 303
    assert changes(shared) == 0


def test_sign_in_then_labels_carry_the_annotator(shared, anon):
    response = login(anon, next="/label")
    assert response.status_code == 303 and response.headers["Location"] == "/label"
    page = BeautifulSoup(anon.get("/label").get_data(as_text=True), "html.parser")
    assert "Signed in as alice" in page.select_one("header .who").get_text(" ", strip=True)
    pid = int(page.select_one(".to-label")["data-passage"])
    token = page.find("meta", attrs={"name": "csrf-token"})["content"]
    assert anon.post(f"/label/{pid}", data={"csrf_token": token, "stance-security": "favour"}).status_code == 303
    db = connect(shared.config["DATABASE"])
    assert db.execute("SELECT annotator FROM label_changes").fetchall() == [("alice",)]
    db.close()


def test_csrf_missing_is_refused_even_when_signed_in(shared, anon):
    assert anon.post("/login", data={"name": "alice", "password": PASSWORD}).status_code == 400
    login(anon)
    response = anon.post(f"/label/{some_passage(shared)}", data={"stance-security": "favour"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert changes(shared) == 0


def test_wrong_password_and_unknown_name_fail_alike(anon):
    wrong = login(anon, password="nope nope nope")
    unknown = login(anon, name="mallory")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True)


def test_sign_in_never_redirects_off_site(anon):
    assert login(anon, next="//evil.example/x").headers["Location"] == "/label"
    anon.post("/logout", data={"csrf_token": csrf(anon)})
    assert login(anon, next="https://evil.example/").headers["Location"] == "/label"


def test_failed_sign_ins_are_rate_limited_in_the_database(shared, corpus, anon):
    for _ in range(shared.config["LOGIN_ATTEMPTS"]):
        assert login(anon, password="wrong password").status_code == 401
    blocked = login(anon)
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.get_data(as_text=True)
    # Another worker process shares the database, so it refuses too.
    other = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret"}).test_client()
    assert login(other).status_code == 429
    # The limit is per name and address: another address may still sign in.
    elsewhere = other.post("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"},
                           data={"csrf_token": csrf(other, "/login"), "name": "alice", "password": PASSWORD})
    assert elsewhere.status_code == 303


def test_old_failures_expire(shared, anon):
    db = connect(shared.config["DATABASE"])
    old = time.time() - shared.config["LOGIN_WINDOW_SECONDS"] - 1
    db["login_failures"].insert_all({"username": "alice", "ip": "127.0.0.1", "at": old} for _ in range(10))
    db.close()
    assert login(anon).status_code == 303


def test_reads_can_require_sign_in(corpus):
    client = shared_app(corpus, READS_REQUIRE_LOGIN=True).test_client()
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/login").status_code == 200
    with client.get("/static/app.css") as css:
        assert css.status_code == 200
    login(client)
    assert client.get("/").status_code == 200


def test_removed_annotator_is_signed_out(shared, anon):
    login(anon)
    db = connect(shared.config["DATABASE"])
    accounts.remove_annotator(db, "alice")
    db.close()
    assert anon.get("/label").status_code == 303


def test_logout(anon):
    login(anon)
    response = anon.post("/logout", data={"csrf_token": csrf(anon)})
    assert response.status_code == 303
    assert anon.get("/label").status_code == 303


def test_shared_mode_refuses_to_start_without_an_explicit_secret_key(corpus, monkeypatch):
    monkeypatch.delenv("COUNTERPOINT_SECRET_KEY", raising=False)
    (corpus / "instance").mkdir(exist_ok=True)
    (corpus / "instance" / "secret_key").write_text("generated locally")
    with pytest.raises(SettingsError, match="COUNTERPOINT_SECRET_KEY"):
        create_app({**corpus_config(corpus), "SHARED": True})
    monkeypatch.setenv("COUNTERPOINT_SECRET_KEY", "from the environment")
    assert create_app({**corpus_config(corpus), "SHARED": True}).secret_key == "from the environment"


def test_local_mode_needs_no_login(client, app):
    assert client.get("/label").status_code == 200
    assert app.config["SHARED"] is False


@pytest.fixture
def cli(runner, corpus, monkeypatch):
    """Invoke `counterpoint --corpus CORPUS ...`."""
    monkeypatch.setenv("COUNTERPOINT_CORPUS", str(corpus))
    monkeypatch.delenv("COUNTERPOINT_SECRET_KEY", raising=False)
    return lambda *args, **kw: runner.invoke(main, ["--corpus", str(corpus), *args], **kw)


def test_cli_manages_annotators(cli):
    added = cli("annotators", "add", "bob", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "bob\t" in cli("annotators", "list").output
    assert cli("annotators", "add", "bob", "--password", PASSWORD).exit_code == 1
    assert cli("annotators", "remove", "bob").exit_code == 0
    assert "No annotator accounts" in cli("annotators", "list").output
    missing = cli("annotators", "remove", "bob")
    assert missing.exit_code == 1 and "no annotator called bob" in missing.output


def test_serve_shared_without_secret_key_says_how_to_set_one(cli, monkeypatch):
    monkeypatch.setattr(serving, "serve", lambda *a, **kw: pytest.fail("must not serve"))
    result = cli("serve", "--shared")
    assert result.exit_code == 1 and "COUNTERPOINT_SECRET_KEY" in result.output


def test_serve_runs_the_app_on_loopback_by_default(cli, monkeypatch):
    calls = []
    monkeypatch.setattr(
        serving, "serve", lambda app, host, port, workers, on_ready=None: calls.append((app.config["SHARED"], host, port, workers))
    )
    assert cli("serve").exit_code == 0
    monkeypatch.setenv("COUNTERPOINT_SECRET_KEY", "k" * 32)
    assert cli("serve", "--shared", "--port", "5123", "--workers", "3").exit_code == 0
    assert calls == [(False, "127.0.0.1", 5000, 2), (True, "127.0.0.1", 5123, 3)]
