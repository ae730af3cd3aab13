"""Key arguments: passages that make the same argument are grouped per side, shown as a view of
the topic page, counted on the overview, and corrected by people (move, merge, name, undo)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from conftest import csrf, soup

from webapp.analysis import comparison
from webapp.findings import arguments, grouping

RETURNS = [
    "Deporting Afghan refugees back to Taliban rule puts their lives in danger.",
    "Deportation of Afghan refugees to Taliban rule endangers their lives.",
    "Afghan refugees deported back under Taliban rule face danger to their lives.",
]
ECONOMY = [
    "The harbour tax raised the price of imported grain for every family in the city.",
    "Imported grain got dearer for city families because of the harbour tax.",
]


def test_paraphrases_are_one_argument_and_other_points_another():
    labels = grouping.group([RETURNS[0], ECONOMY[0], RETURNS[1], ECONOMY[1], RETURNS[2]])
    assert labels[0] == labels[2] == labels[4]
    assert labels[1] == labels[3]
    assert labels[0] != labels[1]


def test_grouping_takes_odd_input_without_failing():
    assert grouping.group([]) == []
    assert grouping.group(["Only one passage."]) == [0]
    assert grouping.group(["   ", "\n"]) == [0, 1]


def test_large_sides_are_grouped_in_blocks_that_still_meet(monkeypatch):
    # With blocks of three, paraphrases land in different blocks: their centres must meet.
    monkeypatch.setattr(grouping, "BLOCK", 3)
    labels = grouping.group([RETURNS[0], ECONOMY[0], RETURNS[1], ECONOMY[1], RETURNS[2]])
    assert labels[0] == labels[2] == labels[4]
    assert labels[1] == labels[3] != labels[0]


def test_the_representative_sentence_is_the_first_and_is_kept_short():
    assert grouping.sentence("First point here. Then support for it.") == "First point here."
    long = "word " * 200
    assert len(grouping.sentence(long)) <= grouping.MAX_SENTENCE + 2


def test_every_labelled_passage_is_in_exactly_one_argument_of_its_side(db):
    sides = arguments.topic_arguments(db, "deportation")
    view = comparison.topic_view(db, "deportation", comparison.Filters())
    for stance, found in sides.items():
        ids = [card.id for a in found for card in a.cards]
        assert len(ids) == len(set(ids)) == view.column_totals[stance]
        assert all(card.stance == stance and card.text for a in found for card in a.cards)
    assert sum(len(found) for found in sides.values()) > 3


def test_filters_narrow_the_passages_shown_not_the_grouping(db):
    whole = arguments.topic_arguments(db, "deportation")
    biggest = max((a for found in whole.values() for a in found), key=lambda a: a.passages)
    document = biggest.cards[0].document
    narrowed = arguments.topic_arguments(db, "deportation", comparison.Filters(document=document))
    keys = {a.key: a for found in narrowed.values() for a in found}
    assert biggest.key in keys
    assert all(card.document == document for a in keys.values() for card in a.cards)


def test_the_arguments_view_shows_each_argument_with_its_counts(client):
    page = soup(client.get("/topics/deportation?view=arguments"))
    found = page.select(".argument")
    assert found
    first = found[0]
    assert first.select_one("q").get_text(strip=True)
    counts = first.select_one(".argument-counts").get_text(" ", strip=True)
    cards = first.select(".card")
    assert counts.startswith(f"{len(cards)} passage")
    assert page.select_one('input[name="view"][value="arguments"]').has_attr("checked")


def test_htmx_gets_the_arguments_fragment_alone(client):
    response = client.get("/topics/deportation?view=arguments", headers={"HX-Request": "true"})
    page = soup(response)
    assert page.select_one("#results .argument") is not None
    assert page.select_one("form#filters") is None


def test_the_overview_counts_arguments_per_side(client, db):
    page = soup(client.get("/"))
    row = page.select_one('tr[data-topic="deportation"] .argument-summary').get_text(" ", strip=True)
    sides = arguments.topic_arguments(db, "deportation")
    for stance, found in sides.items():
        assert f" {len(found)}" in row
    single = [a for found in sides.values() for a in found if len({c.document for c in a.cards}) == 1]
    listed = page.select_one('tr[data-topic="deportation"] .single-source')
    assert listed.select_one("summary").get_text(strip=True) == f"{len(single)} made in one source only"
    biggest = max(single, key=lambda a: a.passages)
    assert listed.select("li a")[0]["href"] == f"/topics/deportation?view=arguments#argument-{biggest.key}"


def _biggest(db, topic="deportation"):
    return max((a for found in arguments.topic_arguments(db, topic).values() for a in found), key=lambda a: a.passages)


def _keys_by_passage(db, topic="deportation") -> dict[int, int]:
    return {card.id: a.key for found in arguments.topic_arguments(db, topic).values() for a in found for card in a.cards}


def test_moving_a_passage_out_makes_it_its_own_argument_and_writes_the_file(client, db, app):
    argument = _biggest(db)
    moved = next(card.id for card in argument.cards if card.id != argument.key)
    form = soup(client.get(f"/topics/deportation/arguments/move?passage={moved}"))
    assert form.select_one('input[name="to"][value="alone"]') is not None
    response = client.post("/topics/deportation/arguments/move",
                           data={"passage": moved, "to": "alone", "csrf_token": csrf(client)})
    assert response.status_code == 303
    keys = _keys_by_passage(db)
    assert keys[moved] == moved
    assert keys[argument.key] == argument.key
    lines = (Path(app.config["LABELS_DIR"]) / "arguments.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["action"] == "move"


def test_merging_folds_every_passage_into_the_chosen_argument_and_undo_takes_it_back(client, db):
    sides = arguments.topic_arguments(db, "deportation")
    side = max(sides.values(), key=len)
    # The second biggest argument: a merge of several passages must still be undone in one step.
    source, target = side[1], side[0]
    assert source.passages > 1
    before = _keys_by_passage(db)
    page = soup(client.get(f"/topics/deportation/arguments/merge?argument={source.key}"))
    assert page.select_one(f'input[name="into"][value="{target.key}"]') is not None
    client.post("/topics/deportation/arguments/merge",
                data={"argument": source.key, "into": target.key, "csrf_token": csrf(client)})
    after = _keys_by_passage(db)
    assert {after[card.id] for card in source.cards} == {after[target.key]}
    assert Counter(after.values())[after[target.key]] == target.passages + source.passages
    client.post("/topics/deportation/arguments/undo", data={"csrf_token": csrf(client)})
    assert _keys_by_passage(db) == before


def test_a_named_argument_shows_its_name_on_the_page(client, db):
    argument = _biggest(db)
    client.post("/topics/deportation/arguments/name",
                data={"argument": argument.key, "name": "Returns <b>endanger</b> lives", "csrf_token": csrf(client)})
    page = soup(client.get("/topics/deportation?view=arguments"))
    named = page.select_one(f"#argument-{argument.key} .argument-name")
    assert named.get_text() == "Returns <b>endanger</b> lives"
    assert named.select_one("b") is None
    latest = page.select_one(".argument-history li").get_text(" ", strip=True)
    assert "named an argument “Returns <b>endanger</b> lives”" in latest


def test_a_move_across_sides_is_refused_with_a_message_and_nothing_changes(client, db):
    sides = arguments.topic_arguments(db, "deportation")
    favour, against = sides["favour"][0], sides["against"][0]
    before = _keys_by_passage(db)
    response = client.post("/topics/deportation/arguments/move",
                           data={"passage": favour.key, "to": against.key, "csrf_token": csrf(client)})
    assert response.status_code == 422
    assert soup(response).select_one(".error").get_text(strip=True)
    assert _keys_by_passage(db) == before


def test_the_correction_pages_without_a_passage_point_to_the_arguments_view(client):
    page = soup(client.get("/topics/deportation/arguments/merge"))
    assert page.select_one('a[href="/topics/deportation?view=arguments"]') is not None


def test_unknown_passages_and_topics_get_a_404_with_a_message(client):
    assert client.get("/topics/deportation/arguments/move?passage=999999").status_code == 404
    assert client.get("/topics/deportation/arguments/move?passage=x").status_code == 404
    assert client.get("/topics/nope/arguments/merge?argument=1").status_code == 404
    response = client.post("/topics/deportation/arguments/name", data={"argument": "99999999999999999999999"})
    assert response.status_code in (400, 404)


def test_the_api_gives_the_same_arguments_as_the_view(client, db):
    body = client.get("/api/topics/deportation/arguments").get_json()
    sides = arguments.topic_arguments(db, "deportation")
    for stance, found in sides.items():
        assert [a["passages"] for a in body["sides"][stance]] == [[c.id for c in a.cards] for a in found]
        assert [a["key"] for a in body["sides"][stance]] == [a.key for a in found]
    missing = client.get("/api/topics/nope/arguments")
    assert missing.status_code == 404 and "nope" in missing.get_json()["error"]
