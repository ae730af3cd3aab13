"""Every page through the test client, as a full page and as the fragment htmx asks for."""

import pytest
from bs4 import BeautifulSoup
from conftest import corpus_config

from webapp import create_app
from webapp.labels import mirror
from webapp.labels.build import build
from webapp.labels.records import LabelRecord
from webapp.store.db import connect

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    """Parse a response body."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def card_ids(page: BeautifulSoup) -> list[str]:
    """The passage ids of the cards on a page, in order."""
    return [c["data-passage"] for c in page.select(".card")]


def test_home_shows_the_topic_stance_matrix_and_the_documents(client):
    response = client.get("/")
    assert response.status_code == 200
    page = soup(response)
    rows = {tr["data-topic"]: tr for tr in page.select("table.matrix tbody tr")}
    assert list(rows) == ["recognition", "deportation", "womens_rights", "security"]
    against = rows["deportation"].select_one("td.stance-against a")
    assert against["href"] == "/topics/deportation?stance=against"
    assert int(against.strong.text) > 0
    assert "Opposes returns" in against.text
    assert len(page.select("#documents li")) == 5
    assert "Caliber.Az" in page.select_one("#documents").text


def test_matrix_counts_match_the_topic_pages(client):
    page = soup(client.get("/"))
    for cell in page.select("table.matrix td.cell a"):
        topic_page = soup(client.get(cell["href"]))
        assert topic_page.select_one(".count").text.split()[0] == cell.strong.text


def test_topic_page_shows_the_target_and_three_stance_columns(client):
    page = soup(client.get("/topics/deportation"))
    assert "Returning or expelling Afghans to Afghanistan is justified." in page.select_one(".proposition").text
    headings = [h.get_text(" ", strip=True) for h in page.select(".columns .column h2")]
    assert [h.rsplit(" ", 1)[0] for h in headings] == ["Supports returns", "Neutral", "Opposes returns"]
    cards = page.select(".column.stance-against .card")
    assert cards and all(c.select_one(".holder") for c in cards)
    link = cards[0].select_one("a.in-document")
    assert link["href"].startswith("/documents/") and "#p-" in link["href"]
    assert page.select(".summary-row svg.bar rect")


def test_long_passages_are_folded_and_expandable(client):
    page = soup(client.get("/topics/recognition"))
    folded = page.select(".card details.more")
    assert folded, "the seed corpus has passages longer than the fold"
    assert folded[0].select_one("summary").text == "Show the whole passage"


@pytest.mark.parametrize("path", ["/", "/topics/security", "/documents/000_26419f1f75a7eb13.txt", "/passages/3"])
def test_pages_are_full_html_and_vary_on_htmx(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert response.get_data(as_text=True).lstrip().startswith("<!doctype html>")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_htmx_filter_request_gets_only_the_results_fragment(client):
    url = "/topics/security?holder=Taliban+spokesman+Zabihullah+Mujahid"
    fragment = client.get(url, headers=HX)
    full = client.get(url)
    assert fragment.status_code == full.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body and "<form" not in body
    assert "HX-Request" in fragment.headers["Vary"]
    assert soup(full).select_one("#results").select(".card") and soup(full).select_one("form#filters")


def test_boosted_and_history_restore_requests_get_the_full_page(client):
    for headers in ({**HX, "HX-Boosted": "true"}, {**HX, "HX-History-Restore-Request": "true"}):
        body = client.get("/topics/security?q=embassy", headers=headers).get_data(as_text=True)
        assert "<html" in body


def test_filter_by_holder_keeps_only_that_holders_passages(client):
    holder = "Taliban spokesman Zabihullah Mujahid"
    page = soup(client.get("/topics/security", query_string={"holder": holder}))
    holders = {c.select_one(".holder-name").text for c in page.select(".card")}
    assert holders == {holder}
    assert page.select_one(f'select#holder option[value="{holder}"]').has_attr("selected")
    # The menus still offer every holder and source of the topic, so the filter can be changed.
    unfiltered = soup(client.get("/topics/security"))
    for menu in ("select#holder option", "select#document option"):
        assert [o["value"] for o in page.select(menu)] == [o["value"] for o in unfiltered.select(menu)]
    assert len(page.select("select#holder option")) > 2


def test_filter_by_document_and_by_outlet(client):
    by_doc = soup(client.get("/topics/recognition?document=004_1cda40431279602b.txt"))
    by_outlet = soup(client.get("/topics/recognition?document=Caliber.Az"))
    assert card_ids(by_doc) and card_ids(by_doc) == card_ids(by_outlet)
    assert {c.select_one(".title").text for c in by_doc.select(".card")} == {"Afghanistan: Unexpected offer to Azerbaijan"}


def test_text_search_matches_words_in_passages(client):
    page = soup(client.get("/topics/security?q=ISIS"))
    cards = page.select(".card")
    assert cards and all("isis" in c.get_text().lower() for c in cards)


@pytest.mark.parametrize("q", ['"unbalanced', "100%", "a_b", "(x OR", "' OR 1=1 --", "\\", "🙂", "NEAR(", "*"])
def test_odd_search_syntax_is_just_text(client, q):
    response = client.get("/topics/security", query_string={"q": q})
    assert response.status_code == 200
    assert soup(response).select_one("#q")["value"] == q


def test_stance_slice_and_views(client):
    page = soup(client.get("/topics/deportation?stance=favour"))
    assert page.select(".column.stance-favour .card")
    assert not page.select(".column.stance-against .card")
    by_holder = soup(client.get("/topics/deportation?view=holder"))
    rows = by_holder.select(".rows .row")
    assert rows and all(r.select(".card .badge") for r in rows)
    by_source = soup(client.get("/topics/deportation?view=source"))
    assert {r.h2.contents[0].strip() for r in by_source.select(".rows .row")} >= {"Taliban Urges Pakistan Not To Unilaterally Repatriate Afghan Migrants"}


def test_unknown_filter_values_fall_back_instead_of_failing(client):
    page = soup(client.get("/topics/deportation?view=bogus&stance=maybe"))
    assert page.select(".columns .column")
    assert page.select_one('input[name="view"][value="stance"]').has_attr("checked")


def test_no_match_shows_an_empty_state_with_a_way_out(client):
    page = soup(client.get("/topics/security?q=zzzznotthere"))
    empty = page.select_one("#results .empty")
    assert "No passage on this topic matches these filters" in empty.text
    assert empty.a["href"] == "/topics/security"


def test_document_page_shows_passages_with_labels_and_marks_non_content(client):
    page = soup(client.get("/documents/000_26419f1f75a7eb13.txt"))
    assert page.h1.text == "Collaborating with the Taliban regime in the name of “administrative” matters?"
    items = page.select("ol.passages > li")
    assert len(items) == 17
    assert "kind-byline" in items[1]["class"] and "Byline" in items[1].select_one(".kind").text
    assert "kind-disclaimer" in items[16]["class"]
    assert items[2].select(".labels li") and not items[16].select(".labels li")
    assert items[2]["id"] == "p-2"


def test_passage_page_lists_its_labels(client, db):
    pid = db.execute(
        "SELECT id FROM passages WHERE document = ? AND position = 1", ["004_1cda40431279602b.txt"]
    ).fetchone()[0]
    page = soup(client.get(f"/passages/{pid}"))
    assert "Azerbaijani embassy" in page.select_one("blockquote").text
    assert page.select(".labels-table tbody tr")


@pytest.mark.parametrize("path", ["/topics/nope", "/passages/99999", "/documents/nope.txt", "/nowhere"])
def test_unknown_things_get_a_helpful_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    page = soup(response)
    assert page.h1.text == "Not Found"
    assert page.select_one(".error a")["href"] == "/"


def test_empty_corpus_home_says_what_to_do(tmp_path):
    empty = create_app({"TESTING": True, "DATABASE": str(tmp_path / "e.db"), "SEEDS_DIR": str(tmp_path)})
    page = soup(empty.test_client().get("/"))
    assert "No documents yet" in page.text
    assert "counterpoint load" in page.text


def test_long_columns_show_a_page_of_cards_and_load_more_on_demand(client, db):
    unlabelled = db.execute(
        """SELECT document, position, text FROM passages p WHERE kind = 'content' AND NOT EXISTS (
        SELECT 1 FROM labels l WHERE l.document = p.document AND l.position = p.position AND l.topic = 'deportation')"""
    ).fetchall()
    mirror.store(db, [LabelRecord(d, pos, "deportation", "against", None, "bulk", "2026-01-01T00:00:00Z", text)
                      for d, pos, text in unlabelled])
    total = 17 + len(unlabelled)
    page = soup(client.get("/topics/deportation"))
    column = page.select_one(".column.stance-against")
    assert column.select_one("h2 .n").text == str(total)
    assert len(column.select(".card")) == 25
    more = column.select_one("a.show-more")
    assert f"({total - 25} not shown)" in more.text
    assert more["href"] == "/topics/deportation?view=stance&limit=50"
    assert len(soup(client.get(more["href"], headers=HX)).select(".column.stance-against .card")) == total


def test_rows_page_their_cards_too(client, db):
    unlabelled = db.execute(
        """SELECT document, position, text FROM passages p WHERE kind = 'content' AND NOT EXISTS (
        SELECT 1 FROM labels l WHERE l.document = p.document AND l.position = p.position AND l.topic = 'security')"""
    ).fetchall()
    mirror.store(db, [LabelRecord(d, pos, "security", "neutral", "Analysts", "bulk", "2026-01-01T00:00:00Z", text)
                      for d, pos, text in unlabelled])
    page = soup(client.get("/topics/security?view=holder"))
    row = next(r for r in page.select(".rows .row") if r.h2.contents[0].strip() == "Analysts")
    assert row.select_one("h2 .n").text == str(len(unlabelled)) and len(unlabelled) > 25
    assert len(row.select(".card")) == 25
    assert f"({len(unlabelled) - 25} not shown in this row)" in row.select_one("a.show-more").text


def test_pages_show_changes_made_by_other_processes(client, db):
    before = soup(client.get("/topics/security"))
    home_before = soup(client.get("/")).get_text()
    first = before.select_one(".column.stance-favour .card")
    document, position = db.execute("SELECT document, position FROM passages WHERE id = ?", [first["data-passage"]]).fetchone()
    # Another worker (here: another connection) moves the passage to "against".
    db.execute("UPDATE labels SET stance = 'against' WHERE document = ? AND position = ? AND topic = 'security'",
               [document, position])
    db.conn.commit()
    after = soup(client.get("/topics/security"))
    assert first["data-passage"] in card_ids(after.select_one(".column.stance-against"))
    assert first["data-passage"] not in card_ids(after.select_one(".column.stance-favour"))
    assert soup(client.get("/")).get_text() != home_before


def test_a_large_taxonomy_lists_its_biggest_topics_first_and_the_rest_on_request(corpus):
    extra = "".join(f'\n[[topics]]\nid = "extra_{i}"\nname = "Extra {i}"\ntarget = "Claim {i}."\n' for i in range(41))
    taxonomy_file = corpus / "labels" / "taxonomy.toml"
    taxonomy_file.write_text(taxonomy_file.read_text(encoding="utf-8") + extra, encoding="utf-8")
    app = create_app(corpus_config(corpus))
    build(connect(app.config["DATABASE"]), corpus / "seeds", corpus / "labels")
    client = app.test_client()
    page = soup(client.get("/"))
    rows = [tr["data-topic"] for tr in page.select("table.matrix tbody tr")]
    assert len(rows) == 40 and "deportation" in rows and "security" in rows
    assert page.select_one('#topics a[href="/?all=topics#topics"]')
    assert len(soup(client.get("/?all=topics")).select("table.matrix tbody tr")) == 45
