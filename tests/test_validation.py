"""One label validator for every way in: each bad label is refused by every entry point that can
carry it, with the validator's own message, and nothing is written."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from webapp.corpus import taxonomy
from webapp.interchange import formats, transfer
from webapp.labels import batches, fileimport, mirror, validation
from webapp.labels.build import build
from webapp.labels.records import LabelFileError
from webapp.labels.validation import MAX_HOLDER, MAX_LINE_BYTES, MAX_NOTE, LabelError
from webapp.web import api

DOC = "003_bbfe681b051be986.txt"
TOPICS = ("recognition", "deportation", "womens_rights", "security")
TOKEN = "t"
UPDATED = "2024-01-01T00:00:00Z"


@dataclass(frozen=True)
class Case:
    """A bad label (or note, or line) and the phrase its refusal must carry."""

    name: str
    phrase: str
    topic: object = "security"
    stance: object = "favour"
    holder: object = None
    note: str | None = None
    long_line: bool = False


# The limits are written out, not read from the validator: they are a promise to users (the
# forms and the API description state them), so a changed constant must fail here.
CASES = [
    Case("unknown topic", "Unknown topic “weather”", topic="weather"),
    Case("unknown stance", "Unknown stance “maybe” for topic security", stance="maybe"),
    Case("holder too long", "a holder can be at most 200 characters", holder="h" * 201),
    Case("control character in holder", "contains a control character (U+0007)", holder="Ann\x07Lee"),
    Case("holder without stance", "The holder “Ann Lee” is given without a stance", stance=None, holder="Ann Lee"),
    Case("stance without topic", "The stance “favour” is given without a topic", topic=None),
    Case("note too long", "a note can be at most 500 characters", note="n" * 501),
    Case("control character in note", "The note contains a control character (U+0007)", note="why\x07not"),
    Case("overlong line", "a line can be at most 1,000,000 bytes", long_line=True),
]
LABEL_CASES = {c.name for c in CASES if c.note is None and not c.long_line}
NOTE_CASES = {c.name for c in CASES if c.note is not None}


def expected(case: Case) -> str:
    """The message the validator itself gives for a case; a line's size differs by format, so
    for an overlong line only the phrase is common."""
    if case.long_line:
        return case.phrase
    with pytest.raises(LabelError) as caught:
        if case.note is not None:
            validation.check_note(case.note)
        else:
            validation.check_label(case.topic, case.stance, case.holder, topics=TOPICS)
    return str(caught.value)


@dataclass
class Target:
    """Where a bad label is sent: the app, its database, a passage and another, the corpus folder."""

    app: object
    db: object
    passage: dict
    other: int
    corpus: Path
    tmp_path: Path

    def client(self):
        """A test client whose session holds a known CSRF token."""
        client = self.app.test_client()
        with client.session_transaction() as session:
            session["csrf_token"] = TOKEN
        return client

    def record(self, case: Case) -> dict:
        """The case as a label-file record on the passage."""
        text = "x" * MAX_LINE_BYTES if case.long_line else self.passage["text"]
        return {"document": DOC, "position": self.passage["position"], "topic": case.topic, "stance": case.stance,
                "holder": case.holder, "annotator": "importer", "updated": UPDATED, "text": text}


def form_text(response) -> str:
    """A page's text with its spacing folded, as a reader sees it."""
    return " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split())


# Each entry point sends a case its own way and returns the refusal as its user sees it.

def via_label_form(t: Target, case: Case) -> str:
    data = {"csrf_token": TOKEN, f"stance-{case.topic}": case.stance, f"holder-{case.topic}": case.holder or "",
            "note": case.note or ""}
    response = t.client().post(f"/label/{t.passage['id']}", data=data)
    assert response.status_code == 400
    return form_text(response)


def via_api(t: Target, case: Case) -> str:
    body = {"labels": [{"topic": case.topic, "stance": case.stance, "holder": case.holder}], "note": case.note}
    response = t.client().put(f"/api/passages/{t.passage['id']}/labels", json=body, headers={"X-CSRFToken": TOKEN})
    assert response.status_code == 400
    return response.get_json()["error"]


def via_jsonl_batch(t: Target, case: Case) -> str:
    text = "x" * MAX_LINE_BYTES if case.long_line else "A passage of a new document."
    label = {"topic": case.topic, "stance": case.stance, "holder": case.holder}
    lines = [json.dumps({"document": "fresh-doc", "text": "Fine."}), json.dumps(
        {"document": "fresh-doc", "text": text, "labels": [label]})]
    with pytest.raises(batches.BadInput) as caught:
        batch = batches.parse_jsonl(lines, TOPICS, "importer", UPDATED)
        batches.save_batch(t.db, t.corpus / "seeds", t.corpus / "labels", batch, "fresh")
    assert caught.value.args[0].startswith("line 2: ")
    return str(caught.value)


def via_label_file_load(t: Target, case: Case) -> str:
    path = mirror.label_file(t.corpus / "labels", DOC)
    path.write_text(path.read_text(encoding="utf-8") + json.dumps(t.record(case)) + "\n", encoding="utf-8")
    with pytest.raises(LabelFileError) as caught:
        build(t.db, t.corpus / "seeds", t.corpus / "labels")
    [problem] = caught.value.problems
    assert problem.startswith(f"{path.name} line ")
    return problem


def via_labels_import(t: Target, case: Case) -> str:
    path = t.tmp_path / "import.jsonl"
    path.write_text(json.dumps(t.record(case)) + "\n", encoding="utf-8")
    with pytest.raises(LabelFileError) as caught:
        fileimport.import_files(t.db, [path], TOPICS)
    [problem] = caught.value.problems
    assert problem.startswith("import.jsonl line 1: ")
    return problem


def exchange(t: Target, name: str, text: str) -> str:
    with pytest.raises(transfer.ExchangeError) as caught:
        items = formats.FORMATS[name].parse(text, taxonomy.load(t.corpus / "labels" / "taxonomy.toml"), "importer")
        transfer.import_items(t.db, items, "test import")
    [problem] = caught.value.problems
    return problem


def via_csv(t: Target, case: Case) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["document", "position", "topic", "stance", "holder", "annotator", "text"])
    writer.writerow([DOC, t.passage["position"], case.topic or "", case.stance or "", case.holder or "", "importer",
                     t.passage["text"]])
    return exchange(t, "csv", out.getvalue())


def via_labelstudio(t: Target, case: Case) -> str:
    def result(name: str, value: dict) -> dict:
        return {"from_name": name, "to_name": "text", "type": "choices", "value": value}

    results = [result("topic", {"choices": [case.topic]})]
    if case.stance:
        results.append(result(f"stance_{case.topic}", {"choices": [case.stance]}))
    if case.holder:
        results.append(result(f"holder_{case.topic}", {"text": [case.holder]}))
    task = {"data": {"text": t.passage["text"], "document": DOC, "position": t.passage["position"]},
            "annotations": [{"created_username": "importer", "result": results}]}
    return exchange(t, "labelstudio", json.dumps([task]))


def pair_line(t: Target, case: Case, **extra) -> str:
    text = "x" * MAX_LINE_BYTES if case.long_line else t.passage["text"]
    holders = {case.topic: case.holder} if case.holder else {}
    return json.dumps({"text": text, "holders": holders, **extra}) + "\n"


def via_doccano(t: Target, case: Case) -> str:
    line = pair_line(t, case, document=DOC, position=t.passage["position"], annotator="importer",
                     label=[f"{case.topic}:{case.stance or ''}"])
    return exchange(t, "doccano", line)


def via_prodigy(t: Target, case: Case) -> str:
    line = pair_line(t, case, meta={"document": DOC, "position": t.passage["position"]}, answer="accept",
                     _annotator_id="importer", accept=[f"{case.topic}:{case.stance or ''}"])
    return exchange(t, "prodigy", line)


def via_link_form(t: Target, case: Case) -> str:
    data = {"csrf_token": TOKEN, "target": str(t.other), "relation": "supports", "note": case.note}
    response = t.client().post(f"/passages/{t.passage['id']}/links", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 400
    return form_text(response)


def via_link_api(t: Target, case: Case) -> str:
    body = {"target": t.other, "relation": "supports", "note": case.note}
    response = t.client().post(f"/api/passages/{t.passage['id']}/links", json=body, headers={"X-CSRFToken": TOKEN})
    assert response.status_code == 400
    return response.get_json()["error"]


# What each entry point can carry. The labelling form ties each holder to a topic row and
# ignores it beside "Not about it" (the form sends every row's holder, filled in from earlier
# labels), and has no stance without a topic; the API, Label Studio, doccano and Prodigy name
# a topic for every label; notes are typed only on screens and in the API; lines only bound
# JSON Lines files.
ENTRY_POINTS = {
    "label form": (via_label_form, LABEL_CASES - {"holder without stance", "stance without topic"} | NOTE_CASES),
    "api": (via_api, LABEL_CASES - {"stance without topic"} | NOTE_CASES),
    "jsonl batch": (via_jsonl_batch, LABEL_CASES | {"overlong line"}),
    "label file load": (via_label_file_load, LABEL_CASES | {"overlong line"}),
    "labels import": (via_labels_import, LABEL_CASES | {"overlong line"}),
    "csv": (via_csv, LABEL_CASES),
    "labelstudio": (via_labelstudio, LABEL_CASES - {"stance without topic"}),
    "doccano": (via_doccano, LABEL_CASES - {"stance without topic"} | {"overlong line"}),
    "prodigy": (via_prodigy, LABEL_CASES - {"stance without topic"} | {"overlong line"}),
    "link form": (via_link_form, NOTE_CASES),
    "link api": (via_link_api, NOTE_CASES),
}
COMBINATIONS = [
    pytest.param(entry, case, id=f"{entry}: {case.name}")
    for entry, (_, handled) in ENTRY_POINTS.items()
    for case in CASES
    if case.name in handled
]


def written(db, corpus: Path) -> tuple:
    """Everything an entry point could write: label, change and link rows, documents, and files."""
    rows = tuple(
        tuple(map(tuple, db.execute(f"SELECT * FROM {table} ORDER BY rowid")))
        for table in ("labels", "label_changes", "links", "documents", "passages", "topics")
    )
    files = {str(p.relative_to(corpus)): p.read_bytes() for p in sorted(corpus.rglob("*"))
             if p.is_file() and "instance" not in p.parts and ".locks" not in p.parts}
    return rows, files


@pytest.fixture
def target(app, db, corpus, tmp_path) -> Target:
    """The first two content passages of DOC: labels go to the first, links from it to the second."""
    passage, other = db.query(
        "SELECT * FROM passages WHERE document = ? AND kind = 'content' ORDER BY position LIMIT 2", [DOC]
    )
    return Target(app, db, passage, other["id"], corpus, tmp_path)


@pytest.mark.parametrize(("entry", "case"), COMBINATIONS)
def test_every_entry_point_refuses_with_the_validators_message_and_writes_nothing(target, entry, case):
    send = ENTRY_POINTS[entry][0]
    if entry == "label file load":
        # The bad record is written by the test itself; what must not change is the database.
        before = written(target.db, target.corpus)[0]
        message = send(target, case)
        assert written(target.db, target.corpus)[0] == before
    else:
        before = written(target.db, target.corpus)
        message = send(target, case)
        assert written(target.db, target.corpus) == before
    assert case.phrase in expected(case)
    assert expected(case) in message, message


def test_every_case_reaches_more_than_one_entry_point():
    for case in CASES:
        assert sum(case.name in handled for _, handled in ENTRY_POINTS.values()) > 1, case.name


@pytest.mark.parametrize(
    ("topic", "stance", "holder", "tidy"),
    [
        ("security", "favour", "  Ann \n\t Lee ", ("security", "favour", "Ann Lee")),
        ("security", "against", "   ", ("security", "against", None)),
        ("security", "neutral", "h" * MAX_HOLDER, ("security", "neutral", "h" * MAX_HOLDER)),
        (None, None, None, (None, None, None)),
        ("", "", "", (None, None, None)),
    ],
)
def test_good_labels_are_tidied_the_same_way_everywhere(topic, stance, holder, tidy):
    assert tuple(validation.check_label(topic, stance, holder, topics=TOPICS)) == tidy


def test_a_line_at_the_limit_passes_and_one_byte_more_is_refused():
    validation.check_line("é" * (MAX_LINE_BYTES // 2))
    with pytest.raises(LabelError, match="is 1,000,001 bytes"):
        validation.check_line("é" * (MAX_LINE_BYTES // 2) + "x")


def test_the_api_description_states_the_same_limits():
    update = json.loads(api.SPEC.read_text(encoding="utf-8"))["components"]["schemas"]["LabelsUpdate"]["properties"]
    assert update["labels"]["items"]["properties"]["holder"]["maxLength"] == MAX_HOLDER
    assert update["note"]["maxLength"] == MAX_NOTE


def test_the_forms_limit_what_a_browser_lets_through_to_the_same_lengths(client):
    page = BeautifulSoup(client.get("/label").get_data(as_text=True), "html.parser")
    assert {int(i["maxlength"]) for i in page.select('input[name^="holder-"]')} == {MAX_HOLDER}
    assert int(page.select_one('input[name="note"]')["maxlength"]) == MAX_NOTE
