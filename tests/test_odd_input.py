"""Odd input is refused with a clear message, never a 500 or a traceback, and writes nothing:
JSON nested thousands deep, numbers of thousands of digits, positions and ids past SQLite's
integers, lone surrogates, a charset no browser reads, and a topic given as a list."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from webapp.cli import main
from webapp.labels import mirror
from webapp.store.db import connect

DOC = "003_bbfe681b051be986.txt"
TOKEN = "t"
DEEP = "[" * 3000 + "]" * 3000
HUGE = "1" * 5000
TOO_FAR = 2**64
DEEP_MESSAGE = "The JSON nests more than 100 levels deep"
HUGE_MESSAGE = "A number has 5,000 digits"
POSITION_MESSAGE = "position must be a whole number >= 0 (and below 2^63), not 18446744073709551616"
SURROGATE_MESSAGE = "holds a lone surrogate (U+D800), half of a UTF-16 pair and no character"
TRACEBACK = ("Traceback", "RecursionError", "UnicodeEncodeError", "OverflowError", "set_int_max_str_digits")


@pytest.fixture
def passage(db) -> dict:
    """The first content passage of DOC."""
    return next(db.query("SELECT id, position, text FROM passages WHERE document = ? AND kind = 'content' "
                         "ORDER BY position LIMIT 1", [DOC]))


def snapshot(corpus: Path) -> tuple:
    """Everything a refused input must leave as it was: the corpus files and the database's rows."""
    files = {str(p.relative_to(corpus)): p.read_bytes() for folder in ("seeds", "labels")
             for p in sorted((corpus / folder).rglob("*")) if p.is_file() and ".locks" not in p.parts}
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        rows = {t: list(db[t].rows) for t in ("documents", "passages", "topics", "labels", "label_changes", "links")}
    finally:
        db.close()
    return files, rows


def refused_by_cli(corpus: Path, tmp_path: Path, args: list[str], name: str, content: str) -> str:
    """Run a command on a file holding `content`; it must refuse as a user error and change nothing."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = snapshot(corpus)
    result = CliRunner().invoke(main, ["--corpus", str(corpus), *args, str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "nothing was imported" in result.output
    assert not any(sign in result.output for sign in TRACEBACK), result.output
    assert snapshot(corpus) == before
    return result.output


def api_client(app):
    """A test client whose session holds a known CSRF token."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = TOKEN
    return client


def refused_by_api(app, corpus: Path, method: str, path: str, body: str) -> str:
    """Send a raw JSON body; the API must answer 400 with a JSON error and change nothing."""
    before = snapshot(corpus)
    reply = api_client(app).open(path, method=method, data=body.encode("utf-8"),
                                 headers={"X-CSRFToken": TOKEN, "Content-Type": "application/json"})
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert snapshot(corpus) == before
    return reply.get_json()["error"]


# --- The same odd JSON through the API and every JSON import ------------------------------------

# Each builds a file of its format around `value`, raw JSON put where a field's value goes.

def jsonl_line(passage, value: str) -> str:
    """A JSONL batch line of a new document whose outlet is `value`."""
    return '{"document": "fresh-doc", "text": "A new passage.", "outlet": %s}\n' % value


def label_record(passage, value: str) -> str:
    """A label-file record on the passage with an extra field holding `value`."""
    record = json.dumps({"document": DOC, "position": passage["position"], "topic": "security", "stance": "favour",
                         "holder": None, "annotator": "bea", "updated": "2024-01-01T00:00:00Z",
                         "text": passage["text"]})
    return record[:-1] + ', "extra": %s}\n' % value


def labelstudio_file(passage, value: str) -> str:
    """A Label Studio export over several lines, its task carrying an extra field holding `value`."""
    task = json.dumps({"data": {"text": passage["text"], "document": DOC, "position": passage["position"]},
                       "annotations": [{"created_username": "bea", "result": []}]}, indent=2)
    return "[\n" + task[:-1] + ', "extra": %s}\n]\n' % value


def pair_line(passage, value: str, **fields) -> str:
    """A doccano or Prodigy line on the passage with `fields` and an extra field holding `value`."""
    line = json.dumps({"text": passage["text"], "document": DOC, "position": passage["position"], **fields})
    return line[:-1] + ', "extra": %s}\n' % value


IMPORTS = {
    "jsonl batch": (["documents", "import", "--jsonl"], "batch.jsonl", jsonl_line, "batch.jsonl line 1: "),
    "labels import": (["labels", "import"], "bea.jsonl", label_record, "bea.jsonl line 1: "),
    "labelstudio": (["exchange", "import", "--format", "labelstudio"], "tasks.json", labelstudio_file,
                    "(at line {line}, column "),
    "doccano": (["exchange", "import", "--format", "doccano"], "d.jsonl",
                lambda p, v: pair_line(p, v, label=["security:favour"], annotator="bea"), "line 1: "),
    "prodigy": (["exchange", "import", "--format", "prodigy"], "p.jsonl",
                lambda p, v: pair_line(p, v, accept=["security:favour"], _annotator_id="bea"), "line 1: "),
}
ODD_JSON = {"deep": (DEEP, DEEP_MESSAGE), "huge number": (HUGE, HUGE_MESSAGE), "lone surrogate": (
    '"Ann \\ud800"', SURROGATE_MESSAGE)}


@pytest.mark.parametrize("odd", ODD_JSON)
@pytest.mark.parametrize("entry", IMPORTS)
def test_odd_json_in_a_file_is_refused_with_its_line(app, corpus, tmp_path, passage, entry, odd):
    args, name, make, place = IMPORTS[entry]
    value, message = ODD_JSON[odd]
    content = make(passage, value)
    output = refused_by_cli(corpus, tmp_path, args, name, content)
    line = content[:content.index(value)].count("\n") + 1
    assert place.format(line=line) in output and message in output, output


@pytest.mark.parametrize("odd", ODD_JSON)
def test_odd_json_sent_to_the_api_is_a_400(app, corpus, passage, odd):
    value, message = ODD_JSON[odd]
    labels = '{"labels": [{"topic": "security", "stance": "favour", "holder": "Ann"}], "note": %s}' % value
    assert message in refused_by_api(app, corpus, "PUT", f"/api/passages/{passage['id']}/labels", labels)
    link = '{"target": %d, "relation": "supports", "note": %s}' % (passage["id"] + 1, value)
    assert message in refused_by_api(app, corpus, "POST", f"/api/passages/{passage['id']}/links", link)


def test_a_deep_json_body_is_refused_before_anything_is_read(app, corpus, passage):
    assert DEEP_MESSAGE in refused_by_api(app, corpus, "PUT", f"/api/passages/{passage['id']}/labels", DEEP)


def test_odd_json_in_the_corpus_label_files_stops_the_load_with_the_line(app, corpus, passage):
    path = mirror.label_file(corpus / "labels", DOC)
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join([lines[0], label_record(passage, DEEP).rstrip("\n"), *lines[1:]]), encoding="utf-8")
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{path.name} line 2: {DEEP_MESSAGE}" in result.output


@pytest.mark.parametrize(
    ("place", "odd", "message"),
    [("label file", TOO_FAR, POSITION_MESSAGE), ("seed file", DEEP, DEEP_MESSAGE),
     ("seed file", HUGE, HUGE_MESSAGE)],
)
def test_odd_values_in_the_corpus_files_stop_the_load_with_the_line(app, corpus, passage, place, odd, message):
    if place == "label file":
        path = mirror.label_file(corpus / "labels", DOC)
        record = json.loads(label_record(passage, "null"))
        path.write_text(json.dumps({**record, "position": odd}) + "\n", encoding="utf-8")
    else:
        path = corpus / "seeds" / "odd.jsonl"
        path.write_text(f'{{"document": "odd-doc", "text": "Fine."}}\n{{"document": "odd-doc", "text": {odd}}}\n',
                        encoding="utf-8")
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"{path.name} line {1 if place == 'label file' else 2}: {message}" in result.output
    assert not any(sign in result.output for sign in TRACEBACK), result.output


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [("COUNTERPOINT_ANNOTATOR", "Adjudicator", "is reserved for adjudicated labels"),
     ("COUNTERPOINT_TRUSTED_HOSTS", "counterpoint.lan bad/host", "'bad/host' is not a host name")],
)
def test_a_setting_the_app_cannot_use_is_a_message_not_a_traceback(corpus, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "annotators", "list"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert message in result.output
    assert not any(sign in result.output for sign in TRACEBACK), result.output


def test_json_that_is_not_odd_still_parses(app, corpus, tmp_path, passage):
    """Brackets and digits inside strings, a surrogate pair (ASCII JSON writes 😀 as one), and an
    escaped backslash before "ud800" are text like any other."""
    text = "[" * 300 + "1" * 300 + " 😀 \\ud800"
    path = tmp_path / "fine.jsonl"
    path.write_text(json.dumps({"document": "fine-doc", "text": text}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "documents", "import", "--jsonl", str(path)])
    assert result.exit_code == 0, result.output
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        stored = db.execute("SELECT text FROM passages WHERE document = 'fine-doc'").fetchone()[0]
    finally:
        db.close()
    assert stored == text


# --- Positions and ids past SQLite's integers -----------------------------------------------------

def csv_file(passage, position: str) -> str:
    """A CSV file with one label on the passage, at `position`."""
    return f'document,position,topic,stance,annotator,text\n{DOC},{position},security,favour,bea,"{passage["text"]}"\n'


@pytest.mark.parametrize(
    ("args", "name", "make", "message"),
    [
        (["exchange", "import", "--format", "csv"], "l.csv", lambda p: csv_file(p, str(TOO_FAR)),
         f"line 2: {POSITION_MESSAGE}"),
        (["exchange", "import", "--format", "csv"], "l.csv", lambda p: csv_file(p, HUGE),
         "line 2: position must be a whole number >= 0 (and below 2^63), not “1111"),
        (["exchange", "import", "--format", "labelstudio"], "t.json", lambda p: json.dumps(
            [{"data": {"text": p["text"], "document": DOC, "position": TOO_FAR}, "annotations": [{"result": []}]}]),
         f"task 1 annotation 1: {POSITION_MESSAGE}"),
        (["exchange", "import", "--format", "doccano"], "d.jsonl", lambda p: json.dumps(
            {"text": p["text"], "document": DOC, "position": TOO_FAR, "label": []}) + "\n", f"line 1: {POSITION_MESSAGE}"),
        (["labels", "import"], "bea.jsonl", lambda p: json.dumps(
            {"document": DOC, "position": TOO_FAR, "topic": "security", "stance": "favour", "annotator": "bea",
             "text": p["text"]}) + "\n", f"bea.jsonl line 1: {POSITION_MESSAGE}"),
    ],
    ids=["csv 2^64", "csv 5,000 digits", "labelstudio", "doccano", "labels import"],
)
def test_a_position_past_sqlites_integers_is_refused_with_its_line(app, corpus, tmp_path, passage, args, name, make,
                                                                   message):
    assert message in refused_by_cli(corpus, tmp_path, args, name, make(passage))


@pytest.mark.parametrize("n", [2**63, TOO_FAR])
def test_an_id_past_sqlites_integers_is_not_found_on_every_api_route(app, corpus, passage, n):
    client = api_client(app)
    headers = {"X-CSRFToken": TOKEN}
    before = snapshot(corpus)
    replies = [
        client.get(f"/api/passages/{n}"),
        client.get(f"/api/passages/{n}/related"),
        client.put(f"/api/passages/{n}/labels", json={"labels": []}, headers=headers),
        client.post(f"/api/passages/{n}/links", json={"target": passage["id"], "relation": "supports"},
                    headers=headers),
        client.post(f"/api/passages/{passage['id']}/links", json={"target": n, "relation": "supports"},
                    headers=headers),
        client.delete(f"/api/passages/{n}/links/{passage['id']}", headers=headers),
        client.delete(f"/api/passages/{passage['id']}/links/{n}", headers=headers),
    ]
    assert [r.status_code for r in replies] == [404] * len(replies)
    # An id in the path never matches a route, yet a script still gets the API's JSON error.
    assert all(r.is_json and r.get_json()["error"] for r in replies)
    assert "no passage number" in replies[4].get_json()["error"]
    assert snapshot(corpus) == before


# --- Lone surrogates in the fields no label rule reads --------------------------------------------

@pytest.mark.parametrize("field", ["text", "title", "document"])
def test_a_lone_surrogate_in_a_jsonl_field_is_refused_with_its_line(app, corpus, tmp_path, field):
    line = {"document": "fresh-doc", "text": "A new passage.", "labels": [{"topic": "security", "stance": "favour"}]}
    content = json.dumps({**line, field: "x \ud800"}) + "\n"
    output = refused_by_cli(corpus, tmp_path, ["documents", "import", "--jsonl"], "s.jsonl", content)
    assert "s.jsonl line 1: The JSON (at column" in output and SURROGATE_MESSAGE in output


@pytest.mark.parametrize("annotator", ["b\udc00", "\ud800"])
def test_a_lone_surrogate_in_an_annotator_is_refused_with_its_line(app, corpus, tmp_path, passage, annotator):
    content = json.dumps({"text": passage["text"], "document": DOC, "position": passage["position"],
                          "label": ["security:favour"], "annotator": annotator}) + "\n"
    output = refused_by_cli(corpus, tmp_path, ["exchange", "import", "--format", "doccano"], "d.jsonl", content)
    assert "line 1: The JSON (at column" in output and "holds a lone surrogate" in output


# --- A charset browsers do not read ---------------------------------------------------------------

def page(charset: str, body: str = "Café society") -> str:
    """An article page declaring `charset`, its paragraphs starting with `body`."""
    paragraphs = "".join(f"<p>{body}: paragraph {i} of an article long enough to be its main text, with"
                         " sentences that say something about talks in Kabul and returns.</p>" for i in range(4))
    return (f'<html><head><meta charset="{charset}"><title>Talks</title></head><body><article>'
            f"{paragraphs}</article></body></html>")


@pytest.mark.parametrize("charset", ["undefined", "klingon", "unicode_escape", "utf-7", "utf-16", "x-user-defined"])
def test_a_page_with_a_charset_browsers_do_not_read_is_read_as_utf8(app, corpus, tmp_path, charset):
    path = tmp_path / "page.html"
    path.write_bytes(page(charset, "Café \\ud800 +2AA-").encode("utf-8"))
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "documents", "import", str(path)])
    assert result.exit_code == 0, result.output
    saved = (corpus / "seeds" / "page.txt").read_text(encoding="utf-8")
    assert "Café \\ud800 +2AA-: paragraph 0" in saved


def test_an_upload_with_an_unknown_charset_is_previewed_as_utf8(app):
    client = api_client(app)
    data = {"csrf_token": TOKEN, "file": (io.BytesIO(page("undefined").encode("utf-8")), "page.html")}
    reply = client.post("/add/preview", data=data, content_type="multipart/form-data")
    assert reply.status_code == 200
    texts = [t.get_text() for t in BeautifulSoup(reply.get_data(as_text=True), "html.parser").select(
        'textarea[name="passage"]')]
    assert texts[0].startswith("Café society: paragraph 0")


def test_bytes_that_are_not_utf8_under_an_unknown_charset_are_refused_naming_it(app, corpus, tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(page("klingon").encode("latin-1"))
    before = snapshot(corpus)
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "documents", "import", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "page.html is not valid UTF-8 text (its declared charset 'klingon' is none that browsers read" in result.output
    assert snapshot(corpus) == before


# --- A topic given as a list ----------------------------------------------------------------------

@pytest.mark.parametrize("add_topics", [["--add-topics"], []])
def test_a_topic_given_as_a_list_is_refused_with_its_line(app, corpus, tmp_path, add_topics):
    label = {"topic": ["water", "power"], "stance": "favour"}
    content = json.dumps({"document": "fresh-doc", "text": "A new passage.", "labels": [label]}) + "\n"
    output = refused_by_cli(corpus, tmp_path, ["documents", "import", "--jsonl", *add_topics], "t.jsonl", content)
    assert ("t.jsonl line 1: A label has one topic, given as text, not ['water', 'power']: give each topic a label"
            " of its own.") in output


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("topic_name", ["Water"], "'name' must be text, not ['Water']"),
     ("topic_target", {"text": "Dams help."}, "'target' must be text, not {'text': 'Dams help.'}")],
)
def test_a_new_topics_name_or_target_given_as_a_list_is_refused_with_its_line(app, corpus, tmp_path, field, value,
                                                                              message):
    label = {"topic": "water", "stance": "favour", field: value}
    content = json.dumps({"document": "fresh-doc", "text": "A new passage.", "labels": [label]}) + "\n"
    output = refused_by_cli(corpus, tmp_path, ["documents", "import", "--jsonl", "--add-topics"], "t.jsonl", content)
    assert f"t.jsonl line 1: new topic: topic 'water': {message}" in output
