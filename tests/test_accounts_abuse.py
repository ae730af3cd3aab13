"""Abuse of shared-mode accounts: the reserved adjudicator name, adjudicating without the role,
guessing passwords in parallel past the limit, and sessions that outlive sign-out."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from bs4 import BeautifulSoup
from conftest import PAKISTAN, add_second_annotator, corpus_config, passage_id
from test_auth import PASSWORD, csrf, login, shared_app

from webapp import create_app
from webapp.analysis import agreement
from webapp.cli import main
from webapp.labels import accounts, editor
from webapp.labels.current import ADJUDICATOR
from webapp.store.db import connect


@pytest.fixture
def team(corpus):
    """Shared mode with two annotators who disagree, alice (annotator) and lead (adjudicator)."""
    app = shared_app(corpus)
    db = connect(app.config["DATABASE"])
    add_second_annotator(db)
    accounts.add_annotator(db, "lead", PASSWORD, adjudicator=True)
    db.close()
    return app


@pytest.fixture
def cli(runner, corpus, monkeypatch):
    """Invoke `counterpoint --corpus CORPUS ...`."""
    monkeypatch.delenv("COUNTERPOINT_SECRET_KEY", raising=False)
    return lambda *args, **kw: runner.invoke(main, ["--corpus", str(corpus), *args], **kw)


def read(app, sql: str, params=()) -> list[tuple]:
    """Rows from the app's database."""
    db = connect(app.config["DATABASE"])
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def seven(app) -> int:
    """The Pakistan passage alice's team disagrees on."""
    db = connect(app.config["DATABASE"])
    try:
        return passage_id(db, PAKISTAN, 7)
    finally:
        db.close()


def adjudication(token: str, **extra) -> dict:
    """The adjudication form's fields for the deportation topic."""
    return {"csrf_token": token, "topic": "deportation", "stance-deportation": "neutral", "note": "quoted", **extra}


# --- The reserved name ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["adjudicator", "Adjudicator", "ADJUDICATOR", "ａｄｊｕｄｉｃａｔｏｒ"])
def test_the_command_line_refuses_the_reserved_name_in_any_case(cli, corpus, name):
    for extra in ([], ["--adjudicator"]):
        result = cli("annotators", "add", name, "--password", PASSWORD, *extra)
        assert result.exit_code == 1 and "reserved" in result.output and "Traceback" not in result.output
    assert "No annotator accounts" in cli("annotators", "list").output


def test_an_account_made_before_the_name_was_reserved_cannot_act(team):
    db = connect(team.config["DATABASE"])
    db["annotators"].insert({"name": ADJUDICATOR, "password_hash": db["annotators"].get("alice")["password_hash"],
                             "created": "2026-01-01T00:00:00Z", "adjudicator": 1, "session_generation": 0})
    db.close()
    client = team.test_client()
    assert login(client, ADJUDICATOR).status_code == 401
    # Nor does a session that signed in under it before.
    with client.session_transaction() as session:
        session["annotator"] = ADJUDICATOR
    assert client.get("/label").status_code == 303
    response = client.post(f"/disagreements/{seven(team)}", data=adjudication(csrf(client)))
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert read(team, "SELECT count(*) FROM label_changes") == [(0,)]


# --- Who may adjudicate ----------------------------------------------------------------------------

def test_annotators_without_the_role_cannot_adjudicate_or_withdraw(team):
    alice = team.test_client()
    login(alice)
    page = BeautifulSoup(alice.get("/disagreements").get_data(as_text=True), "html.parser")
    explained = " ".join(page.select_one("#not-adjudicator").get_text(" ").split())
    assert "not an adjudicator" in explained and "counterpoint annotators grant alice" in explained
    form = page.select_one(f"#passage-{seven(team)} form")
    assert all(button.has_attr("disabled") for button in form.select("button"))
    assert form.select_one("fieldset.stances").has_attr("disabled")
    token = csrf(alice)
    for data in (adjudication(token), {"csrf_token": token, "action": "withdraw"}):
        for headers in ({}, {"HX-Request": "true"}):
            refused = alice.post(f"/disagreements/{seven(team)}", data=data, headers=headers)
            assert refused.status_code == 403
            assert "Only an adjudicator can" in refused.get_data(as_text=True)
    assert read(team, "SELECT count(*) FROM label_changes") == [(0,)]


def test_an_adjudication_records_the_signed_in_adjudicator(team):
    lead = team.test_client()
    login(lead, "lead")
    page = BeautifulSoup(lead.get("/disagreements").get_data(as_text=True), "html.parser")
    assert not page.select_one("#not-adjudicator") and not page.select("form button[disabled]")
    assert lead.post(f"/disagreements/{seven(team)}", data=adjudication(csrf(lead))).status_code == 303
    # Stored under the reserved name, so it counts; the record names who decided.
    assert read(team, "SELECT annotator, note FROM label_changes") == [(ADJUDICATOR, "Adjudicated by lead: quoted")]
    history = lead.get(f"/api/passages/{seven(team)}").get_json()["history"]
    assert [(c["annotator"], c["note"]) for c in history] == [(ADJUDICATOR, "Adjudicated by lead: quoted")]
    shown = BeautifulSoup(lead.get(f"/passages/{seven(team)}").get_data(as_text=True), "html.parser")
    assert "Adjudicated by lead" in shown.select_one(".history").get_text(" ", strip=True)
    withdrawn = lead.post(f"/disagreements/{seven(team)}", data={"csrf_token": csrf(lead), "action": "withdraw"})
    assert withdrawn.status_code == 303
    assert read(team, "SELECT note FROM label_changes ORDER BY id DESC LIMIT 1") == [("Adjudication withdrawn by lead",)]


def test_a_revoked_adjudicator_is_refused_at_once(team, cli):
    lead = team.test_client()
    login(lead, "lead")
    assert cli("annotators", "revoke", "lead").exit_code == 0
    assert lead.post(f"/disagreements/{seven(team)}", data=adjudication(csrf(lead))).status_code == 403
    assert cli("annotators", "grant", "lead").exit_code == 0
    assert lead.post(f"/disagreements/{seven(team)}", data=adjudication(csrf(lead))).status_code == 303


def test_nobody_undoes_an_adjudication_as_a_label_change(team):
    db = connect(team.config["DATABASE"])
    change = agreement.adjudicate(db, seven(team), [editor.Choice("deportation", "neutral")], "lead")
    db.close()
    alice = team.test_client()
    login(alice)
    response = alice.post(f"/label/changes/{change.id}/undo", data={"csrf_token": csrf(alice)}, follow_redirects=True)
    assert "an adjudicator updates or withdraws it" in response.get_data(as_text=True)
    assert read(team, "SELECT count(*) FROM label_changes") == [(1,)]
    assert read(team, "SELECT stance FROM labels WHERE annotator = ?", [ADJUDICATOR]) == [("neutral",)]


def test_the_command_line_grants_and_shows_the_role(cli):
    assert cli("annotators", "add", "lead", "--adjudicator", "--password", PASSWORD).exit_code == 0
    assert cli("annotators", "add", "bob", "--password", PASSWORD).exit_code == 0
    roles = [line.split("\t")[::2] for line in cli("annotators", "list").output.splitlines()]
    assert roles == [["bob", "annotator"], ["lead", "adjudicator"]]
    assert "may now adjudicate" in cli("annotators", "grant", "bob").output
    assert "could already adjudicate" in cli("annotators", "grant", "bob").output
    assert "may no longer adjudicate" in cli("annotators", "revoke", "lead").output
    roles = [line.split("\t")[::2] for line in cli("annotators", "list").output.splitlines()]
    assert roles == [["bob", "adjudicator"], ["lead", "annotator"]]
    missing = cli("annotators", "grant", "nobody")
    assert missing.exit_code == 1 and "no annotator called nobody" in missing.output


# --- Guessing passwords in parallel --------------------------------------------------------------

def test_parallel_wrong_passwords_are_checked_no_more_than_the_limit(team, monkeypatch):
    checked, lock = [], threading.Lock()
    verify = accounts.verify

    def counting_verify(db, name, password):
        with lock:
            checked.append(password)
        return verify(db, name, password)

    monkeypatch.setattr(accounts, "verify", counting_verify)
    attempts = 40
    # Each guess has its own client, so its own session, request context and database connection.
    clients = [team.test_client() for _ in range(attempts)]
    tokens = [csrf(client, "/login") for client in clients]
    start = threading.Barrier(attempts)

    def guess(n: int) -> int:
        start.wait()
        form = {"csrf_token": tokens[n], "name": "alice", "password": f"wrong guess {n}"}
        return clients[n].post("/login", data=form).status_code

    with ThreadPoolExecutor(attempts) as pool:
        statuses = sorted(pool.map(guess, range(attempts)))
    limit = team.config["LOGIN_ATTEMPTS"]
    assert len(checked) == limit
    assert statuses == [401] * limit + [429] * (attempts - limit)
    # The right password is refused too until the window passes: the limit is not a counter to race.
    assert login(team.test_client()).status_code == 429


def test_a_successful_sign_in_still_clears_the_count(team):
    client = team.test_client()
    for _ in range(team.config["LOGIN_ATTEMPTS"] - 1):
        assert login(client, password="wrong password").status_code == 401
    assert login(client).status_code == 303
    assert read(team, "SELECT count(*) FROM login_failures") == [(0,)]


# --- Sessions ------------------------------------------------------------------------------------

def session_cookie(response) -> str:
    """The session Set-Cookie header of a response."""
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def copy_session(source, team):
    """A second client carrying a copy of `source`'s session cookie, as a thief would."""
    thief = team.test_client()
    thief.set_cookie("session", source.get_cookie("session").value)
    return thief


def test_a_cookie_copied_before_sign_out_stops_working_after_it(team):
    alice = team.test_client()
    login(alice)
    thief = copy_session(alice, team)
    assert thief.get("/label").status_code == 200
    assert alice.post("/logout", data={"csrf_token": csrf(alice)}).status_code == 303
    assert thief.get("/label").status_code == 303
    pid = seven(team)
    saved = thief.post(f"/label/{pid}", data={"csrf_token": csrf(thief), "stance-security": "favour"})
    assert saved.status_code == 303 and saved.headers["Location"].startswith("/login")
    assert read(team, "SELECT count(*) FROM label_changes") == [(0,)]
    # Signing in again works, and the old cookie stays dead.
    assert login(alice).status_code == 303
    assert alice.get("/label").status_code == 200 and thief.get("/label").status_code == 303


def test_an_account_made_again_under_the_same_name_refuses_its_predecessors_sessions(team):
    alice = team.test_client()
    login(alice)
    db = connect(team.config["DATABASE"])
    accounts.remove_annotator(db, "alice")
    accounts.add_annotator(db, "alice", "someone else's password")
    db.close()
    assert alice.get("/label").status_code == 303


def test_changing_the_password_ends_every_session(team, cli):
    alice = team.test_client()
    login(alice)
    new = "a brand new passphrase"
    changed = cli("annotators", "password", "alice", input=f"{new}\n{new}\n")
    assert changed.exit_code == 0 and "signed out" in changed.output
    assert new not in changed.output
    assert alice.get("/label").status_code == 303
    assert login(alice).status_code == 401
    assert login(alice, password=new).status_code == 303
    short = cli("annotators", "password", "alice", "--password", "short")
    assert short.exit_code == 1 and "at least" in short.output
    assert cli("annotators", "password", "nobody", "--password", new).exit_code == 1


def test_sign_out_in_local_mode_changes_nothing(client):
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 303
    assert client.get("/label").status_code == 200


def test_session_cookie_is_secure_when_configured_or_over_https(team, corpus, monkeypatch):
    assert "Secure" not in session_cookie(login(team.test_client()))
    monkeypatch.setenv("COUNTERPOINT_SESSION_COOKIE_SECURE", "1")
    configured = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret"})
    assert "; Secure" in session_cookie(login(configured.test_client()))
    # Behind TLS the request says so (directly, or via a proxy the server trusts): Secure without a setting.
    https = team.test_client()
    page = https.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = BeautifulSoup(page, "html.parser").find("meta", attrs={"name": "csrf-token"})["content"]
    reply = https.post("/login", base_url="https://localhost",
                       data={"csrf_token": token, "name": "alice", "password": PASSWORD})
    assert reply.status_code == 303 and "; Secure" in session_cookie(reply)
