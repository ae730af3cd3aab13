"""The related panel, confirming and dismissing links, through the test client."""

import pytest
from bs4 import BeautifulSoup
from conftest import corpus_config, passage_id

from webapp import create_app
from webapp.corpus.splitting import text_hash
from webapp.labels import current, editor, links
from webapp.labels.build import build
from webapp.store.db import connect

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    """Parse a response body."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")




def token(client, path: str = "/") -> str:
    """The CSRF token a page carries."""
    return soup(client.get(path)).select_one('meta[name="csrf-token"]')["content"]


@pytest.fixture
def kassou(db):
    """An op-ed passage against deportation (000, position 9: non-refoulement)."""
    return passage_id(db, "000_26419f1f75a7eb13.txt", 9)


def suggestion_ids(page: BeautifulSoup) -> list[int]:
    """The passage ids suggested in a related panel."""
    return [int(li["data-passage"]) for li in page.select("#related .suggestion")]


def test_passage_page_suggests_related_passages_from_other_documents(client, db, kassou):
    page = soup(client.get(f"/passages/{kassou}"))
    ids = suggestion_ids(page)
    assert ids
    documents = {d for (d,) in db.execute(f"SELECT document FROM passages WHERE id IN ({','.join('?' * len(ids))})", ids)}
    assert "000_26419f1f75a7eb13.txt" not in documents
    first = page.select_one("#related .suggestion")
    assert first.select_one(".score").text.endswith("% similar")
    assert first.select(".terms mark")


def stances_of(db, pid: int) -> dict[str, str]:
    """A single-annotator passage's stance per topic."""
    return dict(db.execute(
        """SELECT l.topic, l.stance FROM labels l JOIN passages p
        ON p.document = l.document AND p.position = l.position WHERE p.id = ? AND l.topic != ''""",
        [pid],
    ).fetchall())


def test_counterpoints_take_the_opposite_stance_on_a_shared_topic(client, db, kassou):
    mine = stances_of(db, kassou)
    opposite = {"favour": "against", "against": "favour"}
    ids = suggestion_ids(soup(client.get(f"/passages/{kassou}/related?mode=counterpoints", headers=HX)))
    assert ids
    for pid in ids:
        theirs = stances_of(db, pid)
        assert any(theirs.get(topic) == opposite.get(stance) for topic, stance in mine.items())


def test_the_tab_fragment_is_just_the_panel_and_the_same_url_is_a_page(client, kassou):
    url = f"/passages/{kassou}/related?mode=same_topic"
    fragment = client.get(url, headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="related"') and "<html" not in fragment
    assert "<html" in client.get(url).get_data(as_text=True)


def test_confirming_a_link_records_it_writes_the_file_and_shows_it_on_both_sides(client, db, kassou, corpus):
    target = suggestion_ids(soup(client.get(f"/passages/{kassou}")))[0]
    response = client.post(
        f"/passages/{kassou}/links",
        data={"csrf_token": token(client), "target": target, "relation": "contradicts", "note": "opposed views"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/passages/{kassou}?related=all#related")
    assert [(r["other_id"], r["relation"], r["note"]) for r in links.for_passage(db, kassou)] == [(target, "contradicts", "opposed views")]
    assert '"relation": "contradicts"' in (corpus / "labels" / "links.jsonl").read_text(encoding="utf-8")
    other_side = soup(client.get(f"/passages/{target}"))
    assert "Contradicts" in other_side.select_one("#related ul.links").text


def test_the_comparison_card_counts_counterpoints(client, db, kassou):
    target = passage_id(db, "002_ce58d6deddc87eed.txt", 13)
    client.post(f"/passages/{kassou}/links", data={"csrf_token": token(client), "target": target, "relation": "contradicts"})
    page = soup(client.get("/topics/deportation"))
    card = page.select_one(f'.card[data-passage="{kassou}"]')
    assert card.select_one(".link-counts").text.strip() == "1 counterpoint"


def test_a_dismissed_suggestion_is_not_suggested_again(client, kassou):
    target = suggestion_ids(soup(client.get(f"/passages/{kassou}")))[0]
    response = client.post(f"/passages/{kassou}/links/dismiss", data={"csrf_token": token(client), "target": target}, headers=HX)
    assert response.status_code == 200
    assert target not in suggestion_ids(soup(response))
    assert target not in suggestion_ids(soup(client.get(f"/passages/{kassou}")))


def test_a_bad_relation_is_refused_with_a_message_and_nothing_is_saved(client, db, kassou):
    response = client.post(
        f"/passages/{kassou}/links", data={"csrf_token": token(client), "target": "1", "relation": "agrees"}, headers=HX
    )
    assert response.status_code == 400
    assert "Unknown relation 'agrees'" in soup(response).select_one(".error-message").text
    assert db["links"].count == 0


def test_writes_without_the_csrf_token_are_refused(client, kassou):
    assert client.post(f"/passages/{kassou}/links", data={"target": "1", "relation": "supports"}).status_code == 400


def test_a_passage_added_after_start_is_suggested_at_once(client, db, kassou, app):
    client.get(f"/passages/{kassou}")
    text = ("Belgium negotiating with the Taliban on expelling Afghan nationals violates non-refoulement, "
            "because identification by the regime exposes people to persecution before any removal.")
    with db.atomic():
        db["documents"].insert({"id": "new.txt", "title": "New"})
        db["passages"].insert({"document": "new.txt", "position": 0, "kind": "content", "text": text, "text_hash": "x"})
    new_id = passage_id(db, "new.txt", 0)
    assert suggestion_ids(soup(client.get(f"/passages/{kassou}")))[0] == new_id


def test_similarity_can_be_switched_off(corpus):
    app = create_app({**corpus_config(corpus), "SIMILARITY": False})
    database = connect(app.config["DATABASE"])
    build(database, corpus / "seeds", corpus / "labels")
    client = app.test_client()
    page = soup(client.get("/passages/3"))
    assert page.select_one("#related") is None
    assert client.get("/passages/3/related").status_code == 404


OPPOSITE = {"favour": "against", "against": "favour"}
WOMENS_RIGHTS_ONLY = ("004_1cda40431279602b.txt", 18)  # condemns the policies; no passage defends them
NEUTRAL_ONLY = ("001_f899d59df6dd666f.txt", 8)  # neutral on recognition, no other topic


def add_labelled(db, document: str, text: str, topic: str, stance: str) -> int:
    """A one-passage document from another source, labelled with one stance on one topic."""
    with db.atomic():
        db["documents"].insert({"id": document, "title": document})
        db["passages"].insert({"document": document, "position": 0, "kind": "content", "text": text,
                               "text_hash": text_hash(text)})
    new_id = passage_id(db, document, 0)
    editor.save(db, new_id, "tester", [editor.Choice(topic, stance)])
    return new_id


def text_of(db, pid: int) -> str:
    """A passage's text."""
    return db.execute("SELECT text FROM passages WHERE id = ?", [pid]).fetchone()[0]


def counterpoints_page(client, pid: int, shown: int = 200) -> BeautifulSoup:
    """The counterpoints tab of a passage, as htmx asks for it."""
    return soup(client.get(f"/passages/{pid}/related?mode=counterpoints&shown={shown}", headers=HX))


def test_counterpoints_are_every_passage_of_another_source_with_the_opposite_consensus_most_similar_first(
        client, db, kassou):
    content = dict(db.execute("SELECT id, document FROM passages WHERE kind = 'content'").fetchall())
    stances = current.passage_stances(db, content)
    expected = {
        pid for pid, theirs in stances.items()
        if content[pid] != content[kassou]
        and any(theirs.get(topic) == OPPOSITE.get(stance) for topic, stance in stances[kassou].items())
    }
    assert len(expected) > 8  # more than one panel's worth, some sharing no word with it
    page = counterpoints_page(client, kassou)
    assert set(suggestion_ids(page)) == expected
    assert f"{len(expected)} passages take the opposite stance" in page.select_one("#related .summary").text
    api = client.get(f"/api/passages/{kassou}/related?mode=counterpoints&k=100").get_json()
    assert [item["id"] for item in api] == suggestion_ids(page)
    assert [item["score"] for item in api] == sorted((item["score"] for item in api), reverse=True)


def test_a_counterpoint_sharing_no_word_with_the_passage_is_listed_after_the_similar_ones(client, db, kassou):
    client.get(f"/passages/{kassou}")  # the index is built before the new passage arrives
    stranger = add_labelled(db, "stranger.txt", "Zithers yodel.", "deportation", "favour")
    assert not {"zithers", "yodel"} & set(text_of(db, kassou).lower().split())
    supporters = counterpoints_page(client, kassou)
    ids = suggestion_ids(supporters)
    assert stranger in ids
    sharing = [int(li["data-passage"]) for li in supporters.select("#related .suggestion") if li.select(".terms mark")]
    assert sharing and all(ids.index(pid) < ids.index(stranger) for pid in sharing)


def test_no_counterpoints_is_said_only_when_no_passage_takes_the_opposite_stance(client, db):
    condemns = passage_id(db, *WOMENS_RIGHTS_ONLY)
    page = counterpoints_page(client, condemns)
    assert suggestion_ids(page) == []
    assert "no passage from another source takes the opposite stance" in page.select_one("#related .empty").text
    defends = add_labelled(db, "defence.txt", "Quilted yaks wander.", "womens_rights", "favour")
    page = counterpoints_page(client, condemns)
    assert suggestion_ids(page) == [defends]
    assert "No counterpoints" not in page.text


def test_a_neutral_passage_has_no_counterpoints_and_the_panel_says_why(client, db):
    page = counterpoints_page(client, passage_id(db, *NEUTRAL_ONLY))
    assert suggestion_ids(page) == []
    assert "neutral has no opposite stance" in page.select_one("#related .empty").text


def test_a_long_list_of_counterpoints_comes_a_panel_at_a_time_with_show_more(client, db, kassou):
    first = counterpoints_page(client, kassou, shown=0)
    ids = suggestion_ids(first)
    assert len(ids) == 8
    more = first.select_one("#related .show-more a")
    assert more["href"] == more["hx-get"]
    everything = soup(client.get(more["href"], headers=HX))
    assert suggestion_ids(everything)[:8] == ids and len(suggestion_ids(everything)) > 8
    assert everything.select_one("#related .show-more") is None
    assert "<html" in client.get(more["href"]).get_data(as_text=True)
