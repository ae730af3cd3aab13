"""Chart data on hand-made cards, and the agreement, disagreement and chart pages via the test client."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import PAKISTAN, add_second_annotator, passage_id

from webapp.analysis import agreement, charts, comparison
from webapp.corpus import taxonomy
from webapp.labels.current import ADJUDICATOR

HTMX = {"HX-Request": "true"}


def tally(stance: str, group: str = "Doc one", key: str = "d1", date: str = "", n: int = 1) -> charts.Tally:
    """Passages of one stance in one chart group, as the aggregates give them."""
    return charts.Tally(charts.Group(group, key), stance, n, date)


# --- Chart data ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "counts, tone",
    [
        ({}, "none"),
        ({"favour": 3}, "favour-strong"),
        ({"favour": 2, "neutral": 2}, "favour"),
        ({"favour": 1, "against": 1}, "split"),
        ({"favour": 1, "neutral": 3, "against": 1}, "split"),
        ({"neutral": 4}, "neutral"),
        ({"against": 2, "neutral": 3}, "against"),
        ({"against": 4, "favour": 1}, "against-strong"),
    ],
)
def test_cell_tone(counts, tone):
    assert charts.Cell(Counter(counts)).tone == tone


def test_matrix_adds_up_each_groups_stances_per_topic_busiest_first():
    counts = {
        "x": [tally("favour", "Ann", "Ann"), tally("against", "Ann", "Ann", n=2), tally("neutral", "Unattributed", "")],
        "y": [tally("against", "Ann", "Ann")],
    }
    rows = charts.matrix(counts)
    assert [(r.group, r.total) for r in rows] == [
        (charts.Group("Ann", "Ann"), 4), (charts.Group("Unattributed", ""), 1),
    ]
    assert rows[0].cells["x"].counts == Counter(favour=1, against=2)
    chart = charts.by_topic(rows, ["x", "y"])
    assert chart["x"].scale == 3
    assert [g.name for g, _ in chart["y"].bars] == ["Ann"]


def test_tallies_come_from_the_aggregates_and_match_the_passages(db):
    tax = taxonomy.from_db(db)
    for by in charts.GROUPINGS:
        counted = charts.tallies(db, tax.ids, by)
        for topic in tax.ids:
            cards = comparison.topic_cards(db, topic, comparison.Filters())
            expected = Counter()
            for c in cards:
                group = (charts.Group(c.holder or "Unattributed", c.holder) if by == "holder"
                         else charts.Group(c.outlet or c.title, c.outlet or c.document))
                expected[(group, c.stance)] += 1
            got = Counter()
            for t in counted[topic]:
                got[(t.group, t.stance)] += t.n
            assert got == expected, (by, topic)


@pytest.mark.parametrize(
    "date, by_month, expected",
    [
        ("2024-03-09", False, "2024"),
        ("2024-03-09", True, "2024-03"),
        ("2024-03", True, "2024-03"),
        ("2024", True, "2024"),
        ("", True, None),
        ("c. 2020", False, None),
    ],
)
def test_period(date, by_month, expected):
    assert charts.period(date, by_month) == expected


def test_timeline_uses_years_across_years_and_months_within_one():
    counts = {"x": [tally("favour", date="2023-05-01"), tally("against", date="2024"), tally("neutral", n=2)]}
    years, by_month, undated = charts.timeline(counts)
    assert (by_month, undated) == (False, 2)
    assert [(g.name, dict(c)) for g, c in years["x"].bars] == [("2023", {"favour": 1}), ("2024", {"against": 1})]
    counts = {"x": [tally("favour", date="2024-05-01"), tally("against", date="2024-01"), tally("neutral", date="2024")]}
    months, by_month, _ = charts.timeline(counts)
    assert by_month is True
    assert [g.name for g, _ in months["x"].bars] == ["2024", "2024-01", "2024-05"]


def test_blind_spots():
    counts = {
        "x": [tally("favour"), tally("against", "Doc two", "d2")],
        "y": [tally("neutral")],
    }
    rows = charts.matrix(counts)
    assert charts.corpus_gaps(rows, ["x", "y"]) == [("x", "neutral"), ("y", "favour"), ("y", "against")]
    gaps = {g.group.key: g for g in charts.group_gaps(rows, ["x", "y"])}
    assert gaps["d1"].missing == [("x", ["neutral", "against"]), ("y", ["favour", "against"])]
    assert gaps["d1"].silent == []
    assert gaps["d2"].missing == [("x", ["favour", "neutral"])]
    assert gaps["d2"].silent == ["y"]


def test_stance_phrase():
    returns = taxonomy.Topic("deportation", "Deportation", "", "Returns are justified.",
                             labels={"favour": "Supports returns", "neutral": "Neutral", "against": "Opposes returns"})
    plain = taxonomy.Topic("x", "Topic X", "", "X is right.")
    assert charts.stance_phrase(returns, "against") == "opposes returns"
    assert charts.stance_phrase(returns, "neutral") == "is neutral on Deportation"
    assert charts.stance_phrase(plain, "favour") == "is in favour of “X is right”"
    assert charts.stance_phrase(plain, "against") == "is against “X is right”"


# --- Pages ---------------------------------------------------------------------------------------





def soup(response) -> BeautifulSoup:
    """The response body parsed as HTML."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def csrf(client) -> str:
    """The session's CSRF token, as a page carries it."""
    return soup(client.get("/agreement")).find("meta", attrs={"name": "csrf-token"})["content"]


def test_charts_page_full_and_matrix_links_filter_the_topic_page(client, db):
    response = client.get("/charts")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = soup(response)
    assert page.find("html") and page.select_one("nav a[href='/charts']")
    links = page.select("table.vp-matrix td.vp a")
    assert links
    link = links[0]
    query = parse_qs(urlsplit(link["href"]).query)
    assert set(query) == {"holder"}
    topic_page = soup(client.get(link["href"]))
    shown = len(topic_page.select("#results article.card"))
    assert shown == int(link.select_one(".vp-count").text)
    assert topic_page.select_one("#holder option[selected]")["value"] == query["holder"][0]


def test_charts_matrix_by_source_as_fragment_and_page(client):
    fragment = client.get("/charts?by=source", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    part = soup(fragment)
    assert part.find().name == "section" and part.find()["id"] == "matrix"
    assert "Sources (outlet or document)" in part.select_one(".switch strong").text
    for link in part.select("td.vp a"):
        assert set(parse_qs(urlsplit(link["href"]).query)) == {"document"}
    page = client.get("/charts?by=source")
    assert "<html" in page.get_data(as_text=True)
    # A boosted navigation needs the whole page.
    assert "<html" in client.get("/charts?by=source", headers={**HTMX, "HX-Boosted": "true"}).get_data(as_text=True)


def test_charts_ignore_unknown_grouping(client):
    page = soup(client.get("/charts?by=nonsense"))
    assert "Holders" in page.select_one("#matrix .switch strong").text


def test_charts_have_text_alternatives_and_blind_spots(client, db):
    page = soup(client.get("/charts"))
    svgs = page.select("#by-source svg.chart")
    assert svgs
    # Bars that are links make a group of named links: an image would hide them from assistive technology.
    for svg in svgs:
        assert svg["role"] == "group" and svg.find("title").text and svg.find("a")
        for link in svg.find_all("a"):
            name = link.find("title", recursive=False).text
            assert re.fullmatch(r".+: \d+ passages? \(.+: \d+, .+: \d+, .+: \d+\)", name)
    over_time = page.select("#over-time svg.chart")
    assert over_time and all(svg["role"] == "img" and svg.find("desc").text and not svg.find("a") for svg in over_time)
    assert page.select("#by-source details.as-table table")
    tax = taxonomy.from_db(db)
    rows = charts.matrix(charts.tallies(db, tax.ids, "source"))
    gaps = page.select_one("#blind-spots").get_text(" ", strip=True)
    for topic_id, stance in charts.corpus_gaps(rows, tax.ids):
        assert f"No passage in this corpus {charts.stance_phrase(tax.get(topic_id), stance)}" in gaps
    assert "No passage from Le Soir" in gaps


def test_charts_page_with_no_labels(client, db):
    db.execute("DELETE FROM labels")
    page = soup(client.get("/charts"))
    assert "nothing to chart" in page.select_one("#matrix").text
    assert page.select_one("#by-source .empty")


def test_agreement_page_with_one_annotator_says_not_enough_data(client):
    response = client.get("/agreement")
    text = soup(response).get_text(" ", strip=True)
    assert response.status_code == 200
    assert "Agreement needs at least two annotators" in text
    assert "only founding-team has labelled passages" in text
    assert "Not enough data" in text
    assert "nan" not in text.lower().split()


def test_agreement_page_shows_figures_with_their_items(client, db):
    add_second_annotator(db)
    result = agreement.topic_agreement(agreement.annotations(db), "deportation")
    page = soup(client.get("/agreement"))
    section = page.select_one("section[aria-labelledby='agree-deportation']")
    rows = section.select("tbody tr")
    assert "Krippendorff" in rows[0].text and "bea and founding-team" in rows[1].text
    stance_cell = rows[1].select("td")[1].get_text(" ", strip=True)
    pair = result.pairs[0]
    assert stance_cell == f"{pair.stance.value:.2f} on {pair.stance.items} passages"
    assert page.select_one(".to-disagreements a")["href"] == "/disagreements"
    assert "2 passages where annotators differ" in page.select_one(".to-disagreements").text


def test_disagreements_page_and_fragment(client, db):
    add_second_annotator(db)
    page = soup(client.get("/disagreements"))
    items = page.select("article.disagreement")
    assert {i["id"] for i in items} == {f"passage-{passage_id(db, PAKISTAN, p)}" for p in (7, 8)}
    seven = page.select_one(f"#passage-{passage_id(db, PAKISTAN, 7)}")
    assert [th.text for th in seven.select("thead th")] == ["Topic", "bea", "founding-team", "Adjudicated label"]
    assert seven.select_one("tr.differs .differs-note")
    assert not seven.select("input[name='stance-deportation'][checked]")
    fragment = client.get("/disagreements?show=all", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert soup(fragment).find()["id"] == "list"


def test_disagreements_page_when_there_are_none(client):
    assert "No disagreements" in soup(client.get("/disagreements")).select_one("#list").text


def adjudication_form(token: str, topic: str = "deportation", stance: str = "neutral", **extra) -> dict:
    """The fields the adjudication form posts for one offered topic."""
    return {"csrf_token": token, "topic": topic, f"stance-{topic}": stance,
            f"holder-{topic}": "Pakistani officials", "note": "quoted, not endorsed", "show": "open", **extra}


def test_adjudicate_with_a_plain_form(app, client, db, corpus: Path):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    response = client.post(f"/disagreements/{seven}", data=adjudication_form(csrf(client)))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/disagreements?show=open#passage-{seven}"
    rows = list(db.query("SELECT topic, stance, holder FROM labels WHERE annotator = ? AND position = 7", [ADJUDICATOR]))
    assert rows == [{"topic": "deportation", "stance": "neutral", "holder": "Pakistani officials"}]
    change = db.execute("SELECT annotator, note FROM label_changes ORDER BY id DESC").fetchone()
    assert change == (ADJUDICATOR, f"Adjudicated by {app.config['ANNOTATOR']}: quoted, not endorsed")
    assert '"annotator": "adjudicator"' in (corpus / "labels" / "passages" / f"{PAKISTAN}.jsonl").read_text(encoding="utf-8")
    after = soup(client.get(response.headers["Location"]))
    assert "Adjudication saved." in after.select_one(".flash").text
    assert not after.select_one(f"#passage-{seven}")
    shown = soup(client.get("/disagreements?show=all")).select_one(f"#passage-{seven}")
    assert "is-adjudicated" in shown["class"]
    assert shown.select_one("input[name='stance-deportation'][value='neutral']").has_attr("checked")
    # The comparison now shows the adjudicated stance.
    topic = soup(client.get("/topics/deportation"))
    assert topic.select_one(f".column.stance-neutral #card-{seven}")


def test_adjudicate_with_htmx_returns_the_component(client, db):
    add_second_annotator(db)
    eight = passage_id(db, PAKISTAN, 8)
    form = adjudication_form(csrf(client), stance="", show="all")
    response = client.post(f"/disagreements/{eight}", data=form, headers=HTMX)
    assert response.status_code == 200
    part = soup(response)
    article = part.find("article")
    assert article["id"] == f"passage-{eight}" and "is-adjudicated" in article["class"]
    assert part.select_one(".saved").text == "Adjudication saved."
    assert article.select_one("input[name='stance-deportation'][value='']").has_attr("checked")
    assert list(db.query("SELECT topic FROM labels WHERE annotator = ? AND position = 8", [ADJUDICATOR])) == [{"topic": ""}]
    again = client.post(f"/disagreements/{eight}", data=form, headers=HTMX)
    assert soup(again).select_one(".saved").text == "Adjudication unchanged."


def test_withdraw_an_adjudication(client, db):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    token = csrf(client)
    client.post(f"/disagreements/{seven}", data=adjudication_form(token))
    # Withdrawing needs no stance decisions: the form's radio buttons are not required then.
    response = client.post(f"/disagreements/{seven}", data={"csrf_token": token, "action": "withdraw", "show": "all"},
                           headers=HTMX)
    article = soup(response).find("article")
    assert "is-adjudicated" not in article["class"]
    assert article.select_one(".saved").text == "Adjudication withdrawn."
    assert not db["labels"].count_where("annotator = ?", [ADJUDICATOR])
    assert db.execute("SELECT note FROM label_changes ORDER BY id DESC").fetchone()[0].startswith("Adjudication withdrawn by ")


def test_withdrawing_where_annotators_agree_removes_the_item(client, db):
    nine = passage_id(db, PAKISTAN, 9)
    token = csrf(client)
    client.post(f"/disagreements/{nine}", data=adjudication_form(token))
    item = soup(client.get("/disagreements?show=all")).select_one(f"#passage-{nine}")
    assert "is-adjudicated" in item["class"] and not item.select(".differs-note")
    response = client.post(f"/disagreements/{nine}", data={"csrf_token": token, "action": "withdraw"}, headers=HTMX)
    assert "leaves the list" in soup(response).select_one(f"p#passage-{nine}").text
    assert not soup(client.get("/disagreements?show=all")).select_one(f"#passage-{nine}")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"stance-deportation": None}, "Choose a stance"),
        ({"stance-deportation": "maybe"}, "Unknown stance"),
        ({"topic": "nonsense"}, "Unknown topic"),
        ({"note": "n" * 495}, "an adjudication note can be at most"),
    ],
)
def test_adjudicate_refuses_incomplete_forms(client, db, fields, message):
    add_second_annotator(db)
    form = {k: v for k, v in {**adjudication_form(csrf(client)), **fields}.items() if v is not None}
    response = client.post(f"/disagreements/{passage_id(db, PAKISTAN, 7)}", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert not db["labels"].count_where("annotator = ?", [ADJUDICATOR])


def test_adjudicate_needs_the_csrf_token(client, db):
    add_second_annotator(db)
    form = adjudication_form("wrong")
    assert client.post(f"/disagreements/{passage_id(db, PAKISTAN, 7)}", data=form).status_code == 400
    assert not db["labels"].count_where("annotator = ?", [ADJUDICATOR])


def test_adjudicate_a_passage_that_is_not_content(client, db):
    heading = db.execute("SELECT id FROM passages WHERE kind != 'content' LIMIT 1").fetchone()[0]
    response = client.post(f"/disagreements/{heading}", data=adjudication_form(csrf(client)))
    assert response.status_code == 400
    assert "Only content passages" in response.get_data(as_text=True)


def test_an_adjudication_note_just_under_its_limit_is_saved_whole(client, db):
    from webapp.labels import validation

    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    room = validation.MAX_NOTE - len(f"Adjudicated by {client.application.config['ANNOTATOR']}: ")
    response = client.post(f"/disagreements/{seven}", data={**adjudication_form(csrf(client)), "note": "n" * room})
    assert response.status_code == 303
    note = db.execute("SELECT note FROM label_changes ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert note.endswith(": " + "n" * room) and len(note) == validation.MAX_NOTE
