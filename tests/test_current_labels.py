"""Which labels count: every screen, search, export, API, chart and model reads them one way.

A label counts while its passage keeps the text it was made on; an adjudication replaces every
other label on its passage; and annotators who differ are settled by majority, a tie going to
neutral when neutral is among the leaders, else to the first stance in favour/neutral/against order.
"""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from conftest import PAKISTAN, passage_id

from webapp.analysis import agreement
from webapp.corpus.splitting import text_hash
from webapp.corpus.taxonomy import STANCES
from webapp.labels import current, editor
from webapp.labels import queue as label_queue
from webapp.similarity import suggester

# Against deportation in another source, with passage 7 of PAKISTAN among the passages most like it.
ELSEWHERE = ("003_bbfe681b051be986.txt", 0)


def soup(response) -> BeautifulSoup:
    """The response body parsed as HTML, after checking the request succeeded."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf(client) -> str:
    """The session's CSRF token, read from a page as a browser would."""
    return soup(client.get("/")).find("meta", attrs={"name": "csrf-token"})["content"]


def stances_of(tags) -> list[str]:
    """The stance each tag names by its `stance-…` class (a column, a badge)."""
    return [next(c[len("stance-"):] for c in tag["class"] if c.startswith("stance-")) for tag in tags]


def column_of(client, passage: int, topic: str = "deportation") -> str | None:
    """The stance column a passage's card stands in on the topic page, or None when it is absent."""
    page = soup(client.get(f"/topics/{topic}"))
    columns = [c for c in page.select(".columns .column") if c.select_one(f"#card-{passage}")]
    assert len(columns) <= 1
    return stances_of(columns)[0] if columns else None


def text_of(db, passage: int) -> str:
    """A passage's present text."""
    return db.execute("SELECT text FROM passages WHERE id = ?", [passage]).fetchone()[0]


def matrix_row(client, topic: str = "deportation") -> dict[str, int]:
    """The overview's passage counts per stance for one topic."""
    row = soup(client.get("/")).select_one(f'table.matrix tr[data-topic="{topic}"]')
    return {s: int(row.select_one(f"td.stance-{s}").get_text(" ", strip=True).split()[0]) for s in STANCES}


def search_ids(client, **args) -> set[int]:
    """The passages a search page lists."""
    return {int(li["data-passage"]) for li in soup(client.get("/search", query_string=args)).select("li.hit")}


def api_ids(client, **args) -> set[int]:
    """The passages the API's passage list returns."""
    response = client.get("/api/passages", query_string=args)
    assert response.status_code == 200
    return {p["id"] for p in response.get_json()}


def api_labels(client, passage: int) -> list[tuple[str, str | None, str | None]]:
    """(annotator, topic, stance) of each label the API gives one passage."""
    found = client.get(f"/api/passages/{passage}").get_json()
    return [(label["annotator"], label["topic"], label["stance"]) for label in found["labels"]]


def exported(client, passage: int) -> list[tuple[str, str, str]]:
    """(annotator, topic, stance) of a passage's rows in the CSV download."""
    body = client.get("/downloads/labels.csv").get_data(as_text=True)
    rows = csv.DictReader(io.StringIO(body))
    return sorted((r["annotator"], r["topic"], r["stance"]) for r in rows if int(r["passage_id"]) == passage)


def related_ids(client, passage: int, mode: str) -> dict[int, set[str]]:
    """The passages the related panel suggests in a mode, each with its stance badges."""
    panel = soup(client.get(f"/passages/{passage}/related", query_string={"mode": mode}))
    return {int(li["data-passage"]): set(stances_of(li.select(".badge"))) for li in panel.select("li.suggestion")}


def label_as(client, token: str, passage: int, stance: str, topic: str = "deportation") -> None:
    """Save the app annotator's label on a passage through the labelling screen."""
    response = client.post(f"/label/{passage}", data={
        "csrf_token": token, "then": "passage", f"stance-{topic}": stance, f"holder-{topic}": "Pakistani government",
    })
    assert response.status_code == 303


def save(db, passage: int, annotator: str, stance: str, topic: str = "deportation") -> None:
    """Set another annotator's label on a passage, as their own labelling session would."""
    assert editor.save(db, passage, annotator, [editor.Choice(topic, stance, "Pakistani government")])


# --- an adjudication decides every surface ------------------------------------------------------

def test_an_adjudication_against_two_favour_labels_is_what_every_surface_shows(app, client, db):
    seven = passage_id(db, PAKISTAN, 7)
    elsewhere = passage_id(db, *ELSEWHERE)
    annotator = app.config["ANNOTATOR"]
    token = csrf(client)
    label_as(client, token, seven, "favour")
    assert column_of(client, seven) == "favour"
    assert seven in related_ids(client, elsewhere, "counterpoints")
    before = matrix_row(client)
    progress_before = label_queue.progress(db, annotator)

    response = client.post(f"/disagreements/{seven}", data={
        "csrf_token": token, "topic": "deportation", "stance-deportation": "against",
        "holder-deportation": "Pakistani officials", "note": "expulsion is reported, not endorsed", "show": "all",
    })
    assert response.status_code == 303

    # The topic page and the overview matrix.
    assert column_of(client, seven) == "against"
    card = soup(client.get("/topics/deportation")).select_one(f"#card-{seven}")
    assert "contested" not in card["class"]
    after = matrix_row(client)
    assert (after["favour"], after["against"]) == (before["favour"] - 1, before["against"] + 1)

    # Search: the stance filter and the labels shown on the hit.
    assert seven not in search_ids(client, q="expulsion", topic="deportation", stance="favour")
    assert seven in search_ids(client, q="expulsion", topic="deportation", stance="against")
    hit = soup(client.get("/search", query_string={"q": "expulsion"})).select_one(f'li.hit[data-passage="{seven}"]')
    assert stances_of(hit.select(".hit-labels .badge")) == ["against"]
    holders = {o["value"] for o in soup(client.get("/search")).select("select[name=holder] option")}
    assert "Pakistani officials" in holders and "Pakistani government" not in holders

    # The JSON API: topic counts, both passage lists, one passage.
    deportation = next(t for t in client.get("/api/topics").get_json() if t["id"] == "deportation")
    assert deportation["counts"] == after
    assert seven not in api_ids(client, topic="deportation", stance="favour")
    assert seven in api_ids(client, topic="deportation", stance="against")
    assert seven not in api_ids(client, document=PAKISTAN, stance="favour")
    assert seven in api_ids(client, document=PAKISTAN, stance="against")
    assert api_labels(client, seven) == [(current.ADJUDICATOR, "deportation", "against")]

    # Exports carry the adjudication alone.
    assert exported(client, seven) == [(current.ADJUDICATOR, "deportation", "against")]

    # Agreement still compares what the annotators themselves said; the disagreement list
    # shows their labels beside the adjudication.
    assert agreement.annotations(db)[seven] == {annotator: {"deportation": "favour"},
                                                 "founding-team": {"deportation": "favour"}}
    item = soup(client.get("/disagreements?show=all")).select_one(f"#passage-{seven}")
    assert "is-adjudicated" in item["class"]
    assert stances_of(item.select(".side-by-side td .badge")) == ["favour", "favour"]
    assert item.select_one("input[name='stance-deportation'][value='against']").has_attr("checked")

    # Charts: the adjudicated holder's cell on deportation is wholly against; the replaced one is gone.
    charts = soup(client.get("/charts?by=holder"))
    rows = {tr.th.contents[0].strip(): tr for tr in charts.select("table.vp-matrix tbody tr")}
    assert "tone-against-strong" in rows["Pakistani officials"].select_one('td[data-topic="deportation"]')["class"]
    assert "Pakistani government" not in rows

    # The queue: the adjudication settles what the passage shows, not who has labelled it.
    assert label_queue.progress(db, annotator) == progress_before
    assert seven not in {p["id"] for p in label_queue.needing(db, annotator)}
    assert seven in {p["id"] for p in label_queue.needing(db, "cy")}

    # Suggestions learn the adjudicated stance; counterpoints follow it too.
    assert dict(suggester.training_data(db))[text_of(db, seven)] == {"deportation": "against"}
    assert seven not in related_ids(client, elsewhere, "counterpoints")
    assert related_ids(client, elsewhere, "same_topic")[seven] == {"against"}


def test_withdrawing_the_adjudication_lets_the_annotators_labels_count_again(client, db):
    seven = passage_id(db, PAKISTAN, 7)
    agreement.adjudicate(db, seven, [editor.Choice("deportation", "against")], "lead")
    assert seven in search_ids(client, q="expulsion", topic="deportation", stance="against")
    agreement.withdraw(db, seven, "lead")
    assert seven in search_ids(client, q="expulsion", topic="deportation", stance="favour")
    assert seven not in search_ids(client, q="expulsion", topic="deportation", stance="against")
    assert exported(client, seven) == [("founding-team", "deportation", "favour")]


def test_adjudicating_no_topic_takes_the_passage_off_every_topic(client, db):
    seven = passage_id(db, PAKISTAN, 7)
    agreement.adjudicate(db, seven, [], "lead")
    assert column_of(client, seven) is None
    assert seven not in search_ids(client, q="expulsion", topic="deportation")
    assert api_labels(client, seven) == [(current.ADJUDICATOR, None, None)]
    assert exported(client, seven) == [(current.ADJUDICATOR, "", "")]


# --- a label stops counting when its passage's text changes -------------------------------------

def change_text(db, passage: int, text: str) -> None:
    """Give a passage new text, as re-importing an edited document does."""
    with db.atomic():
        db.execute("UPDATE passages SET text = ?, text_hash = ? WHERE id = ?", [text, text_hash(text), passage])


def test_labels_on_changed_text_count_nowhere_and_are_marked_for_review(app, client, db):
    seven = passage_id(db, PAKISTAN, 7)
    text = text_of(db, seven)
    before = matrix_row(client)
    assert column_of(client, seven) == "favour"

    change_text(db, seven, text + " The ministry later revised the figures.")

    assert column_of(client, seven) is None
    assert matrix_row(client)["favour"] == before["favour"] - 1
    assert seven in search_ids(client, q="expulsion")
    assert seven not in search_ids(client, q="expulsion", topic="deportation")
    assert not soup(client.get("/search", query_string={"q": "revised figures"})).select(".hit-labels")
    assert seven not in api_ids(client, topic="deportation")
    assert seven not in api_ids(client, document=PAKISTAN, stance="favour")
    assert api_labels(client, seven) == []
    assert exported(client, seven) == []
    assert seven not in agreement.annotations(db)
    assert seven in {p["id"] for p in label_queue.needing(db, "founding-team")}
    assert text + " The ministry later revised the figures." not in dict(suggester.training_data(db))
    assert current.passage_stances(db, [seven]) == {}
    # The label is kept, and the passage page says it needs review.
    page = soup(client.get(f"/passages/{seven}"))
    assert [row.select_one(".review").text for row in page.select(".labels-table tr.stale")] == ["Needs review"]


def test_an_adjudication_of_the_old_text_no_longer_overrules(client, db):
    seven = passage_id(db, PAKISTAN, 7)
    text = text_of(db, seven)
    agreement.adjudicate(db, seven, [editor.Choice("deportation", "against")], "lead")
    change_text(db, seven, text + " Revised.")
    assert editor.save(db, seven, "bea", [editor.Choice("deportation", "neutral")])
    assert column_of(client, seven) == "neutral"
    assert api_labels(client, seven) == [("bea", "deportation", "neutral")]
    assert exported(client, seven) == [("bea", "deportation", "neutral")]


# --- annotators who differ: majority, and ties -----------------------------------------------------

@pytest.mark.parametrize(
    "others, shown",
    [
        # founding-team says favour on passage 7; these annotators add their stances.
        (["against"], "favour"),               # favour-against tie, no neutral: first in order
        (["neutral"], "neutral"),              # favour-neutral tie: neutral
        (["against", "against"], "against"),   # no tie: the majority
        (["favour", "against"], "favour"),     # no tie: the majority
        (["neutral", "against"], "neutral"),   # three-way tie: neutral
        (["neutral", "against", "against"], "against"),  # no tie: the majority
        (["against", "neutral", "neutral", "against"], "neutral"),  # against-neutral tie: neutral
    ],
)
def test_differing_annotators_are_settled_one_way_everywhere(client, db, others, shown):
    seven = passage_id(db, PAKISTAN, 7)
    for i, stance in enumerate(others):
        save(db, seven, f"annotator-{i}", stance)
    assert column_of(client, seven) == shown
    card = soup(client.get("/topics/deportation")).select_one(f"#card-{seven}")
    assert ("contested" in card["class"]) == (set(others) != {"favour"})
    assert seven in api_ids(client, topic="deportation", stance=shown)
    assert current.passage_stances(db, [seven]) == {seven: {"deportation": shown}}
    assert dict(suggester.training_data(db))[text_of(db, seven)] == {"deportation": shown}
    assert related_ids(client, passage_id(db, *ELSEWHERE), "same_topic")[seven] == {shown}


@pytest.mark.parametrize("other, shown", [("neutral", "neutral"), ("against", "favour")])
def test_the_overview_counts_a_tie_where_the_topic_page_shows_it(client, db, other, shown):
    seven = passage_id(db, PAKISTAN, 7)
    expected = matrix_row(client)
    expected["favour"] -= 1
    expected[shown] += 1
    save(db, seven, "bea", other)
    assert matrix_row(client) == expected
    deportation = next(t for t in client.get("/api/topics").get_json() if t["id"] == "deportation")
    assert deportation["counts"] == expected


@pytest.mark.parametrize(
    "votes, expected",
    [
        (["favour", "against"], ("favour", True)),
        (["against", "favour"], ("favour", True)),
        (["favour", "neutral"], ("neutral", True)),
        (["against", "neutral"], ("neutral", True)),
        (["favour", "neutral", "against"], ("neutral", True)),
        (["against", "against", "favour"], ("against", True)),
        (["neutral", "neutral", "favour", "favour", "against"], ("neutral", True)),
        (["against"], ("against", False)),
        (["favour", "favour"], ("favour", False)),
    ],
)
def test_consensus_by_hand(votes, expected):
    assert current.consensus(votes) == expected
