"""One label validator for every way in: each bad label is refused by every entry point that can
carry it, with the validator's own message, and nothing is written. The passage size limit is
held the same way, by every way a passage comes in."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from webapp.cli import main
from webapp.corpus import splitting, taxonomy
from webapp.interchange import formats, transfer
from webapp.labels import batches, fileimport, mirror, validation
from webapp.labels.build import build
from webapp.labels.records import LabelFileError
from webapp.labels.validation import MAX_HOLDER, MAX_NOTE, LabelError
from webapp.store import jsonlines
from webapp.store.jsonlines import MAX_LINE_BYTES
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
    long_passage: bool = False
    annotator: str = "importer"


SURROGATE = "holds a lone surrogate (U+D800), half of a UTF-16 pair and no character"
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
    Case("passage too long", "a passage can be at most 20,000 characters", long_passage=True),
    Case("lone surrogate in holder", SURROGATE, holder="Ann \ud800"),
    Case("lone surrogate in note", SURROGATE, note="why \ud800"),
    Case("reserved annotator", "The annotator “adjudicator” is reserved", annotator="adjudicator"),
]
LABEL_CASES = {"unknown topic", "unknown stance", "holder too long", "control character in holder",
               "holder without stance", "stance without topic"}
NOTE_CASES = {c.name for c in CASES if c.note is not None}
SURROGATE_CASES = {"lone surrogate in holder"}
# Where the words differ by way in, only the phrase is common: a line's size differs by format, a
# lone surrogate sent as JSON is found in the JSON text before any field is read, and a long
# passage of a document is named by its number.
PHRASE_ONLY = {"overlong line", "passage too long", "lone surrogate in holder", "lone surrogate in note"}
# A passage one character over the limit.
LONG_PASSAGE = "x" * 20_001


def expected(case: Case) -> str:
    """The message the validator itself gives for a case, or the phrase alone (see PHRASE_ONLY)."""
    if case.name in PHRASE_ONLY:
        return case.phrase
    with pytest.raises(LabelError) as caught:
        if case.annotator != "importer":
            validation.check_annotator(case.annotator)
        elif case.note is not None:
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

    def text(self, case: Case) -> str:
        """The passage's text as a file gives it: the passage's own, or one that is too long."""
        if case.long_line:
            return "x" * MAX_LINE_BYTES
        return LONG_PASSAGE if case.long_passage else self.passage["text"]

    def record(self, case: Case) -> dict:
        """The case as a label-file record on the passage."""
        return {"document": DOC, "position": self.passage["position"], "topic": case.topic, "stance": case.stance,
                "holder": case.holder, "annotator": case.annotator, "updated": UPDATED, "text": self.text(case)}


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
    text = "A passage of a new document." if t.text(case) == t.passage["text"] else t.text(case)
    label = {"topic": case.topic, "stance": case.stance, "holder": case.holder, "annotator": case.annotator}
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
    writer.writerow([DOC, t.passage["position"], case.topic or "", case.stance or "", case.holder or "", case.annotator,
                     t.text(case)])
    return exchange(t, "csv", out.getvalue())


def via_labelstudio(t: Target, case: Case) -> str:
    def result(name: str, value: dict) -> dict:
        return {"from_name": name, "to_name": "text", "type": "choices", "value": value}

    results = [result("topic", {"choices": [case.topic]})]
    if case.stance:
        results.append(result(f"stance_{case.topic}", {"choices": [case.stance]}))
    if case.holder:
        results.append(result(f"holder_{case.topic}", {"text": [case.holder]}))
    task = {"data": {"text": t.text(case), "document": DOC, "position": t.passage["position"]},
            "annotations": [{"created_username": case.annotator, "result": results}]}
    return exchange(t, "labelstudio", json.dumps([task]))


def pair_line(t: Target, case: Case, **extra) -> str:
    holders = {case.topic: case.holder} if case.holder else {}
    return json.dumps({"text": t.text(case), "holders": holders, **extra}) + "\n"


def via_doccano(t: Target, case: Case) -> str:
    line = pair_line(t, case, document=DOC, position=t.passage["position"], annotator=case.annotator,
                     label=[f"{case.topic}:{case.stance or ''}"])
    return exchange(t, "doccano", line)


def via_prodigy(t: Target, case: Case) -> str:
    line = pair_line(t, case, meta={"document": DOC, "position": t.passage["position"]}, answer="accept",
                     _annotator_id=case.annotator, accept=[f"{case.topic}:{case.stance or ''}"])
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


# A document with a passage over the limit, as its second paragraph (on line 3).
DOCUMENT = f"A short first paragraph.\n\n{LONG_PASSAGE}\n"


def via_paste(t: Target, case: Case) -> str:
    data = {"csrf_token": TOKEN, "source_text": DOCUMENT}
    response = t.client().post("/add/preview", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    return form_text(response)


def via_upload(t: Target, case: Case) -> str:
    data = {"csrf_token": TOKEN, "file": (io.BytesIO(DOCUMENT.encode()), "long.txt")}
    response = t.client().post("/add/preview", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    message = form_text(response)
    assert "long.txt line 3: Passage 2 (“xxx" in message
    return message


def via_merge(t: Target, case: Case) -> str:
    halves = [LONG_PASSAGE[:10_000], LONG_PASSAGE[10_000:]]
    data = {"csrf_token": TOKEN, "name": "long.txt", "passage": halves, "passage_kind": ["content"] * 2,
            "passage_auto": ["content"] * 2, "action": "merge-0"}
    response = t.client().post("/add/edit", data=data)
    assert response.status_code == 422
    return form_text(response)


def via_text_import(t: Target, case: Case) -> str:
    path = t.tmp_path / "long.txt"
    path.write_text(DOCUMENT, encoding="utf-8")
    result = CliRunner().invoke(main, ["--corpus", str(t.corpus), "documents", "import", str(path)])
    assert result.exit_code == 1 and "nothing was imported" in result.output, result.output
    assert "long.txt line 3: Passage 2 (“xxx" in result.output
    return result.output


# What each entry point can carry. The labelling form ties each holder to a topic row and
# ignores it beside "Not about it" (the form sends every row's holder, filled in from earlier
# labels), and has no stance without a topic; the API, Label Studio, doccano and Prodigy name
# a topic for every label; notes are typed only on screens and in the API; lines only bound
# JSON Lines files. Forms cannot carry a lone surrogate (a browser sends U+FFFD instead), nor can
# a CSV file (it is read as UTF-8). The annotator comes from the session on screens and in the
# API; files name it, and the corpus's own label files rightly hold the adjudicator's labels, so
# loading them is no import. Passages come in through files and the add-document screens; the
# label files loaded with the corpus hold only passages that came in so.
FILES = LABEL_CASES | {"passage too long", "reserved annotator"}
ENTRY_POINTS = {
    "label form": (via_label_form, LABEL_CASES - {"holder without stance", "stance without topic"}
                   | NOTE_CASES - {"lone surrogate in note"}),
    "api": (via_api, LABEL_CASES - {"stance without topic"} | NOTE_CASES | SURROGATE_CASES),
    "jsonl batch": (via_jsonl_batch, FILES | SURROGATE_CASES | {"overlong line"}),
    "label file load": (via_label_file_load, LABEL_CASES | SURROGATE_CASES | {"overlong line"}),
    "labels import": (via_labels_import, FILES | SURROGATE_CASES | {"overlong line"}),
    "csv": (via_csv, FILES),
    "labelstudio": (via_labelstudio, FILES - {"stance without topic"} | SURROGATE_CASES),
    "doccano": (via_doccano, FILES - {"stance without topic"} | SURROGATE_CASES | {"overlong line"}),
    "prodigy": (via_prodigy, FILES - {"stance without topic"} | SURROGATE_CASES | {"overlong line"}),
    "link form": (via_link_form, NOTE_CASES - {"lone surrogate in note"}),
    "link api": (via_link_api, NOTE_CASES),
    "paste": (via_paste, {"passage too long"}),
    "upload": (via_upload, {"passage too long"}),
    "preview merge": (via_merge, {"passage too long"}),
    "text file import": (via_text_import, {"passage too long"}),
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


@pytest.mark.parametrize(
    ("check", "phrase"),
    [
        (lambda: splitting.check_passage(LONG_PASSAGE), "The passage is 20,001 characters; a passage can be at most"),
        (lambda: splitting.check_paragraphs(DOCUMENT), "Passage 2 (“xxx"),
        (lambda: validation.check_label("security", "favour", "Ann \ud800", topics=TOPICS), "The holder for topic security"),
        (lambda: validation.check_note("why \ud800"), "The note"),
        (lambda: jsonlines.check_json('{"note": "why \\ud800"}'), "The JSON (at column 15)"),
    ],
)
def test_the_rules_give_the_phrases_the_entry_points_are_checked_for(check, phrase):
    with pytest.raises(ValueError) as caught:
        check()
    assert phrase in str(caught.value)
    assert any(case.phrase in str(caught.value) for case in CASES if case.name in PHRASE_ONLY)


def test_a_passage_at_the_limit_passes_and_one_character_more_is_refused():
    assert splitting.check_passage("x" * 20_000)
    splitting.check_paragraphs(f"Short.\n\n{'x' * 20_000}\n")
    with pytest.raises(splitting.PassageError, match="is 20,001 characters"):
        splitting.check_passage(LONG_PASSAGE)


@pytest.mark.parametrize("name", ["adjudicator", "Adjudicator", " adjudicator ", "ＡＤＪＵＤＩＣＡＴＯＲ"])
def test_no_spelling_of_the_reserved_annotator_is_importable(name):
    with pytest.raises(LabelError, match="is reserved for labels adjudicated on the Disagreements page"):
        validation.check_annotator(name)
    assert validation.check_annotator("adjudicator-bea") == "adjudicator-bea"


def test_a_line_at_the_limit_passes_and_one_byte_more_is_refused():
    jsonlines.check_line("é" * (MAX_LINE_BYTES // 2))
    with pytest.raises(jsonlines.JsonTextError, match="is 1,000,001 bytes"):
        jsonlines.check_line("é" * (MAX_LINE_BYTES // 2) + "x")


def test_the_api_description_states_the_same_limits():
    update = json.loads(api.SPEC.read_text(encoding="utf-8"))["components"]["schemas"]["LabelsUpdate"]["properties"]
    assert update["labels"]["items"]["properties"]["holder"]["maxLength"] == MAX_HOLDER
    assert update["note"]["maxLength"] == MAX_NOTE


def test_the_forms_limit_what_a_browser_lets_through_to_the_same_lengths(client):
    page = BeautifulSoup(client.get("/label").get_data(as_text=True), "html.parser")
    assert {int(i["maxlength"]) for i in page.select('input[name^="holder-"]')} == {MAX_HOLDER}
    assert int(page.select_one('input[name="note"]')["maxlength"]) == MAX_NOTE
