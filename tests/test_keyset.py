"""Show more on topic pages: each column or row reads its next cards after a cursor, and the same
link works as a plain link to a longer page."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from conftest import REPO, corpus_config, soup

from webapp import create_app
from webapp.analysis import comparison
from webapp.analysis.comparison import PAGE, Cursor, Filters
from webapp.labels import mirror
from webapp.labels.build import build
from webapp.labels.records import LabelRecord
from webapp.store.db import connect

HX = {"HX-Request": "true"}
TOPIC = "deportation"
LONG = "900_long_hearing.txt"
HOLDERS = ("Analysts", "", "Officials")


def long_column_corpus(corpus: Path) -> Path:
    """The seed corpus plus a long document, newer than the seeds but last by name, built and with
    every content passage not yet on the topic labelled: mostly "against", a seventh "neutral", by
    each of HOLDERS in turn. Returns the database's path.

    Its passages tie on their date, as do the undated seeds across documents; in holder and source
    rows the stances mix.
    """
    lines = [f"At hearing number {i}, a witness argued at length that the deportation policy breaks the law."
             for i in range(180)]
    (corpus / "seeds" / LONG).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with (corpus / "seeds" / "sources.toml").open("a", encoding="utf-8") as sources:
        sources.write(f'\n[documents."{LONG}"]\ntitle = "The long hearing"\ndate = "2025-01-01"\n')
    path = Path(corpus_config(corpus)["DATABASE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    build(db, corpus / "seeds", corpus / "labels")
    unlabelled = db.execute(
        """SELECT document, position, text FROM passages p WHERE kind = 'content' AND NOT EXISTS (
        SELECT 1 FROM labels l WHERE l.document = p.document AND l.position = p.position AND l.topic = ?)""",
        [TOPIC],
    ).fetchall()
    mirror.store(db, [LabelRecord(d, pos, TOPIC, "neutral" if i % 7 == 0 else "against", HOLDERS[i % 3] or None, "bulk",
                                  "2026-01-01T00:00:00Z", text) for i, (d, pos, text) in enumerate(unlabelled)])
    db.close()
    return path


@pytest.fixture(scope="module")
def long_db(tmp_path_factory):
    """A read-only connection to the long-column corpus, built once for the module."""
    corpus = tmp_path_factory.mktemp("keyset") / "corpus"
    shutil.copytree(REPO / "seeds", corpus / "seeds")
    shutil.copytree(REPO / "labels", corpus / "labels")
    db = connect(long_column_corpus(corpus))
    yield db
    db.close()


@pytest.fixture
def long_client(corpus):
    """A test client over the long-column corpus."""
    long_column_corpus(corpus)
    return create_app(corpus_config(corpus)).test_client()


def groups(db, filters: Filters) -> list[tuple[str, list, list]]:
    """Each column (or row) of a view as (its key, the cards the page shows first, all its cards in order)."""
    view = comparison.topic_view(db, TOPIC, filters)
    every = comparison.topic_cards(db, TOPIC, filters)
    if filters.view == "stance":
        return [(s, view.columns[s], [c for c in every if c.stance == s]) for s in view.columns]
    field = "holder" if filters.view == "holder" else "title"
    return [(key, shown, [c for c in every if getattr(c, field) == key])
            for key, (_, shown, _) in zip(view.row_keys, view.rows)]


@pytest.mark.parametrize("filters", [
    Filters(), Filters(holder="Analysts"), Filters(document=LONG), Filters(q="witness"), Filters(stance="against"),
    Filters(view="holder"), Filters(view="holder", q="hearing"), Filters(view="source"),
    Filters(view="source", holder="Officials"), Filters(view="holder", document=LONG, stance="against"),
], ids=repr)
def test_paging_by_cursor_gives_each_card_of_a_column_once_in_order(long_db, filters):
    longest = 0
    for key, first, expected in groups(long_db, filters):
        assert first == expected[:PAGE]
        shown = list(first)
        while len(shown) < len(expected):
            cards, following = comparison.more_cards(long_db, TOPIC, filters, key, Cursor.of(shown[-1]))
            assert cards, (key, len(shown))
            shown += cards
            assert following == len(expected) - len(shown)
        assert shown == expected
        longest = max(longest, len(expected))
    # Each case pages at least twice somewhere, through cards that tie on their date.
    assert longest > 2 * PAGE


def test_the_last_page_of_a_column_says_nothing_follows(long_db):
    every = comparison.topic_cards(long_db, TOPIC, Filters(stance="against"))
    cards, following = comparison.more_cards(long_db, TOPIC, Filters(), "against", Cursor.of(every[-PAGE - 3]))
    assert (cards, following) == (every[-PAGE - 2:-2], 2)
    assert comparison.more_cards(long_db, TOPIC, Filters(), "against", Cursor.of(cards[-1])) == (every[-2:], 0)
    assert comparison.more_cards(long_db, TOPIC, Filters(), "against", Cursor.of(every[-1])) == ([], 0)


def test_a_cursor_reads_back_what_it_wrote():
    cursor = Cursor("2024-03-09", "a|b \"c\".txt", 7)
    assert Cursor.decode(cursor.encode()) == cursor


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("text", [
    "", "not a cursor", "%%%", "é", b64('{"date": ""}'), b64('["", "doc.txt"]'), b64('["", "doc.txt", "3"]'),
    b64('["", "doc.txt", 3.0]'), b64('["", "doc.txt", true]'), b64('["", null, 3]'), b64('["", "doc.txt", -1]'),
    b64(f'["", "doc.txt", {2**64}]'), b64('["", "doc.txt", 3'), "A" * 3000, base64.b64encode(b"\xff\xfe").decode(),
])
def test_a_malformed_cursor_is_refused(text):
    with pytest.raises(ValueError):
        Cursor.decode(text)


def test_show_more_with_htmx_brings_only_the_next_cards_of_its_column(long_client):
    page = soup(long_client.get(f"/topics/{TOPIC}"))
    column = page.select_one(".column.stance-against")
    total = int(column.select_one("h2 .n").text)
    every = [a["data-passage"] for a in soup(long_client.get(f"/topics/{TOPIC}?limit=1000")).select(
        ".column.stance-against .card")]
    assert len(every) == total > 3 * PAGE
    link = column.select_one("a.show-more")
    assert link["href"] == f"/topics/{TOPIC}?view=stance&limit=50"
    for shown in (2 * PAGE, 3 * PAGE):
        response = long_client.get(link["hx-get"], headers=HX)
        assert response.status_code == 200 and response.vary and "HX-Request" in response.vary
        fragment = soup(response)
        cards = fragment.select("article.card")
        assert [c["data-passage"] for c in cards] == every[shown - PAGE:shown]
        assert not fragment.select("#results, .column, h1, .stance-tabs")
        assert cards[0].has_attr("autofocus") and not cards[1].has_attr("autofocus")
        link = fragment.select_one("a.show-more")
        assert f"in “{column.h2.contents[0].strip()}” ({total - shown} not shown)" in link.text
        assert link["href"] == f"/topics/{TOPIC}?view=stance&limit={shown + PAGE}"


def test_show_more_in_a_row_brings_only_that_rows_next_cards(long_client):
    page = soup(long_client.get(f"/topics/{TOPIC}?view=holder&q=hearing"))
    row = next(r for r in page.select(".rows .row") if r.h2.contents[0].strip() == "Officials")
    total = int(row.select_one("h2 .n").text)
    link = row.select_one(".row-cards > a.show-more")
    fragment = soup(long_client.get(link["hx-get"], headers=HX))
    cards = fragment.select(".card")
    assert len(cards) == min(PAGE, total - PAGE)
    assert {c.select_one(".holder-name").text for c in cards} == {"Officials"}
    assert not {c["data-passage"] for c in cards} & {c["data-passage"] for c in row.select(".card")}
    assert all("hearing" in card.get_text() for card in cards)


def test_a_show_more_address_opened_without_htmx_is_the_longer_page(long_client):
    link = soup(long_client.get(f"/topics/{TOPIC}?col=against")).select_one(".column.stance-against a.show-more")
    for address in (link["href"], link["hx-get"]):
        page = soup(long_client.get(address))
        assert page.h1 and len(page.select(".column.stance-against .card")) == 2 * PAGE
        assert "shown" in page.select_one(".column.stance-against")["class"]


HUGE = b64(f'["", "x", {10**30}]')


@pytest.mark.parametrize("query", [
    "after=garbage&group=against", "after=&group=against", f"after={b64('[1, 2, 3]')}&group=against",
    f"after={Cursor('', LONG, 3).encode()}&group=nobody", f"after={Cursor('', LONG, 3).encode()}",
    f"after={HUGE}&group=against",
])
def test_a_damaged_show_more_link_is_a_clear_400_for_htmx_and_ignored_by_a_plain_link(long_client, query):
    response = long_client.get(f"/topics/{TOPIC}?limit=50&{query}", headers=HX)
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    page = soup(long_client.get(f"/topics/{TOPIC}?limit=50&{query}"))
    assert len(page.select(".column.stance-against .card")) == 2 * PAGE
