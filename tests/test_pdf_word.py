"""PDF and Word files: read as paragraphs with their metadata, through /add and `documents import`."""

import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import csrf, import_documents, soup
from helpers_documents import make_docx, make_pdf

from webapp.corpus import pdfword, splitting, textfiles
from webapp.corpus.textfiles import BadInput
from webapp.store.db import connect

HEADER = "Riverside Water Council - Annual Report 2025"

# Three pages as a word processor lays them out: a running header, wrapped lines, a page footer.
PAGES = [
    [
        HEADER,
        "Sharing the river in a dry year",
        "The council met eleven times this year to settle how much water each",
        "of the four valleys may draw from the river in summer, when the flow",
        "falls to a third of its spring level.",
        "Farmers in the upper valley argued that their old canals give them a",
        "prior claim, while the towns downstream asked for a fixed share that",
        "does not depend on rainfall, and the council's own hydrology engi-",
        "neers proposed a sliding scale.",
        "Page 1 of 3",
    ],
    [
        HEADER,
        "The sliding scale ties every valley's share to the flow measured at the",
        "old stone bridge each Monday. When the river runs high, the towns take",
        "more; when it runs low, the farms keep theirs.",
        "Members from the towns accepted the scale for a trial of two summers,",
        "on the condition that the council publishes each week's measurements",
        "Page 2 of 3",
    ],
    [
        HEADER,
        "on its notice board before any gate is opened.",
        "Objections",
        "Two members voted against the trial. They said that a scale measured at",
        "a single bridge can be gamed by anyone who diverts water upstream.",
        "- 3 -",
    ],
]
PARAGRAPHS = [
    "Sharing the river in a dry year",
    "The council met eleven times this year to settle how much water each of the four valleys may draw from the"
    " river in summer, when the flow falls to a third of its spring level.",
    "Farmers in the upper valley argued that their old canals give them a prior claim, while the towns downstream"
    " asked for a fixed share that does not depend on rainfall, and the council's own hydrology engineers proposed"
    " a sliding scale.",
    "The sliding scale ties every valley's share to the flow measured at the old stone bridge each Monday. When the"
    " river runs high, the towns take more; when it runs low, the farms keep theirs.",
    "Members from the towns accepted the scale for a trial of two summers, on the condition that the council"
    " publishes each week's measurements on its notice board before any gate is opened.",
    "Objections",
    "Two members voted against the trial. They said that a scale measured at a single bridge can be gamed by anyone"
    " who diverts water upstream.",
]
REPORT = make_pdf(PAGES, title="Sharing the river", author="Mara Ellison", created="D:20250314093000+01'00'")

WORD_PARAGRAPHS = [
    "Why the ferry should keep running",
    "The island's ferry carries four hundred people a day, most of them to the clinic and the school on the mainland.",
    "",
    "Closing it to save money would cut the island off for everyone who cannot afford a boat of their own.",
]
WORD = make_docx(
    WORD_PARAGRAPHS, title="Keep the ferry", author="Tomas Reyes", headings=(0,),
    table=[["Year", "Passengers"], ["2024", "146,000"]], created=datetime(2025, 6, 2, 8, 0, tzinfo=timezone.utc),
)


def test_a_report_pdf_becomes_paragraphs_without_its_headers_footers_and_page_numbers():
    text, metadata = pdfword.read_pdf(REPORT)
    assert text.split("\n\n") == PARAGRAPHS
    assert "Annual Report" not in text and "Page" not in text and "- 3 -" not in text
    assert metadata == {"title": "Sharing the river", "author": "Mara Ellison", "date": "2025-03-14"}


def test_a_word_hyphenated_at_a_line_end_is_joined_and_a_compound_keeps_its_hyphen():
    pages = [["The survey asked every household how much water it uses in a normal", "week and how much it",
              "would give up in a drought. Most said they would accept a Franco-",
              "German style of metering if their neigh-", "bours did the same."]]
    assert pdfword.join_lines(pages) == [
        "The survey asked every household how much water it uses in a normal week and how much it would give up in a"
        " drought. Most said they would accept a Franco-German style of metering if their neighbours did the same."
    ]


@pytest.mark.parametrize("number", ["7", "Page 7", "page 7 of 12", "- 7 -", "– 7 –", "7 / 12", "vii"])
def test_bare_page_numbers_are_dropped_at_the_top_or_bottom_of_a_page(number):
    body = ["A paragraph that says something worth keeping about the river and its", "weirs."]
    assert pdfword.drop_furniture([[*body, number], [number, *body]]) == [body, body]


def test_a_line_repeated_on_only_some_pages_or_in_a_short_file_is_kept():
    bodies = [[f"The {word} section of the plan sets out how the weirs are opened in a flood", f"of {water}."]
              for word, water in zip(["first", "second", "third", "fourth", "fifth"],
                                     ["spring water", "summer rain", "melting snow", "a storm", "any kind"])]
    two_pages = [["Draft for comment", *body] for body in bodies[:2]]
    assert pdfword.drop_furniture(two_pages) == two_pages
    # On two pages of five: not a running header.
    five = [["Draft for comment", *body] for body in bodies[:2]] + bodies[2:]
    assert pdfword.drop_furniture(five) == five
    everywhere = [["Draft for comment", *body] for body in bodies]
    assert pdfword.drop_furniture(everywhere) == bodies


def test_justified_text_with_no_paragraph_cues_is_cut_at_sentences_within_the_passage_limit():
    # Every line full width and ending mid-sentence: nothing says where a paragraph ends.
    line = "the harbour wall would hold back a spring tide but not a winter storm. And the council"
    pages = [[f"{line} {page}{n}" for n in range(45)] for page in range(8)]
    text, _ = pdfword.read_pdf(make_pdf(pages))
    passages = text.split("\n\n")
    assert len(passages) > 1
    assert max(len(p) for p in passages) < splitting.MAX_PASSAGE
    assert all(p.endswith(".") for p in passages[:-1])
    textfiles.check_text(text)  # a whole report, not refused as one passage past the limit


def test_a_pdf_date_that_is_not_a_real_date_is_left_out():
    _, metadata = pdfword.read_pdf(make_pdf([["Some text on the page."]], created="D:20251399"))
    assert metadata["date"] == ""


def test_a_title_that_is_only_the_source_file_name_is_left_out():
    _, metadata = pdfword.read_pdf(make_pdf([["Some text on the page."]], title="Microsoft Word - draft3.docx"))
    assert metadata["title"] == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (make_pdf([[], []]), "This PDF has no text layer (it looks scanned)"),
        (make_pdf([["Minutes of the meeting."]], encrypt_password="s3cret"), "This PDF is password-protected"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n",
         "This file could not be read as a PDF: it is damaged or not a PDF"),
        (REPORT[: len(REPORT) // 2], "This file could not be read as a PDF"),
        (b"Just some notes saved with the wrong name.", "This file could not be read as a PDF"),
    ],
    ids=["scanned", "encrypted", "corrupt", "truncated", "not-a-pdf"],
)
def test_unreadable_pdfs_say_why_and_what_to_do(data, message):
    with pytest.raises(BadInput, match="^notes.pdf: " + message.replace("(", r"\(").replace(")", r"\)")):
        textfiles.read_source("notes.pdf", data)


def test_a_pdf_locked_only_against_editing_opens_without_a_password():
    locked = make_pdf(PAGES, title="Sharing the river", encrypt_password="")
    text, metadata = pdfword.read_pdf(locked)
    assert text.split("\n\n") == PARAGRAPHS and metadata["title"] == "Sharing the river"


def test_a_pdf_with_too_many_pages_is_refused(monkeypatch):
    monkeypatch.setattr(pdfword, "MAX_PAGES", 2)
    with pytest.raises(BadInput, match="This PDF has 3 pages; at most 2 can be added"):
        pdfword.read_pdf(REPORT)


def test_a_word_file_gives_its_paragraphs_table_rows_and_properties():
    text, metadata = pdfword.read_docx(WORD)
    assert text.split("\n\n") == [p for p in WORD_PARAGRAPHS if p] + ["Year | Passengers", "2024 | 146,000"]
    assert metadata == {"title": "Keep the ferry", "author": "Tomas Reyes", "date": "2025-06-02"}


@pytest.mark.parametrize(
    "data", [b"PK\x03\x04 not really a zip", WORD[: len(WORD) // 2], REPORT], ids=["garbage", "truncated", "a-pdf"]
)
def test_a_damaged_word_file_says_so(data):
    with pytest.raises(BadInput, match=r"^memo.docx: This file could not be read as a Word document"):
        textfiles.read_source("memo.docx", data)


def upload(client, data: bytes, filename: str, **fields):
    """Post a file to the add form's preview, as a browser would."""
    data = {"csrf_token": csrf(client), "file": (io.BytesIO(data), filename), **fields}
    return client.post("/add/preview", data=data, content_type="multipart/form-data")


def test_an_uploaded_pdf_is_previewed_as_paragraphs_and_saved_as_text(client, app, db):
    response = upload(client, REPORT, "River Report.pdf", outlet="Valley Courier")
    assert response.status_code == 200
    page = soup(response)
    form = page.find("form", id="preview")
    assert [t.text for t in form.find_all("textarea", attrs={"name": "passage"})] == PARAGRAPHS
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    assert (fields["title"], fields["author"], fields["date"], fields["outlet"]) == (
        "Sharing the river", "Mara Ellison", "2025-03-14", "Valley Courier")
    assert fields["name"] == "river-report.txt"

    data = {name: value for name, value in fields.items() if name not in ("passage_auto",)}
    data["passage"] = PARAGRAPHS
    data["passage_kind"] = [s.find("option", selected=True)["value"]
                            for s in form.find_all("select", attrs={"name": "passage_kind"})]
    data["passage_auto"] = [i["value"] for i in form.find_all("input", attrs={"name": "passage_auto"})]
    saved = client.post("/add/save", data=data)
    assert saved.status_code == 303 and saved.headers["Location"] == "/documents/river-report.txt"
    seeds = Path(app.config["SEEDS_DIR"])
    assert (seeds / "river-report.txt").read_text(encoding="utf-8").split("\n\n")[1] == PARAGRAPHS[1]
    assert not any(p.suffix == ".pdf" for p in seeds.iterdir())
    rows = db.execute("SELECT text FROM passages WHERE document = 'river-report.txt' ORDER BY position")
    texts = [r[0] for r in rows]
    assert texts == PARAGRAPHS


def test_an_uploaded_scanned_pdf_is_refused_with_the_form_again_and_nothing_saved(client, app, db):
    before = sorted(Path(app.config["SEEDS_DIR"]).iterdir()), db["documents"].count
    response = upload(client, make_pdf([[]]), "scan.pdf", title="A scan")
    assert response.status_code == 422
    page = soup(response)
    assert "scan.pdf: This PDF has no text layer" in page.find(class_="error").text
    form = page.find("form", attrs={"action": "/add/preview"})
    assert form.find("input", attrs={"name": "title"})["value"] == "A scan"
    assert (sorted(Path(app.config["SEEDS_DIR"]).iterdir()), db["documents"].count) == before


def test_the_add_form_offers_pdf_and_word_files(client):
    field = soup(client.get("/add")).find("input", attrs={"type": "file"})
    assert {".pdf", ".docx"} <= set(field["accept"].split(","))


def test_documents_import_saves_a_pdf_and_a_word_file_as_text(runner, loaded, tmp_path):
    (tmp_path / "River Report.pdf").write_bytes(REPORT)
    (tmp_path / "ferry.docx").write_bytes(WORD)
    result = import_documents(runner, loaded, str(tmp_path / "River Report.pdf"), str(tmp_path / "ferry.docx"))
    assert result.exit_code == 0, result.output
    assert "seeds/river-report.txt: 7 passages" in result.output and "seeds/ferry.txt: 5 passages" in result.output
    seeds = loaded / "seeds"
    assert (seeds / "river-report.txt").read_text(encoding="utf-8") == "\n\n".join(PARAGRAPHS)
    sidecar = (seeds / "ferry.txt.toml").read_text(encoding="utf-8")
    assert 'title = "Keep the ferry"' in sidecar and 'author = "Tomas Reyes"' in sidecar
    db = connect(loaded / "instance" / "counterpoint.db")
    try:
        assert db["documents"].get("river-report.txt")["author"] == "Mara Ellison"
        texts = [r[0] for r in db.execute("SELECT text FROM passages WHERE document = 'ferry.txt' ORDER BY position")]
    finally:
        db.close()
    assert texts[:2] == WORD_PARAGRAPHS[:2]


def test_documents_import_of_an_encrypted_pdf_imports_nothing(runner, loaded, tmp_path):
    (tmp_path / "good.docx").write_bytes(WORD)
    (tmp_path / "locked.pdf").write_bytes(make_pdf([["Private minutes."]], encrypt_password="s3cret"))
    before = sorted(p.name for p in (loaded / "seeds").iterdir())
    result = import_documents(runner, loaded, str(tmp_path / "good.docx"), str(tmp_path / "locked.pdf"))
    assert result.exit_code != 0
    assert "locked.pdf: This PDF is password-protected" in result.output
    assert sorted(p.name for p in (loaded / "seeds").iterdir()) == before
