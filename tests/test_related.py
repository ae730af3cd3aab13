"""Unit tests for the related-passage engine on small handmade corpora."""

from __future__ import annotations

import re
import threading

import pytest

from webapp.similarity import engine
from webapp.similarity.engine import Match, build_index, corpus_key, related, related_to_text

CORPUS = [
    (1, "health-daily", "Vaccination must be compulsory to protect public health."),
    (2, "health-daily", "Compulsory vaccination protects children from measles outbreaks."),
    (3, "opinion", "Mandatory vaccination protects public health and children."),
    (4, "opinion", "Vaccinating children is a parent's choice, not the state's."),
    (5, "sport", "Football clubs should pay their players a living wage."),
    (6, "economy", "Players in football deserve fair wages from their clubs."),
    (7, "economy", "A living wage lifts families out of poverty."),
    (8, "sport", "Public health spending reduces poverty in the long run."),
]
DOCUMENT = {pid: document for pid, document, _ in CORPUS}
TEXT = {pid: text for pid, _, text in CORPUS}


@pytest.fixture
def index():
    return build_index(CORPUS)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w\w+", text.lower()))


def test_excludes_the_passage_and_its_whole_document(index):
    for pid in TEXT:
        found = {m.id for m in related(index, pid, k=10)}
        assert pid not in found
        assert all(DOCUMENT[other] != DOCUMENT[pid] for other in found)


def test_finds_the_paraphrase_from_another_document_first(index):
    assert related(index, 5, k=1)[0].id == 6
    assert related(index, 2, k=1)[0].id == 3


def test_scores_are_sorted_within_zero_and_one_and_k_is_respected(index):
    matches = related(index, 1, k=3)
    assert len(matches) == 3
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)


def test_shared_terms_occur_in_both_texts(index):
    matches = related(index, 2, k=10)
    assert any(m.terms for m in matches)
    for m in matches:
        assert len(m.terms) <= 5
        assert set(m.terms) <= words(TEXT[2]) & words(TEXT[m.id])


def test_explanations_leave_out_stop_words(index):
    match = next(m for m in related(index, 5, k=10) if m.id == 6)
    assert "their" not in match.terms
    assert {"football", "clubs", "players"} <= set(match.terms)


def test_allowed_restricts_the_candidates(index):
    assert {m.id for m in related(index, 1, k=10, allowed={7, 8})} <= {7, 8}
    assert related(index, 1, k=10, allowed=[8, 8])[0].id == 8
    assert related(index, 1, k=10, allowed=set()) == []
    assert related(index, 1, k=10, allowed={1, 2, 999}) == []


def test_ties_are_broken_by_id():
    twins = [(1, "a", "Tidal energy is reliable."), (7, "b", "Tidal energy is reliable."),
             (5, "c", "Tidal energy is reliable.")]
    matches = related(build_index(twins), 1, k=10)
    assert [m.id for m in matches] == [5, 7]
    assert matches[0].score == pytest.approx(1.0)


def test_unknown_passage_raises_key_error(index):
    with pytest.raises(KeyError):
        related(index, 999)


def test_add_makes_a_new_passage_findable_at_once(index):
    index.add([(20, "new", "Football players and their clubs argue about wages.")])
    assert 20 in index
    assert related(index, 20, k=1)[0].id in {5, 6}
    assert 20 in {m.id for m in related(index, 5, k=3)}


def test_add_replaces_a_passage_with_the_same_id(index):
    assert related(index, 7, k=1)[0].id != 3
    index.add([(7, "economy", "Mandatory vaccination of children protects public health.")])
    assert len(index) == len(CORPUS)
    assert related(index, 7, k=1)[0].id == 3
    assert 7 not in {m.id for m in related(index, 5, k=10)}


def test_remove_takes_a_passage_out_of_results(index):
    index.remove([6, 12345])
    assert 6 not in index
    assert 6 not in {m.id for m in related(index, 5, k=10)}
    with pytest.raises(KeyError):
        related(index, 6)


def test_stale_fraction_counts_changes_since_the_build(index):
    assert index.stale_fraction == 0
    index.add([(20, "new", "Living wages for football players.")])
    index.remove([1])
    assert index.stale_fraction == pytest.approx(2 / len(CORPUS))


def test_related_to_text_can_exclude_a_document(index):
    matches = related_to_text(index, "Should vaccination be compulsory?", k=3)
    assert matches[0].id == 1
    excluded = related_to_text(index, "Should vaccination be compulsory?", exclude_document="health-daily")
    assert {1, 2}.isdisjoint(m.id for m in excluded)
    allowed = related_to_text(index, "Should vaccination be compulsory?", allowed={4})
    assert [m.id for m in allowed] == [4]


def test_corpus_key_tracks_content_not_order():
    key = corpus_key(CORPUS)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert corpus_key(list(reversed(CORPUS))) == key
    changed = [(1, "health-daily", "Vaccination must be voluntary.")] + CORPUS[1:]
    assert corpus_key(changed) != key
    moved = [(1, "opinion", CORPUS[0][2])] + CORPUS[1:]
    assert corpus_key(moved) != key


def test_empty_corpus_and_stop_word_passages_give_no_suggestions():
    empty = build_index([])
    assert len(empty) == 0
    assert related_to_text(empty, "anything at all") == []
    empty.add([(1, "a", "Tidal power"), (2, "b", "Tidal power")])
    assert related(empty, 1) == []  # words unknown to the build's vocabulary
    assert empty.stale_fraction == 1.0
    stop_words = build_index([(1, "a", "It is what it is."), (2, "b", "It is not what it was.")])
    assert related(stop_words, 1) == []
    index = build_index(CORPUS + [(9, "x", "and the of it"), (10, "y", "!!! ...")])
    assert related(index, 9) == []
    assert related(index, 10) == []
    assert related_to_text(index, "") == []


def test_match_is_a_small_frozen_record(index):
    match = related(index, 1, k=1)[0]
    assert isinstance(match, Match)
    assert isinstance(match.id, int) and isinstance(match.score, float)
    with pytest.raises(AttributeError):
        match.score = 0.0


def test_queries_during_updates_never_fail(index):
    errors = []

    def query():
        for _ in range(200):
            try:
                related(index, 1, k=5)
            except Exception as error:
                errors.append(error)

    reader = threading.Thread(target=query)
    reader.start()
    for n in range(100):
        index.add([(100 + n, f"new-{n}", "Compulsory vaccination and public health.")])
        index.remove([100 + n - 1])
    reader.join()
    assert errors == []


def test_rank_orders_every_candidate_even_those_sharing_no_word(index):
    # Passage 4 (vaccination) shares no word with 5 (football wages): `related` never finds it.
    assert 4 not in {m.id for m in related(index, 5, k=10)}
    ranked = engine.rank(index, 5, {4, 6, 7, 999}, k=10)
    assert [m.id for m in ranked[:2]] == [6, 7]
    assert {m.id for m in ranked} == {4, 6, 7, 999}
    scores = [m.score for m in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    # A candidate missing from the index scores 0 and comes last; the passage itself is kept
    # out by the caller, not here.
    assert (ranked[-1].id, ranked[-1].score, ranked[-1].terms) == (999, 0.0, ())
    assert next(m for m in ranked if m.id == 4).terms == ()


def test_rank_pages_with_k_and_offset_and_breaks_ties_by_id():
    twins = [(1, "a", "Tidal energy is reliable."), (7, "b", "Tidal energy is reliable."),
             (5, "c", "Tidal energy is reliable."), (3, "d", "Wind farms.")]
    index = build_index(twins)
    everything = engine.rank(index, 1, [7, 5, 3], k=10)
    assert [m.id for m in everything] == [5, 7, 3]
    assert engine.rank(index, 1, [7, 5, 3], k=1, offset=1) == everything[1:2]
    assert engine.rank(index, 1, [], k=10) == []
