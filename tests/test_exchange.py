"""Exports and imports: golden files for every format, round trips, and all-or-nothing imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webapp.corpus import sources, taxonomy
from webapp.interchange import formats, transfer
from webapp.labels import editor, mirror
from webapp.labels.build import build
from webapp.labels.records import LabelRecord
from webapp.store.db import connect

DATA = Path(__file__).parent / "data"
TAXONOMY = taxonomy.parse({"topics": [
    {"id": "climate", "name": "Climate policy", "target": "Carbon taxes are right.",
     "labels": {"favour": "For the tax", "against": "Against the tax"}},
    {"id": "housing", "name": "Housing", "target": "Cities should build more homes."},
]})
TEXTS = [
    "A carbon tax works, says the minister.",
    'Critics call it "a tax on the poor", and say: no.',
    "Rents rose 8 % — again; builders blame zoning.\nSecond line.",
    "Nothing about either topic here.",
]
# Every case a format has to carry: two annotators, two topics on one passage, holders with
# quotes and commas, no holder, and "no topic applies".
LABELS = [
    (0, "climate", "favour", "the minister", "alice"),
    (0, "climate", "neutral", None, "bob"),
    (1, "climate", "against", 'critics, "the poor"', "alice"),
    (2, "housing", "against", "builders", "alice"),
    (2, "climate", "neutral", None, "alice"),
    (3, None, None, None, "alice"),
]
FORMAT_FILES = {"csv": "labels.csv", "labelstudio": "labels.labelstudio.json", "doccano": "labels.doccano.jsonl",
                "prodigy": "labels.prodigy.jsonl"}


def small_corpus(db, with_labels: bool = True) -> None:
    """One pre-split document with four passages, the two-topic taxonomy and, optionally, LABELS."""
    taxonomy.sync(db, TAXONOMY)
    metadata = {"title": "Tax, homes & more", "outlet": "The Daily", "date": "2026-01-02", "language": "en"}
    sources.store_documents(db, [sources.presplit_document("news.jsonl", TEXTS, metadata)])
    if with_labels:
        mirror.store(db, [
            LabelRecord("news.jsonl", pos, topic, stance, holder, who, "2026-02-03T04:05:06Z", TEXTS[pos])
            for pos, topic, stance, holder, who in LABELS
        ])


def label_set(db) -> list[tuple]:
    """Every current label as a comparable tuple."""
    return sorted(
        (r["document"], r["position"], r["topic"], r["stance"], r["holder"], r["annotator"], r["updated"])
        for r in transfer.label_rows(db)
    )


@pytest.fixture
def small_db(memory_db):
    small_corpus(memory_db)
    return memory_db


@pytest.fixture
def fresh_db():
    """The small corpus without any labels."""
    database = connect(":memory:")
    small_corpus(database, with_labels=False)
    yield database
    database.close()


@pytest.mark.parametrize("name", formats.FORMATS)
def test_export_matches_the_golden_file(small_db, name):
    text = formats.FORMATS[name].export(transfer.label_rows(small_db), TAXONOMY)
    assert text == (DATA / FORMAT_FILES[name]).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", formats.FORMATS)
def test_golden_file_imports_into_a_fresh_database_as_the_same_labels(small_db, fresh_db, name):
    items = formats.FORMATS[name].parse((DATA / FORMAT_FILES[name]).read_text(encoding="utf-8"), TAXONOMY, "nobody")
    made = transfer.import_items(fresh_db, items, f"Imported {name}")
    assert len(made) == 5  # one per (passage, annotator)
    assert label_set(fresh_db) == label_set(small_db)
    history = list(fresh_db.query("SELECT note FROM label_changes"))
    assert {h["note"] for h in history} == {f"Imported {name}"}


@pytest.mark.parametrize("name", formats.FORMATS)
def test_the_seed_corpus_round_trips(app, tmp_path, name):
    db = connect(app.config["DATABASE"])
    tax, before = taxonomy.from_db(db), label_set(db)
    text = formats.FORMATS[name].export(transfer.label_rows(db), tax)
    db.close()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "taxonomy.toml").write_text(
        (Path(app.config["LABELS_DIR"]) / "taxonomy.toml").read_text(encoding="utf-8"), encoding="utf-8")
    fresh = connect(tmp_path / "fresh.db")
    build(fresh, Path(app.config["SEEDS_DIR"]), tmp_path / "empty")
    assert label_set(fresh) == []
    transfer.import_items(fresh, formats.FORMATS[name].parse(text, tax, "nobody"), "round trip")
    assert label_set(fresh) == before and len(before) > 50
    fresh.close()


def test_importing_the_same_file_again_changes_nothing(small_db):
    text = formats.export_labelstudio(transfer.label_rows(small_db), TAXONOMY)
    assert transfer.import_items(small_db, formats.parse_labelstudio(text, TAXONOMY, "x"), "again") == []


def test_an_import_replaces_that_annotators_labels_on_the_passage_only(small_db):
    line = {"text": TEXTS[0], "document": "news.jsonl", "position": 0, "annotator": "alice",
            "label": ["housing:favour"], "holders": {"housing": "someone"}}
    items = formats.parse_doccano(json.dumps(line), TAXONOMY, "x")
    [change] = transfer.import_items(small_db, items, "one line")
    assert [r["topic"] for r in change.before] == ["climate"]
    rows = {(r["position"], r["annotator"]): (r["topic"], r["stance"], r["holder"])
            for r in transfer.label_rows(small_db) if r["position"] == 0}
    assert rows == {(0, "alice"): ("housing", "favour", "someone"), (0, "bob"): ("climate", "neutral", None)}


def test_a_real_label_studio_export_imports(fresh_db):
    """Label Studio's own export: user ids, "email, id" usernames, cancelled annotations, no anchors."""
    items = formats.parse_labelstudio((DATA / "labelstudio-export.json").read_text(encoding="utf-8"), TAXONOMY, "x")
    transfer.import_items(fresh_db, items, "from Label Studio")
    rows = transfer.label_rows(fresh_db)
    assert [(r["position"], r["topic"], r["stance"], r["holder"], r["annotator"]) for r in rows] == [
        (0, "climate", "favour", "the minister", "alice@example.com"),
        (1, "climate", "against", None, "labelstudio-user-7"),
    ]


def test_the_label_studio_config_names_every_field_the_export_uses(small_db):
    config = formats.labelstudio_config(TAXONOMY)
    exported = json.loads(formats.export_labelstudio(transfer.label_rows(small_db), TAXONOMY))
    names = {r["from_name"] for task in exported for a in task["annotations"] for r in a["result"]}
    assert names == {"topic", "stance_climate", "stance_housing", "holder_climate", "holder_housing"}
    assert all(f'name="{n}"' in config for n in names)
    assert 'value="$text"' in config and "For the tax" in config


BAD = {
    "csv": ("document,position,topic,stance,annotator,text\n"
            "news.jsonl,0,weather,favour,alice,x\n"
            "news.jsonl,zero,climate,favour,alice,x\n"
            "news.jsonl,1,climate,maybe,alice,x\n",
            ["line 2: Unknown topic “weather”", "line 3: position must be", "line 4: Unknown stance “maybe”"]),
    "doccano": ('{"text": "x", "label": ["climate:favour"]}\nnot json\n[1]\n{"text": "x", "label": ["climate"]}\n',
                ["line 2: not valid JSON", "line 3: a line must hold a JSON object", "line 4: label 'climate' is not"]),
    "prodigy": ('{"text": "", "accept": []}\n{"text": "x", "accept": "climate:favour"}\n',
                ["line 1: “text” must be non-empty", 'line 2: "accept" must be a list']),
    "labelstudio": ('[{"data": {"text": "x"}, "annotations": [{"result": [{"from_name": "topic", "type": "choices",'
                    ' "value": {"choices": ["climate"]}}]}]}, 5]',
                    ["task 1 annotation 1: Topic climate needs a stance", "task 2: a task must be"]),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_file_reports_every_problem_with_its_place(name):
    text, expected = BAD[name]
    with pytest.raises(transfer.ExchangeError) as caught:
        formats.FORMATS[name].parse(text, TAXONOMY, "x")
    assert len(caught.value.problems) == len(expected)
    for problem, start in zip(caught.value.problems, expected):
        assert problem.startswith(start), problem


def test_an_import_with_one_bad_passage_changes_nothing(small_db):
    before = label_set(small_db)
    lines = [
        {"text": TEXTS[3], "document": "news.jsonl", "position": 3, "label": ["housing:neutral"]},
        {"text": "Different text", "document": "news.jsonl", "position": 1, "label": []},
        {"text": "x", "document": "news.jsonl", "position": 99, "label": []},
        {"text": "Text that is nowhere", "label": []},
    ]
    items = formats.parse_doccano("\n".join(map(json.dumps, lines)), TAXONOMY, "alice")
    with pytest.raises(transfer.ExchangeError) as caught:
        transfer.import_items(small_db, items, "bad")
    assert [p.split(":")[0] for p in caught.value.problems] == ["line 2", "line 3", "line 4"]
    assert "differs" in caught.value.problems[0] and "not found" in caught.value.problems[1]
    assert label_set(small_db) == before


def test_a_passage_without_anchors_is_found_by_its_text(small_db):
    items = formats.parse_prodigy(json.dumps({"text": TEXTS[3], "accept": ["housing:favour"], "answer": "accept",
                                              "_annotator_id": "carol"}), TAXONOMY, "x")
    transfer.import_items(small_db, items, "by text")
    assert ("news.jsonl", 3, "housing", "favour", None, "carol") in [row[:6] for row in label_set(small_db)]


def test_prodigy_rejected_and_ignored_answers_are_not_labels():
    lines = [{"text": "x", "accept": ["climate:favour"], "answer": a} for a in ("reject", "ignore")]
    assert formats.parse_prodigy("\n".join(map(json.dumps, lines)), TAXONOMY, "x") == []


def test_csv_reads_back_with_the_csv_module_as_pandas_would(small_db):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(formats.export_csv(transfer.label_rows(small_db), TAXONOMY))))
    assert len(rows) == len(LABELS)
    assert rows[2]["holder"] == 'critics, "the poor"' and rows[2]["title"] == "Tax, homes & more"
    assert rows[3]["text"].endswith("\nSecond line.")
    assert rows[-1]["topic"] == "" and rows[-1]["stance"] == ""


def test_imports_write_the_label_files(small_db, tmp_path):
    items = formats.parse_doccano(json.dumps({"text": TEXTS[3], "document": "news.jsonl", "position": 3,
                                              "annotator": "dan", "label": ["climate:against"]}), TAXONOMY, "x")
    made = transfer.import_items(small_db, items, "files")
    editor.write_files(small_db, tmp_path, {c.document for c in made})
    written = (tmp_path / "passages" / "news.jsonl.jsonl").read_text(encoding="utf-8")
    assert '"annotator": "dan"' in written


@pytest.mark.parametrize("name", formats.FORMATS)
def test_download_buttons_serve_each_format_as_a_file(client, db, name):
    response = client.get(f"/downloads/labels.{name}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"counterpoint-labels-")
    expected = formats.FORMATS[name].export(transfer.label_rows(db), taxonomy.from_db(db))
    assert response.get_data(as_text=True) == expected


def test_the_overview_offers_the_downloads_outside_htmx_boosting(client):
    from bs4 import BeautifulSoup

    page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    links = page.select("#downloads .downloads a")
    assert page.select_one("#downloads .downloads")["hx-boost"] == "false"
    assert [a["href"] for a in links] == ["/downloads/labels.csv", "/downloads/labels.labelstudio",
                                          "/downloads/labelstudio-config.xml", "/downloads/labels.doccano",
                                          "/downloads/labels.prodigy"]
    assert client.get("/downloads/labelstudio-config.xml").get_data(as_text=True).startswith("<View>")
    assert client.get("/downloads/labels.xlsx").status_code == 404


def test_cli_export_then_import_labels(app, corpus, runner, tmp_path):
    from webapp.cli import main

    out = tmp_path / "tasks.json"
    result = runner.invoke(main, ["--corpus", str(corpus), "exchange", "export", "--format", "labelstudio", "--output", str(out)])
    assert result.exit_code == 0, result.output
    tasks = json.loads(out.read_text(encoding="utf-8"))
    tasks[0]["annotations"][0]["created_username"] = "erin"
    out.write_text(json.dumps(tasks), encoding="utf-8")
    result = runner.invoke(main, ["--corpus", str(corpus), "exchange", "import", "--format", "labelstudio", str(out)])
    assert result.exit_code == 0, result.output
    assert "labels changed on 1 of them" in result.output
    label_file = corpus / "labels" / "passages" / f"{tasks[0]['data']['document']}.jsonl"
    assert '"annotator": "erin"' in label_file.read_text(encoding="utf-8")
    stdout = runner.invoke(main, ["--corpus", str(corpus), "exchange", "export", "--format", "csv"])
    assert stdout.exit_code == 0 and stdout.output.startswith("passage_id,document,position,topic")


def test_cli_import_is_all_or_nothing_and_names_the_lines(app, corpus, runner, tmp_path):
    from webapp.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": ["security:favour"]}\n{oops\n', encoding="utf-8")
    result = runner.invoke(main, ["--corpus", str(corpus), "exchange", "import", "--format", "doccano", str(bad)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output and "line 2: not valid JSON" in result.output
    assert "line 1: no document and position, and the text matches no passage" not in result.output


def test_a_csv_field_too_large_to_read_is_refused_with_its_line_not_a_traceback():
    header = "passage_id,document,position,topic,stance,holder,annotator,updated,text\n"
    huge = '1,news.jsonl,0,climate,favour,,alice,2026-01-01T00:00:00Z,"' + "x" * 200_000 + '"\n'
    with pytest.raises(transfer.ExchangeError, match=r"line \d+: not readable as CSV"):
        formats.FORMATS["csv"].parse(header + huge, TAXONOMY, "nobody")


def test_csv_refuses_no_topic_beside_a_topic_label_of_the_same_annotator():
    header = "passage_id,document,position,topic,stance,holder,annotator,updated,text\n"
    rows = ("1,news.jsonl,0,climate,favour,,alice,2026-01-01T00:00:00Z,A carbon tax works.\n"
            "1,news.jsonl,0,,,,alice,2026-01-01T00:00:00Z,A carbon tax works.\n")
    with pytest.raises(transfer.ExchangeError, match="line 3: “No topic applies” cannot sit beside topic labels"):
        formats.FORMATS["csv"].parse(header + rows, TAXONOMY, "nobody")


@pytest.mark.parametrize("name", formats.FORMATS)
def test_no_format_imports_labels_as_the_adjudicator(small_db, name):
    exported = formats.FORMATS[name].export(transfer.label_rows(small_db), TAXONOMY).replace("bob", "adjudicator")
    with pytest.raises(transfer.ExchangeError) as caught:
        formats.FORMATS[name].parse(exported, TAXONOMY, "nobody")
    [problem] = caught.value.problems
    assert "The annotator “adjudicator” is reserved for labels adjudicated on the Disagreements page" in problem


def test_the_adjudicator_is_refused_as_the_annotator_of_a_file_that_names_none(small_db):
    line = json.dumps({"text": TEXTS[0], "document": "news.jsonl", "position": 0, "label": ["climate:favour"]})
    with pytest.raises(transfer.ExchangeError, match="^line 1: The annotator “adjudicator” is reserved"):
        formats.FORMATS["doccano"].parse(line + "\n", TAXONOMY, "adjudicator")
    assert formats.FORMATS["doccano"].parse(line + "\n", TAXONOMY, "erin")[0].annotator == "erin"
