"""Hostile input: script in every field stays text, every write needs CSRF, no inline script,
safe cookies, no open redirect, file names never become paths, limits hold, SQL and FTS are data.
"""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask import url_for
from werkzeug.routing import IntegerConverter

from webapp.analysis import fulltext
from webapp.cli import main
from webapp.corpus import taxonomy
from webapp.labels import accounts, editor, validation
from webapp.labels.editor import Choice
from webapp.store.db import connect

MARK = "xss-mark"
PAYLOAD = (
    f'<script id="{MARK}-script">window.__xss=1;alert(1)</script>'
    f'<img id="{MARK}-img" src="x" onerror="window.__xss=1;alert(1)">'
    f'"><svg id="{MARK}-svg" onload="alert(1)">\' {{{{7*7}}}}'
)
HOSTILE_ANNOTATOR = f'<b id="{MARK}-annotator">eve</b>'
MAX_PAGES = 400


@pytest.fixture
def hostile(app, corpus, tmp_path):
    """The seed corpus plus a document, topic, labels and a note whose every field is a payload."""
    lines = [
        {"document": "hostile", "title": PAYLOAD, "outlet": PAYLOAD, "author": PAYLOAD, "kind": PAYLOAD,
         "text": f"Security {PAYLOAD} paragraph one.",
         "labels": [{"topic": "xss_topic", "stance": "favour", "holder": PAYLOAD, "annotator": HOSTILE_ANNOTATOR,
                     "topic_name": PAYLOAD, "topic_target": PAYLOAD}]},
        {"document": "hostile", "text": f"Second {PAYLOAD} paragraph on security.",
         "labels": [{"topic": "security", "stance": "against", "holder": PAYLOAD}]},
    ]
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "documents", "import", "--jsonl", "--add-topics", str(source)])
    assert result.exit_code == 0, result.output
    db = connect(app.config["DATABASE"])
    passage = db.execute("SELECT id FROM passages WHERE document = 'hostile' ORDER BY position").fetchone()[0]
    editor.save(db, passage, HOSTILE_ANNOTATOR, [Choice("security", "neutral", PAYLOAD)], note=PAYLOAD)
    editor.write_files(db, corpus / "labels", ["hostile"])
    db.close()
    return passage


def assert_inert(html: str, where: str) -> None:
    """No injected element, no inline script and no event-handler attribute in the page."""
    soup = BeautifulSoup(html, "html.parser")
    injected = soup.select(f'[id^="{MARK}"]')
    assert not injected, (where, injected[:2])
    for script in soup.find_all("script"):
        assert script.get("src"), (where, "inline <script>", str(script)[:200])
    for element in soup.find_all(True):
        handlers = [a for a in element.attrs if a.lower().startswith("on")]
        assert not handlers, (where, element.name, handlers)
        for name in ("href", "src", "action", "hx-get", "hx-post"):
            value = str(element.get(name) or "").strip().lower()
            assert not value.startswith("javascript:"), (where, element.name, value)


def crawl(client, start: list[str], headers: dict | None = None, per_route: int = 3) -> dict[str, str]:
    """GET pages reachable by links and hx-get from `start` (plus `start` itself), at most
    `per_route` per route of the app so the crawl stays small, as {path: html}."""
    adapter = client.application.url_map.bind("localhost")
    seen, queue, pages, visits = set(), list(start), {}, {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            endpoint = adapter.match(urlsplit(path).path)[0]
        except Exception:
            endpoint = "unmatched"
        if path not in start and visits.get(endpoint, 0) >= per_route:
            continue
        visits[endpoint] = visits.get(endpoint, 0) + 1
        reply = client.get(path, headers=headers)
        assert reply.status_code < 500, (path, reply.status_code)
        if reply.status_code != 200 or reply.mimetype != "text/html":
            continue
        pages[path] = reply.get_data(as_text=True)
        soup = BeautifulSoup(pages[path], "html.parser")
        for link in soup.find_all(attrs={"href": True}) + soup.find_all(attrs={"hx-get": True}):
            target = urljoin(path, link.get("hx-get") or link["href"])
            parts = urlsplit(target)
            if parts.netloc or parts.scheme or parts.path.startswith(("/static", "/downloads", "/api")):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages


# --- XSS ----------------------------------------------------------------------------------


def test_every_page_renders_payloads_as_text(app, hostile):
    client = app.test_client()
    attacks = [
        f"/search?q={quote(PAYLOAD)}",
        f"/topics/security?holder={quote(PAYLOAD)}&source={quote(PAYLOAD)}&view={quote(PAYLOAD)}",
        f"/label?document={quote(PAYLOAD)}",
        f"/login?next={quote(PAYLOAD)}",
        f"/documents/{quote(PAYLOAD)}",
        f"/topics/{quote(PAYLOAD)}",
        "/documents/hostile",
        f"/passages/{hostile}",
        "/topics/xss_topic",
    ]
    pages = crawl(client, ["/", *attacks])
    assert len(pages) > 20
    for path, html in pages.items():
        assert_inert(html, path)
    # The payloads really were on the pages, as text.
    shown = BeautifulSoup(pages["/documents/hostile"], "html.parser").get_text()
    assert f'<script id="{MARK}-script">' in shown
    history = BeautifulSoup(pages[f"/passages/{hostile}"], "html.parser").get_text()
    assert HOSTILE_ANNOTATOR in history and f'<img id="{MARK}-img"' in history
    assert f'<img id="{MARK}-img"' in BeautifulSoup(pages["/topics/xss_topic"], "html.parser").get_text()


def test_fragments_render_payloads_as_text(app, hostile):
    pages = crawl(app.test_client(), ["/", f"/passages/{hostile}", "/topics/security", f"/search?q={quote(PAYLOAD)}"],
                  {"HX-Request": "true"})
    for path, html in pages.items():
        assert_inert(html, f"{path} (htmx)")


@pytest.mark.browser
def test_no_script_runs_in_the_browser(page, hostile):
    for path in ["/", "/documents/hostile", f"/passages/{hostile}", "/topics/xss_topic", "/topics/security",
                 f"/search?q={quote(PAYLOAD)}", f"/topics/security?holder={quote(PAYLOAD)}", "/label?document=hostile",
                 f"/passages/{hostile}/related"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__xss === undefined"), path
        assert page.locator(f'[id^="{MARK}"]').count() == 0, path
    # Through htmx as well: search typed into the box, swapped in as a fragment.
    page.goto("/topics/security")
    page.select_option("#holder", PAYLOAD)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__xss === undefined")
    assert page.locator(f'[id^="{MARK}"]').count() == 0


# --- CSRF, CSP, cookies, redirects ----------------------------------------------------------


def write_rules(app) -> list[tuple[str, str]]:
    """(method, URL) for every write route of the app, its arguments filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            values = {arg: (1 if isinstance(rule._converters[arg], IntegerConverter) else "x")
                      for arg in rule.arguments}
            with app.test_request_context():
                found.append((method, url_for(rule.endpoint, **values)))
    return found


def database_rows(db) -> dict[str, list]:
    """Every row of every table a request could write (the full-text index's own tables aside)."""
    return {t: list(db[t].rows) for t in db.table_names() if not t.startswith(("passages_fts", "sqlite_"))}


def corpus_files(corpus) -> dict[str, bytes]:
    """Every file under seeds/ and labels/ with its content."""
    return {str(p.relative_to(corpus)): p.read_bytes()
            for folder in ("seeds", "labels") for p in sorted((corpus / folder).rglob("*")) if p.is_file()}


TRACEBACK = re.compile(r'Traceback|File "[^"]*", line \d+|\b\w+(Error|Exception): ')


def refusal_message(reply) -> str:
    """The message of an error reply, HTML page or JSON, checked to carry no traceback."""
    if reply.is_json:
        shown = message = reply.get_json()["error"]
    else:
        soup = BeautifulSoup(reply.get_data(as_text=True), "html.parser")
        shown, message = soup.get_text(" "), soup.select_one("main .error").get_text(" ", strip=True)
    leak = TRACEBACK.search(shown)
    assert not leak, shown[max(0, leak.start() - 200):leak.end() + 200]
    return message


def test_every_write_needs_the_csrf_token(app, db, corpus):
    rules = write_rules(app)
    assert {("POST", "/label/1"), ("POST", "/login"), ("PUT", "/api/passages/1/labels")} <= set(rules)
    rows, files = database_rows(db), corpus_files(corpus)
    passage = db.execute("SELECT id FROM passages WHERE kind = 'content' LIMIT 1").fetchone()[0]
    # With a real passage, a label and a password, so that only the token is missing.
    rules += [("POST", f"/label/{passage}"), ("PUT", f"/api/passages/{passage}/labels")]
    form = {"stance-security": "favour", "holder-security": "forger", "name": "x", "password": "x" * 12}
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "the-real-token"
    for method, url in rules:
        missing = client.open(url, method=method, data=form)
        assert missing.status_code == 400, (method, url, missing.status_code)
        assert "missing CSRF token" in refusal_message(missing), (method, url)
        wrong = client.open(url, method=method, data={**form, "csrf_token": "forged"}, headers={"X-CSRFToken": "forged"})
        assert wrong.status_code == 400, (method, url, wrong.status_code)
        assert "missing CSRF token" in refusal_message(wrong), (method, url)
    api = client.put(f"/api/passages/{passage}/labels", json={"labels": [{"topic": "security", "stance": "favour"}]},
                     headers={"X-CSRFToken": "forged"})
    assert api.status_code == 400 and "CSRF" in api.get_json()["error"]
    fresh = app.test_client()  # a visitor with no session at all
    assert all(fresh.open(url, method=m, data=form).status_code == 400 for m, url in rules)
    # Nothing any refused write sent reached the database or the files.
    assert database_rows(db) == rows
    assert corpus_files(corpus) == files


def test_pages_carry_a_csp_without_inline_scripts(app, hostile):
    client = app.test_client()
    pages = crawl(client, ["/"])
    assert len(pages) > 15
    for path in pages:
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    for path, html in pages.items():
        assert_inert(html, path)


@pytest.fixture
def shared_client(app, db):
    """A client of the app in shared mode, with one annotator account."""
    app.config.update(SHARED=True, SECRET_KEY="s" * 32)
    accounts.add_annotator(db, "alice", "password123")
    return app.test_client()


def login(client, next_url: str | None = None):
    """Sign in as alice through the form, with `next` as the form carries it."""
    page = client.get("/login" + (f"?next={quote(next_url)}" if next_url else ""))
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "name": "alice", "password": "password123"}
    if next_url is not None:
        form["next"] = next_url
    return client.post("/login", data=form)


def test_session_cookie_is_httponly_and_samesite(shared_client):
    reply = login(shared_client)
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "https:evil.example", "javascript:alert(1)", "http://localhost@evil.example/", " //evil.example",
])
def test_login_never_redirects_off_site(shared_client, target):
    reply = login(shared_client, target)
    assert reply.status_code == 303
    location = reply.headers["Location"]
    parts = urlsplit(location)
    assert not parts.netloc or parts.netloc == "localhost", location
    assert location.startswith("/") and not location.startswith(("//", "/\\")) and "\\" not in location, location


def test_login_keeps_a_local_next(shared_client):
    assert login(shared_client, "/topics/security?view=holder").headers["Location"] == "/topics/security?view=holder"


# --- uploads, limits, SQL and FTS ---------------------------------------------------------


def test_upload_file_names_never_leave_seeds(app, corpus, tmp_path):
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    before = {p for p in tmp_path.rglob("*")}
    upload = {"csrf_token": "t", "file": (io.BytesIO(b"One paragraph.\n\nAnother paragraph."), "../../etc/passwd.txt")}
    preview = client.post("/add/preview", data=upload, content_type="multipart/form-data")
    assert preview.status_code == 200
    soup = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    name = soup.find("input", attrs={"name": "name"})["value"]
    assert "/" not in name and ".." not in name
    form = {"csrf_token": "t", "name": "../../etc/passwd.txt",
            "passage": ["One paragraph.", "Another paragraph."], "passage_kind": ["content", "content"],
            "passage_auto": ["content", "content"]}
    saved = client.post("/add/save", data=form)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:500]
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all((corpus / "seeds") in p.parents or (corpus / "instance") in p.parents
                           or (corpus / "labels") in p.parents for p in created), created
    assert not (tmp_path / "etc").exists()


def test_uploads_and_forms_over_the_limit_are_refused(app, db, corpus):
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    rows, files = database_rows(db), corpus_files(corpus)
    # A small limit, so the refused bodies stay in memory in the test client.
    limit = app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    too_large = "The upload is larger than the limit of 64 KB"
    big = client.post("/add/preview", data={"csrf_token": "t", "source_text": "x" * (limit + 1)})
    assert big.status_code == 413 and too_large in refusal_message(big)
    upload = {"csrf_token": "t", "file": (io.BytesIO(b"y" * (limit + 1)), "big.txt")}
    refused = client.post("/add/preview", data=upload, content_type="multipart/form-data")
    assert refused.status_code == 413 and too_large in refusal_message(refused)
    save = client.post("/add/save", data={"csrf_token": "t", "name": "big.txt", "passage": ["z" * (limit + 1)],
                                          "passage_kind": ["content"], "passage_auto": ["content"]})
    assert save.status_code == 413 and too_large in refusal_message(save)
    passage = db.execute("SELECT id FROM passages WHERE kind = 'content' LIMIT 1").fetchone()[0]
    long_holder = client.post(f"/label/{passage}", data={"csrf_token": "t", "stance-security": "favour",
                                                         "holder-security": "h" * (validation.MAX_HOLDER + 1)})
    assert long_holder.status_code == 400
    assert f"a holder can be at most {validation.MAX_HOLDER} characters" in refusal_message(long_holder)
    long_note = client.post(f"/label/{passage}", data={"csrf_token": "t", "stance-security": "favour",
                                                       "note": "n" * 10_000})
    assert long_note.status_code == 400
    assert f"a note can be at most {validation.MAX_NOTE} characters" in refusal_message(long_note)
    # Nothing of any refused request was stored or written.
    assert database_rows(db) == rows
    assert corpus_files(corpus) == files


SQL_AND_FTS = ["' OR 1=1 --", '"; DROP TABLE passages; --', 'NEAR(security', '"unbalanced', "security AND",
               "*", "text:security", "-security", "security OR", "^x", "(", ")", "\x00", "col:*", "%_\\", "%", "_"]
NO_MATCH = {"' OR 1=1 --", '"; DROP TABLE passages; --', "*", "%_\\", "%", "_"}


@pytest.mark.parametrize("value", SQL_AND_FTS)
def test_sql_and_fts_syntax_in_any_field_is_data(app, db, value):
    client = app.test_client()
    passages = db["passages"].count
    replies = {}
    for path in ["/search?q={v}", "/topics/security?holder={v}&source={v}&q={v}", "/topics/security?q={v}",
                 "/label?document={v}", "/api/passages?q={v}", "/documents/{v}"]:
        reply = replies[path] = client.get(path.format(v=quote(value, safe="")))
        assert reply.status_code in (200, 400, 404), (path, value, reply.status_code)
        body = reply.get_data(as_text=True)
        text = BeautifulSoup(body, "html.parser").get_text(" ") if reply.mimetype == "text/html" else body
        assert not TRACEBACK.search(text) and not any(s in text for s in ("sqlite", "fts5")), (path, text[:500])
        if reply.mimetype == "text/html" and set(value) & set("<>\"'&"):
            assert value not in body, (path, "shown unescaped")
    shown = " ".join(value.replace("\x00", " ").split())  # as the pages echo it back
    page = BeautifulSoup(replies["/search?q={v}"].get_data(as_text=True), "html.parser")
    hits = page.select("#results li.hit")
    if value in NO_MATCH:
        # As SQL or FTS syntax these would match everything (or fail); as words they match nothing.
        assert not hits and f"No passage matches “{shown}”" in page.select_one("#results .empty").get_text()
        assert replies["/api/passages?q={v}"].get_json() == []
    if hits:
        total = int(page.select_one("#results .count").get_text().split()[0])
        assert len(hits) == min(total, fulltext.PAGE_SIZE)
        assert all(hit.select("mark") for hit in hits)
    filtered = BeautifulSoup(replies["/topics/security?holder={v}&source={v}&q={v}"].get_data(as_text=True), "html.parser")
    assert not filtered.select("#results .card")  # no source is named like that
    assert "No passage on this topic matches these filters" in filtered.select_one("#results").get_text()
    # The topic filter searches the full-text index as /search does: operators, wildcards and
    # quotes are plain characters, punctuation separates words, and every card holds every word.
    cards = BeautifulSoup(replies["/topics/security?q={v}"].get_data(as_text=True), "html.parser").select("#results .card")
    for card in cards:
        words = re.findall(r"[^\W_]+", shown)
        assert all(word.lower() in card.get_text().lower() for word in words), (value, card.get_text()[:200])
    for path in ("/label?document={v}", "/documents/{v}"):
        assert replies[path].status_code == 404
        assert f"There is no document “{shown}”" in refusal_message(replies[path]) or not shown
    assert isinstance(replies["/api/passages?q={v}"].get_json(), list)
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    passage = db.execute("SELECT id FROM passages WHERE kind = 'content' LIMIT 1").fetchone()[0]
    holder = value.replace("\x00", "")
    reply = client.post(f"/label/{passage}", data={"csrf_token": "t", "stance-security": "favour",
                                                   "holder-security": holder})
    assert reply.status_code == 303
    stored = db.execute("SELECT holder FROM labels WHERE topic = 'security' AND holder IS NOT NULL "
                        "ORDER BY updated DESC, rowid DESC LIMIT 1").fetchone()[0]
    assert stored == (" ".join(holder.split()) or None) or not holder.strip()
    assert db["passages"].count == passages
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert taxonomy.from_db(db).get("security")


def test_a_nul_in_a_topic_filter_does_not_cut_the_filter_short(client):
    whole = BeautifulSoup(client.get("/topics/security?q=taliban").get_data(as_text=True), "html.parser")
    assert whole.select("#results .card")
    cut = BeautifulSoup(client.get("/topics/security?q=%00zzqx").get_data(as_text=True), "html.parser")
    assert not cut.select("#results .card")
    assert "No passage on this topic matches these filters" in cut.select_one("#results").get_text()


@pytest.mark.parametrize("path", ["/passages/{n}", "/passages/{n}/related", "/api/passages/{n}"])
def test_an_id_too_large_for_the_database_is_not_found_not_an_error(client, path):
    reply = client.get(path.format(n=2**63))
    assert reply.status_code == 404
    assert not TRACEBACK.search(reply.get_data(as_text=True))


def test_an_api_link_to_an_id_too_large_for_the_database_is_not_found(client):
    token = client.get("/api/session").get_json()["csrf_token"]
    reply = client.post("/api/passages/1/links", json={"relation": "supports", "target": 2**63},
                        headers={"X-CSRFToken": token})
    assert reply.status_code == 404 and "no passage number" in reply.get_json()["error"]
    assert client.get("/api/passages/1").get_json()["links"] == []
