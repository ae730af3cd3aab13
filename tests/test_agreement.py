"""Agreement figures against hand-computed examples, disagreements, and adjudication in the data."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PAKISTAN, add_second_annotator, passage_id

from webapp.analysis import agreement, comparison
from webapp.labels import editor
from webapp.labels.build import build
from webapp.labels.current import ADJUDICATOR
from webapp.store.db import connect

P, A = agreement.PRESENT, agreement.ABSENT


# --- Cohen's kappa ---------------------------------------------------------------------------

def test_kappa_by_hand():
    # Observed 3/4; chance (2/4 * 1/4) + (2/4 * 3/4) = 1/2; kappa = (3/4 - 1/2) / (1 - 1/2).
    figure = agreement.cohen_kappa([P, P, A, A], [P, A, A, A])
    assert figure.value == pytest.approx(0.5)
    assert figure.items == 4
    assert figure.band == "low"


def test_kappa_three_categories_by_hand():
    first = ["against"] * 5 + ["favour"] * 3 + ["neutral"] * 2
    second = ["against"] * 5 + ["against"] + ["favour"] * 2 + ["neutral"] * 2
    # Observed 9/10; chance (5*6 + 3*2 + 2*2) / 100 = 0.4; kappa = 0.5 / 0.6.
    assert agreement.cohen_kappa(first, second).value == pytest.approx(5 / 6)


def test_kappa_of_opposite_constant_annotators_is_zero():
    # Chance agreement is 0 and so is observed agreement: kappa is 0, not undefined.
    assert agreement.cohen_kappa(["favour", "favour"], ["against", "against"]).value == 0


@pytest.mark.parametrize(
    "first, second, items, reason",
    [
        ([], [], 0, "fewer than two passages"),
        (["favour"], ["against"], 1, "fewer than two passages"),
        (["against"] * 3, ["against"] * 3, 3, "every label is “against”"),
    ],
)
def test_kappa_says_not_enough_data(first, second, items, reason):
    figure = agreement.cohen_kappa(first, second)
    assert figure.value is None
    assert figure.items == items
    assert figure.reason.startswith("not enough data")
    assert reason in figure.reason
    assert figure.band == "none"


# --- Krippendorff's alpha ----------------------------------------------------------------------

def test_alpha_by_hand():
    # Coincidences: o(P,P)=2, o(P,A)=o(A,P)=1, o(A,A)=4; n=8, n_P=3, n_A=5.
    # D_o = 2/8, D_e = 2*3*5 / (8*7) = 30/56, alpha = 1 - (2/8) / (30/56) = 16/30.
    figure = agreement.krippendorff_alpha([[P, P], [P, A], [A, A], [A, A]])
    assert figure.value == pytest.approx(16 / 30)
    assert figure.items == 4


def test_alpha_with_three_annotators_and_gaps_by_hand():
    # The lone value is not pairable. Unit 1 (a, a, b) gives o(a,a)=1, o(a,b)=o(b,a)=1; unit 2
    # (b, b, b) gives o(b,b)=3. n=6, n_a=2, n_b=4: D_o = 2/6, D_e = 16/30, alpha = 1 - 30/48.
    figure = agreement.krippendorff_alpha([["a", "a", "b"], ["b", "b", "b"], ["a"]])
    assert figure.value == pytest.approx(18 / 48)
    assert figure.items == 2


def test_alpha_perfect_agreement():
    assert agreement.krippendorff_alpha([["a", "a"], ["b", "b"]]).value == pytest.approx(1.0)


@pytest.mark.parametrize(
    "units, items, reason",
    [
        ([], 0, "no passage has labels from two annotators"),
        ([["a"], ["b"]], 0, "no passage has labels from two annotators"),
        ([["a", "a"], ["a", "a", "a"], ["b"]], 2, "every label is “a”"),
    ],
)
def test_alpha_says_not_enough_data(units, items, reason):
    figure = agreement.krippendorff_alpha(units)
    assert (figure.value, figure.items) == (None, items)
    assert figure.reason == f"not enough data: {reason}"


# --- Per topic ----------------------------------------------------------------------------------

def test_topic_agreement_pairs_presence_and_stance():
    data = {
        1: {"ann": {"x": "favour"}, "bob": {"x": "favour"}},
        2: {"ann": {"x": "against"}, "bob": {}},
        3: {"ann": {}, "bob": {}},
        4: {"ann": {}, "bob": {}, "cy": {"x": "neutral"}},
        5: {"cy": {"x": "favour"}},
    }
    result = agreement.topic_agreement(data, "x")
    assert [(p.first, p.second) for p in result.pairs] == [("ann", "bob"), ("ann", "cy"), ("bob", "cy")]
    ann_bob = result.pairs[0]
    # Presence over passages 1-4: ann P A A A... no: ann P P A A, bob P A A A.
    assert ann_bob.presence.value == pytest.approx(0.5)
    assert ann_bob.presence.items == 4
    # Stance only where both say the topic applies: one passage, so no figure.
    assert ann_bob.stance.value is None and ann_bob.stance.items == 1
    ann_cy = result.pairs[1]
    assert ann_cy.presence.items == 1 and ann_cy.presence.value is None
    # Alpha uses every passage with two or more annotators (1-4), whoever they are.
    assert result.presence.items == 4
    assert result.stance.items == 1 and result.stance.value is None


def test_one_annotator_has_no_pairs_and_no_alpha():
    data = {1: {"solo": {"x": "favour"}}, 2: {"solo": {}}, 3: {"solo": {"x": "against"}}}
    result = agreement.topic_agreement(data, "x")
    assert result.pairs == []
    assert result.presence.value is None and result.presence.reason.startswith("not enough data")
    assert result.stance.value is None
    assert agreement.reviewed_counts(data) == ({"solo": 3}, 0)


def test_seed_corpus_has_one_annotator_and_no_figures(db):
    data = agreement.annotations(db)
    assert agreement.annotator_names(data) == ["founding-team"]
    result = agreement.topic_agreement(data, "deportation")
    assert result.pairs == [] and result.stance.value is None


# --- On the database: a second annotator, disagreements, adjudication ---------------------------





def test_annotations_from_the_database(db):
    add_second_annotator(db)
    data = agreement.annotations(db)
    seven, eight = passage_id(db, PAKISTAN, 7), passage_id(db, PAKISTAN, 8)
    assert data[seven] == {"bea": {"deportation": "against"}, "founding-team": {"deportation": "favour"}}
    assert data[eight]["bea"] == {}
    pair = agreement.topic_agreement(data, "deportation").pairs[0]
    assert pair.presence.items == pair.stance.items + 1


def test_labels_on_changed_text_and_adjudications_do_not_count(db):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    db.execute("UPDATE labels SET text_hash = 'old' WHERE annotator = 'bea' AND position = 7 AND document = ?", [PAKISTAN])
    agreement.adjudicate(db, passage_id(db, PAKISTAN, 9), [editor.Choice("deportation", "neutral")], "lead")
    data = agreement.annotations(db)
    assert "bea" not in data[seven]
    assert ADJUDICATOR not in agreement.annotator_names(data)


def test_disagreements_list_differing_passages(db):
    add_second_annotator(db)
    found = {(d.passage["document"], d.passage["position"]): d for d in agreement.disagreements(db)}
    assert set(found) == {(PAKISTAN, 7), (PAKISTAN, 8)}
    seven = found[(PAKISTAN, 7)]
    assert seven.differing == {"deportation"}
    assert seven.labels["bea"]["deportation"]["stance"] == "against"
    assert seven.adjudication is None
    assert seven.topics(("recognition", "deportation")) == ["deportation"]
    # Undecided where they differ, with the holder they gave.
    assert seven.proposal("deportation") == (None, "Pakistani government")


def test_adjudication_is_recorded_and_wins_in_the_comparison(db):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    change = agreement.adjudicate(
        db, seven, [editor.Choice("deportation", "neutral", "Pakistani officials")], "lead", "Reported, not endorsed"
    )
    assert change.annotator == ADJUDICATOR
    assert change.note == "Adjudicated by lead: Reported, not endorsed"
    assert editor.history(db, PAKISTAN, 7)[0].id == change.id
    card = next(c for c in comparison.topic_cards(db, "deportation", comparison.Filters()) if c.id == seven)
    comparison.with_details(db, "deportation", [card])
    assert (card.stance, card.holder, card.votes) == ("neutral", "Pakistani officials", {ADJUDICATOR: "neutral"})
    assert not card.contested
    # Still a disagreement between the annotators, now with its adjudication.
    item = agreement.disagreements(db, seven)[0]
    assert item.adjudication == {"deportation": {"stance": "neutral", "holder": "Pakistani officials"}}
    assert item.proposal("deportation") == ("neutral", "Pakistani officials")
    # Saving the same adjudication again records nothing.
    assert agreement.adjudicate(db, seven, [editor.Choice("deportation", "neutral", "Pakistani officials")], "lead") is None


def test_withdrawing_an_adjudication_restores_the_annotators_labels(db):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    agreement.adjudicate(db, seven, [editor.Choice("deportation", "neutral")], "lead")
    change = agreement.withdraw(db, seven, "lead", "too hasty")
    assert (change.annotator, change.after, change.note) == (ADJUDICATOR, [], "Adjudication withdrawn by lead: too hasty")
    card = next(c for c in comparison.topic_cards(db, "deportation", comparison.Filters()) if c.id == seven)
    assert card.contested
    comparison.with_details(db, "deportation", [card])
    assert card.votes == {"bea": "against", "founding-team": "favour"}
    assert agreement.withdraw(db, seven, "lead") is None
    with pytest.raises(editor.EditError):
        agreement.withdraw(db, 999_999, "lead")


def test_adjudicated_passages_stay_listed_when_annotators_agree(db):
    nine = passage_id(db, PAKISTAN, 9)
    agreement.adjudicate(db, nine, [editor.Choice("deportation", "against")], "lead")
    (item,) = agreement.disagreements(db)
    assert item.passage["id"] == nine and item.differing == set()
    assert item.proposal("deportation") == ("against", "")


def test_adjudicating_that_no_topic_applies_removes_the_passage(db):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    before = comparison.stance_matrix(db)["deportation"]
    agreement.adjudicate(db, seven, [], "lead")
    assert seven not in {c.id for c in comparison.topic_cards(db, "deportation", comparison.Filters())}
    after = comparison.stance_matrix(db)["deportation"]
    assert sum(after.values()) == sum(before.values()) - 1


def test_adjudication_round_trips_through_label_files(app, db, corpus: Path):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    agreement.adjudicate(db, seven, [editor.Choice("deportation", "against", "Pakistani government")], "lead")
    editor.write_files(db, corpus / "labels", [PAKISTAN])
    lines = (corpus / "labels" / "passages" / f"{PAKISTAN}.jsonl").read_text(encoding="utf-8")
    assert '"annotator": "adjudicator"' in lines
    fresh = connect(corpus / "instance" / "fresh.db")
    try:
        build(fresh, corpus / "seeds", corpus / "labels")
        cards = {c.id: c for c in comparison.topic_cards(fresh, "deportation", comparison.Filters())}
        comparison.with_details(fresh, "deportation", [cards[seven]])
        assert cards[seven].votes == {ADJUDICATOR: "against"}
        assert agreement.disagreements(fresh, seven)[0].adjudication is not None
    finally:
        fresh.close()


def test_an_adjudication_cannot_be_undone_as_a_label_change(db):
    add_second_annotator(db)
    seven = passage_id(db, PAKISTAN, 7)
    change = agreement.adjudicate(db, seven, [editor.Choice("deportation", "neutral")], "lead")
    # Not even under the reserved name itself: an undo there would record "adjudicator", not who.
    for who in ("bea", "lead", ADJUDICATOR):
        with pytest.raises(editor.EditError, match="an adjudicator updates or withdraws it"):
            editor.undo(db, change.id, who)
    assert editor.history(db, PAKISTAN, 7) == [change]


@pytest.mark.parametrize("by", ["", ADJUDICATOR, "Adjudicator"])
def test_an_adjudication_names_a_person(db, by):
    seven = passage_id(db, PAKISTAN, 7)
    with pytest.raises(editor.EditError, match="records the person"):
        agreement.adjudicate(db, seven, [editor.Choice("deportation", "neutral")], by)
    with pytest.raises(editor.EditError, match="records the person"):
        agreement.withdraw(db, seven, by)
    assert db["label_changes"].count == 0
