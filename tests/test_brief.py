"""A brief per topic: what it says (counts, key arguments, citations, blind spots), the page and its
Markdown download, `counterpoint brief`, and hostile fields that stay text in every format."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from test_hostile import MARK, PAYLOAD, assert_inert
from test_hostile import hostile as hostile  # noqa: F401  (the fixture, re-used)

from webapp.cli import main
from webapp.corpus import taxonomy
from webapp.corpus.display import display_title
from webapp.findings import arguments, brief
from webapp.labels import editor

SILENT = "Taliban Urges Pakistan Not To Unilaterally Repatriate Afghan Migrants"


def topic(db, topic_id: str = "security") -> taxonomy.Topic:
    """A topic of the loaded corpus."""
    return taxonomy.from_db(db).get(topic_id)


def rendered(markdown: str) -> str:
    """Markdown as a CommonMark renderer turns it into HTML, raw HTML allowed (as most renderers do)."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def test_counts_are_per_source_and_per_side(db):
    found = brief.build_brief(db, topic(db))
    expected = {}
    for stance, n, *document in db.execute(
        """SELECT c.stance, c.n, d.title, d.kind, d.outlet, d.date FROM consensus_counts c
        JOIN documents d ON d.id = c.document WHERE c.topic = 'security'"""
    ):
        expected.setdefault(display_title(*document), {s: 0 for s in taxonomy.STANCES})[stance] += n
    assert {s.title: s.counts for s in found.per_source} == expected
    assert [s.total for s in found.per_source] == sorted((s.total for s in found.per_source), reverse=True)
    assert [(s.stance, s.wording) for s in found.sides] == [
        ("favour", "Sees it as secure"), ("neutral", "Neutral"), ("against", "Sees it as insecure")]
    assert [s.passages for s in found.sides] == [6, 0, 8] and found.total == 14


def test_each_key_argument_quotes_its_representative_under_the_next_citation_number(db):
    found = brief.build_brief(db, topic(db))
    by_side = arguments.topic_arguments(db, "security")
    stated = [a for side in found.sides for a in side.arguments]
    assert [a.citation for a in stated] == list(range(1, len(stated) + 1)) == [c.number for c in found.citations]
    for side in found.sides:
        for key, made in zip(side.arguments, by_side[side.stance], strict=False):
            citation = found.citations[key.citation - 1]
            card = made.representative
            assert (key.label, key.passages, key.sources) == (made.label, made.passages, made.sources)
            assert (citation.passage, citation.holder, citation.title) == (card.id, card.holder, card.title)
            text = db.execute("SELECT text FROM passages WHERE id = ?", [card.id]).fetchone()[0]
            assert key.quote == brief.quoted(text) and key.quote.split()[:8] == text.split()[:8]


def test_blind_spots_name_empty_sides_single_source_arguments_silent_sources_and_no_holder(db, app):
    found = brief.build_brief(db, topic(db)).blind_spots
    assert found.empty_sides == ["Neutral"]
    assert found.silent_sources == [SILENT] and found.unlabelled_sources == 0
    single = [a.label for side in arguments.topic_arguments(db, "security").values() for a in side
              if len(a.sources) == 1]
    assert [label for _, label, _ in found.single_source] == single and single
    assert found.unattributed == {}

    # A neutral passage with no holder fills the empty side and is counted as nobody's view.
    unlabelled = db.execute(
        "SELECT id FROM passages WHERE kind = 'content' AND id NOT IN (SELECT passage FROM consensus) LIMIT 1"
    ).fetchone()[0]
    editor.save(db, unlabelled, "bea", [editor.Choice("security", "neutral", None)])
    after = brief.build_brief(db, topic(db)).blind_spots
    assert after.empty_sides == [] and after.unattributed == {"Neutral": 1}
    assert "- 1 passage with no holder named (Neutral 1)." in brief.to_markdown(brief.build_brief(db, topic(db)))


@pytest.mark.parametrize("url, shown", [
    ("https://example.org/a_(b)", "https://example.org/a_(b)"), ("javascript:alert(1)", ""), ("/home/me/a.pdf", ""),
])
def test_citations_give_web_addresses_only(db, url, shown):
    cited = brief.build_brief(db, topic(db)).citations[0]
    db["documents"].update(cited.document, {"url": url})
    again = brief.build_brief(db, topic(db))
    assert again.citations[0].url == shown
    if shown:
        html = rendered(brief.to_markdown(again))
        assert "https://example.org/a_(b)" in BeautifulSoup(html, "html.parser").get_text()


def test_a_long_passage_is_quoted_up_to_a_word_and_marked_as_cut():
    assert brief.quoted("one  two\nthree") == "one two three"
    assert brief.quoted("passage " * 300, limit=30) == "passage passage passage […]"


def test_a_missing_target_is_said_so(db):
    found = brief.build_brief(db, replace(topic(db), target=""))
    assert found.target_missing and found.target_text == taxonomy.TARGET_MISSING
    assert f"**Target proposition:** _{taxonomy.TARGET_MISSING}_: nobody has stated" in brief.to_markdown(found)


@pytest.mark.parametrize("field, element", [
    ("[click](https://evil.example)", "a"), ("<https://evil.example>", "a"), ("<b>bold</b>", "b"),
    ("# heading", "h1"), ("- item", "li"),
    ("1. item", "li"), ("*em* and _em_", "em"), ("`code`", "code"), ("![img](x.png)", "img"), ("~~gone~~", "s"),
])
def test_markdown_escaping_keeps_each_field_text(field, element):
    html = rendered(f"{brief.escape_markdown(field)}\n")
    assert BeautifulSoup(html, "html.parser").find(element) is None, html
    assert BeautifulSoup(html, "html.parser").get_text().strip() == field


def test_a_bar_in_a_source_title_stays_in_its_table_cell():
    html = rendered(f"| Source | Total |\n|---|---|\n| {brief.escape_markdown('a | b')} | 1 |\n")
    assert [td.get_text() for td in BeautifulSoup(html, "html.parser").find_all("td")] == ["a | b", "1"]


def test_markdown_of_a_hostile_corpus_renders_inert(hostile, db):
    for topic_id in ("xss_topic", "security"):
        markdown = brief.to_markdown(brief.build_brief(db, topic(db, topic_id)))
        html = rendered(markdown)
        assert_inert(html, topic_id)
        assert PAYLOAD in BeautifulSoup(html, "html.parser").get_text(), topic_id


def test_the_page_shows_proposition_counts_arguments_citations_and_blind_spots(client, db):
    page = BeautifulSoup(client.get("/topics/security/brief").get_data(as_text=True), "html.parser")
    assert page.h1.get_text(strip=True) == "Brief: Security"
    assert "the Taliban provide security." in page.select_one(".proposition").get_text()
    rows = {r.th.get_text(strip=True): [td.get_text() for td in r.find_all("td")]
            for r in page.select(".brief-sources tbody tr")}
    assert SILENT not in rows and rows["News report, 9 Mar 2024"] == ["1", "0", "1", "2"]
    assert sum(int(cells[-1]) for cells in rows.values()) == 14
    refs = page.select("blockquote.quote sup.cite a")
    notes = page.select("ol.citations > li")
    assert refs and [a["href"] for a in refs] == [f"#cite-{n}" for n in range(1, len(notes) + 1)]
    assert [li["id"] for li in notes] == [f"cite-{n}" for n in range(1, len(notes) + 1)]
    assert SILENT in page.select_one(".brief-blind-spots").get_text()
    assert page.find("a", string="Download Markdown")["href"] == "/topics/security/brief?format=md"
    assert page.find("button", string="Print / PDF") is not None
    assert page.find("link", href="/static/brief.css") is not None


def test_the_topic_page_links_to_its_brief(client):
    page = BeautifulSoup(client.get("/topics/security").get_data(as_text=True), "html.parser")
    assert page.find("a", href="/topics/security/brief") is not None


def test_markdown_download(client):
    response = client.get("/topics/security/brief?format=md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"] == 'attachment; filename="brief-security.md"'
    body = response.get_data(as_text=True)
    assert body.startswith("# Brief: Security\n") and "## Citations" in body and "\n1. " in body


@pytest.mark.parametrize("url, message", [
    ("/topics/nowhere/brief", "There is no topic “nowhere”"),
    ("/topics/security/brief?format=docx", "There is no brief format “docx”; formats are html, md."),
])
def test_unknown_topic_or_format_is_a_clear_404(client, url, message):
    response = client.get(url)
    assert response.status_code == 404 and message in response.get_data(as_text=True)


def test_hostile_fields_stay_text_on_the_page(hostile, client):
    for topic_id in ("xss_topic", "security"):
        html = client.get(f"/topics/{topic_id}/brief").get_data(as_text=True)
        assert_inert(html, topic_id)
        assert f'id="{MARK}' not in html and PAYLOAD in BeautifulSoup(html, "html.parser").get_text()


def test_cli_writes_markdown_to_stdout_or_a_file(runner, loaded, tmp_path):
    shown = runner.invoke(main, ["--corpus", str(loaded), "brief", "security"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("# Brief: Security\n") and "## Blind spots" in shown.stdout
    target = tmp_path / "out" / "security.md"
    written = runner.invoke(main, ["--corpus", str(loaded), "brief", "security", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == shown.stdout and written.stdout == ""


def test_cli_html_stands_alone_with_its_styles_inlined(runner, loaded, tmp_path):
    target = tmp_path / "security.html"
    result = runner.invoke(main, ["--corpus", str(loaded), "brief", "security", "--format", "html", "-o", str(target)])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    assert page.h1.get_text(strip=True) == "Brief: Security"
    assert not page.find_all("script") and not page.find_all("link") and not page.select("header.site")
    styles = "\n".join(s.get_text() for s in page.find_all("style"))
    assert "@media print" in styles and ".badge" in styles
    assert 'name="csrf-token"' not in html
    stdout = runner.invoke(main, ["--corpus", str(loaded), "brief", "security", "--format", "html"])
    assert stdout.exit_code == 0 and re.sub(r"\s+", " ", stdout.stdout) == re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("args, env, message", [
    (["brief", "nowhere"], {}, "there is no topic 'nowhere'; topics are: recognition, deportation, womens_rights,"),
    (["brief", "security", "--format", "pdf"], {}, "a PDF brief goes to a file: add -o FILE"),
    (["brief", "security", "--format", "pdf", "-o", "x.pdf"], {"COUNTERPOINT_CHROMIUM_PATH": "/nowhere/chromium"},
     "no Chromium at '/nowhere/chromium' to print the PDF with: install it (apt-get install chromium) or set"),
])
def test_cli_refuses_with_a_clear_message(runner, loaded, args, env, message):
    result = runner.invoke(main, ["--corpus", str(loaded), *args], env=env)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_cli_html_of_a_hostile_corpus_is_inert(hostile, runner, corpus):
    result = runner.invoke(main, ["--corpus", str(corpus), "brief", "xss_topic", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert_inert(result.stdout, "cli html")
    markdown = runner.invoke(main, ["--corpus", str(corpus), "brief", "xss_topic"]).stdout
    assert_inert(rendered(markdown), "cli markdown")

