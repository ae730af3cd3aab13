"""Bringing documents in without Flask: decoding, HTML, names, JSONL, the preview, rebuilds."""

import json
import textwrap

import pytest

from webapp.corpus import preview, splitting, textfiles
from webapp.corpus.sources import CorpusError, check_name, import_folder
from webapp.corpus.textfiles import BadInput
from webapp.labels import batches
from webapp.labels.build import build
from webapp.store.db import connect

ARTICLE = """<html><head><title>Talks in Kabul - The Paper</title>
<meta name="author" content="Jane Doe"><meta property="og:site_name" content="The Paper"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/world">World</a></nav>
<article><h1>Talks in Kabul</h1>
<p>European officials met Taliban representatives in Kabul last week to discuss returns, according to three people briefed on the meeting.</p>
<p>The delegation said the talks were technical and did not amount to recognition, a point the ministry repeated in a statement on Friday.</p>
<p>Rights groups condemned the visit and said that no Afghan could be sent back safely while the current restrictions remain in place.</p>
<p>Diplomats expect a second round of meetings in the spring, although no date has been set and several capitals remain opposed.</p>
</article><footer>Copyright 2024 The Paper. All rights reserved.</footer>
<script>var tracking = 1;</script></body></html>"""


def test_html_is_reduced_to_its_article_text_and_declared_metadata():
    text, meta = textfiles.read_source("page.html", ARTICLE.encode("utf-8"))
    assert "European officials met Taliban representatives" in text
    assert "Copyright" not in text and "tracking" not in text and "World" not in text
    assert len([p for p in splitting.split(text) if p.is_content]) == 4
    assert (meta["title"], meta["author"], meta["outlet"]) == ("Talks in Kabul", "Jane Doe", "The Paper")
    assert meta["date"] == ""  # a copyright year is not a publication date


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("empty.txt", b"  \n\n ", "The text is empty"),
        ("latin.txt", "Café crème".encode("latin-1"), "not valid UTF-8 text: byte 0xe9 at position 3"),
        ("page.html", b"<html><body><script>x()</script><img src=a.png></body></html>", "No article text"),
        ("notes.pdf", b"%PDF-1.4", "notes.pdf: This file could not be read as a PDF"),
        ("../../etc/passwd.docx", b"x", "passwd.docx: This file could not be read as a Word document"),
        ("../../etc/notes.odt", b"x", "notes.odt: only .txt, .md, .html, .htm, .pdf, .docx files"),
    ],
)
def test_bad_sources_say_what_is_wrong(filename, data, message):
    with pytest.raises(BadInput, match=message.replace(".", r"\.").replace("(", r"\(")):
        textfiles.read_source(filename, data)


def test_an_html_page_is_decoded_with_its_declared_charset():
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Café.</p></body></html>'
    assert textfiles.decode(page.encode("latin-1"), "page.html").count("Café") == 1
    with pytest.raises(BadInput, match="not valid WINDOWS-1252 text: byte 0x81"):
        textfiles.decode(b'<meta charset="windows-1252"><p>\x81</p>', "page.html")


@pytest.mark.parametrize(
    ("source", "suffix", "name"),
    [
        ("../../etc/passwd", ".txt", "passwd.txt"),
        ("C:\\Users\\me\\Report 2024 (final).HTML", ".txt", "report-2024-final.txt"),
        ("Les élections à Kaboul.md", ".md", "les-elections-a-kaboul.md"),
        ("...", ".txt", "document.txt"),
        ("/", ".txt", "document.txt"),
        ("Talks in Kabul: what next?", ".txt", "talks-in-kabul-what-next.txt"),
    ],
)
def test_document_names_are_safe_file_names(source, suffix, name):
    assert textfiles.document_name(source, suffix) == name
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date", "9 March 2024", "not a date like 2024-03-09"),
        ("date", "2024-13-01", "not a date"),
        ("url", "javascript:alert(1)", "must start with http"),
    ],
)
def test_metadata_dates_and_urls_are_checked(field, value, message):
    with pytest.raises(BadInput, match=message):
        textfiles.check_metadata({field: value})


def test_metadata_is_trimmed_and_partial_dates_pass():
    meta = textfiles.check_metadata({"title": "  A   title ", "date": "2024-03", "url": "https://example.org/a"})
    assert (meta["title"], meta["date"], meta["author"]) == ("A title", "2024-03", "")


def line(**fields) -> str:
    """One JSONL line."""
    return json.dumps(fields)


def test_jsonl_groups_passages_by_document_in_order_with_labels():
    lines = [
        line(document="d1", title="One", text="First.", labels=[{"topic": "recognition", "stance": "favour", "holder": "A"}]),
        line(document="d2", outlet="Paper", text="Other."),
        line(document="d1", text="  Second, spaces kept.  ", labels=[{"topic": None, "stance": None, "annotator": "bo"}]),
    ]
    batch = batches.parse_jsonl(lines, ("recognition",), "ann", "2024-01-01T00:00:00Z")
    d1, d2 = batch.documents
    assert [(p.position, p.text, p.kind) for p in d1.passages] == [(0, "First.", "content"), (1, "  Second, spaces kept.  ", "content")]
    assert (d1.metadata["title"], d2.metadata["outlet"]) == ("One", "Paper")
    assert [(r.document, r.position, r.topic, r.stance, r.holder, r.annotator) for r in batch.labels] == [
        ("d1", 0, "recognition", "favour", "A", "ann"),
        ("d1", 1, None, None, None, "bo"),
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a list"]', "line 2: each line must be a JSON object"),
        (line(text="No document."), 'line 2: missing "document"'),
        (line(document="../etc", text="x"), "line 2: document name '../etc'"),
        (line(document="d", text=" "), 'line 2: missing "text"'),
        (line(document="d", text="x", labels=[{"topic": "recognition", "stance": "pro"}]), "line 2: Unknown stance “pro” for topic recognition"),
        (line(document="d", text="x", labels=[{"topic": "weather", "stance": "favour"}]), "line 2: Unknown topic “weather”"),
        (line(document="d", text="x", labels="recognition"), 'line 2: "labels" must be a list'),
        (line(document="d", text="x", date="yesterday"), "document d: The date 'yesterday'"),
        (line(document="d", text="x", labels=[{"topic": "recognition", "stance": "favour"},
                                              {"topic": "recognition", "stance": "against"}]),
         "line 2: Topic recognition is given twice"),
        (line(document="d", text="x", labels=[{"topic": None, "stance": None},
                                              {"topic": "recognition", "stance": "favour"}]),
         "line 2: “No topic applies” cannot sit beside topic labels"),
    ],
)
def test_bad_jsonl_lines_are_reported_with_their_number(bad, message):
    lines = [line(document="ok", text="Fine."), bad]
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace("[", r"\[").replace(".", r"\.")):
        batches.parse_jsonl(lines, ("recognition",), "ann", "now")


def test_add_topics_collects_new_topics_with_their_target():
    lines = [line(document="d", text="x", labels=[{"topic": "water", "stance": "against", "topic_target": "Dams help."}])]
    batch = batches.parse_jsonl(lines, ("recognition",), "ann", "now", add_topics=True)
    assert batch.new_topics == {"water": {"id": "water", "name": "Water", "target": "Dams help."}}
    untargeted = [line(document="d", text="x", labels=[{"topic": "soil", "stance": "against"}])]
    batch = batches.parse_jsonl(untargeted, (), "ann", "now", add_topics=True)
    assert batch.new_topics == {"soil": {"id": "soil", "name": "Soil"}}
    bad = [line(document="d", text="x", labels=[{"topic": "Bad Id", "stance": "against"}])]
    with pytest.raises(BadInput, match="line 1: .*id 'Bad Id'"):
        batches.parse_jsonl(bad, (), "ann", "now", add_topics=True)


TEXT = "Talks in Kabul raise hopes and fears\n\nBy Someone Here\n\nThe first paragraph says a thing. It says another thing too.\n\nThe second paragraph disagrees, at length and with reasons.\n"


def test_preview_merge_split_and_remark_survive_saving_as_text_and_overrides():
    draft = preview.from_text(TEXT)
    assert [p.kind for p in draft] == ["heading", "byline", "content", "content"]
    draft = preview.merge(draft, 2)
    assert len(draft) == 3 and draft[2].text.startswith("The first") and draft[2].text.endswith("reasons.")
    draft = preview.split(draft, 2)
    assert [p.text for p in draft[2:]] == [
        "The first paragraph says a thing. It says another thing too.",
        "The second paragraph disagrees, at length and with reasons.",
    ]
    draft[1:2] = [preview.DraftPassage(draft[1].text, "content", draft[1].auto)]
    text, kinds = preview.text_of(draft), preview.overrides(draft)
    assert kinds == {1: "content"}
    assert [(p.text, p.kind) for p in splitting.split(text, kinds)] == [(p.text, p.kind) for p in draft]


def test_split_uses_a_typed_line_break_and_refuses_a_single_sentence():
    draft = preview.from_form(["One part here\nand the other part"], ["content"], ["content"])
    assert [p.text for p in preview.split(draft, 0)] == ["One part here", "and the other part"]
    with pytest.raises(BadInput, match="single sentence"):
        preview.split(preview.from_text("Just one sentence without a break"), 0)


def test_a_hand_chosen_kind_is_kept_when_other_passages_change():
    draft = preview.refresh(preview.from_form(
        ["Talks in Kabul raise hopes and fears", "Body one. Still body.", "Body two. More body."], ["content", "content", "content"], ["heading", "content", "content"]
    ))
    draft = preview.merge(draft, 1)
    assert [(p.kind, p.auto) for p in draft] == [("content", "heading"), ("content", "content")]
    assert preview.apply(draft, "bogus") == draft


def test_preview_form_values_are_checked():
    with pytest.raises(BadInput, match="incomplete"):
        preview.from_form(["a", "b"], ["content"], ["content", "content"])
    with pytest.raises(BadInput, match="Unknown passage kind 'evil'"):
        preview.from_form(["a"], ["evil"], ["content"])


def test_a_rebuild_from_files_reproduces_added_documents(corpus, tmp_path):
    db = connect(tmp_path / "one.db")
    build(db, corpus / "seeds", corpus / "labels")
    draft = preview.split(preview.from_text(TEXT), 2)
    kinds = {0: "content"}
    textfiles.save_text(db, corpus / "seeds", "added.txt", preview.text_of(draft), {"title": "T", "outlet": "O"}, kinds)
    batch = batches.parse_jsonl(
        [line(document="pre", text="Exactly  as given ", labels=[{"topic": "security", "stance": "neutral"}])],
        ("security",), "ann", "2024-01-01T00:00:00Z",
    )
    batches.save_batch(db, corpus / "seeds", corpus / "labels", batch, "batch.jsonl")

    rebuilt = connect(tmp_path / "two.db")
    build(rebuilt, corpus / "seeds", corpus / "labels")
    for table in ("documents", "passages", "labels"):
        columns = "*" if table != "documents" else "id, title, outlet, source_hash"
        sql = f"SELECT {columns} FROM {table} WHERE {'id' if table == 'documents' else 'document'} IN ('added.txt', 'pre')"
        original = sorted(map(tuple, db.execute(sql).fetchall()))
        assert sorted(map(tuple, rebuilt.execute(sql).fetchall())) == original and original
    assert rebuilt.execute("SELECT kind FROM passages WHERE document = 'added.txt' AND position = 0").fetchone()[0] == "content"
    assert rebuilt.execute("SELECT text FROM passages WHERE document = 'pre'").fetchone()[0] == "Exactly  as given "


def test_a_seed_document_in_two_files_is_refused(corpus, memory_db):
    (corpus / "seeds" / "a.jsonl").write_text(line(document="same", text="x") + "\n", encoding="utf-8")
    (corpus / "seeds" / "b.jsonl").write_text(line(document="same", text="y") + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="'same' is in both a.jsonl and b.jsonl"):
        import_folder(memory_db, corpus / "seeds")


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [('kinds = { "x" = "heading" }', "position 'x'"), ('kinds = { "1" = "poem" }', "unknown kind 'poem'")],
)
def test_bad_kind_overrides_in_a_sidecar_are_reported(corpus, memory_db, sidecar, message):
    (corpus / "seeds" / "000_26419f1f75a7eb13.txt.toml").write_text(sidecar, encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        import_folder(memory_db, corpus / "seeds")


def test_splitting_applies_overrides_by_position_and_ignores_stale_ones():
    passages = splitting.split(TEXT, {0: "content", 3: "ad", 99: "ad"})
    assert [p.kind for p in passages] == ["content", "byline", "content", "ad"]


def test_a_passage_over_the_limit_is_named_by_its_number_and_the_line_it_starts_on():
    wrapped = textwrap.fill(" ".join(["word"] * 4001), 80)  # hard-wrapped: one paragraph of 20,004 characters
    text = f"\r\n\r\nTitle\r\n\r\nFirst paragraph.\r\n\r\n{wrapped}\r\n\r\nLast.\r\n"
    with pytest.raises(BadInput, match=r"^notes.txt line 7: Passage 3 \(“word word .*…”\) is 20,004 characters; a pa"):
        textfiles.read_source("notes.txt", text.encode("utf-8"))
    with pytest.raises(BadInput, match=r"^Passage 3 \(“word word"):
        textfiles.check_text(text)
    assert textfiles.check_text(text.replace(wrapped, textwrap.fill(" ".join(["word"] * 4000), 80)))


def test_an_html_page_with_a_passage_over_the_limit_names_the_passage():
    page = f"<html><body><article><p>{'Word ' * 4001}</p></article></body></html>"
    with pytest.raises(BadInput, match=r"^Passage 1 \(“Word Word .*is 20,004 characters"):
        textfiles.read_source("page.html", page.encode("utf-8"))


def test_a_jsonl_passage_over_the_limit_is_refused_by_line_and_one_at_it_is_kept():
    lines = [line(document="d", text="x" * 20_000), line(document="d", text="y" * 20_001)]
    with pytest.raises(BadInput, match=r"^line 2: The passage is 20,001 characters; a passage can be at most 20,000"):
        batches.parse_jsonl(lines, ("recognition",), "ann", "now")
    assert batches.parse_jsonl(lines[:1], ("recognition",), "ann", "now").documents[0].passages[0].text == "x" * 20_000
