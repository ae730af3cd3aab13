"""Topics and stances come from the corpus's taxonomy file, with clear errors when it is wrong."""

import re
from pathlib import Path

import pytest

from webapp.corpus import taxonomy
from webapp.corpus.taxonomy import TaxonomyError

REPO = Path(__file__).resolve().parent.parent


def test_the_seed_taxonomy_defines_the_four_topics_with_their_target_propositions():
    tax = taxonomy.load(REPO / "labels" / "taxonomy.toml")
    assert tax.ids == ("recognition", "deportation", "womens_rights", "security")
    deportation = tax.get("deportation")
    assert deportation.target == "Returning or expelling Afghans to Afghanistan is justified."
    assert [deportation.label(s) for s in taxonomy.STANCES] == ["Supports returns", "Neutral", "Opposes returns"]


def test_another_corpus_brings_its_own_topics(tmp_path):
    path = tmp_path / "taxonomy.toml"
    path.write_text('[[topics]]\nid = "tariffs"\nname = "Tariffs"\ntarget = "Tariffs protect jobs."\n')
    tax = taxonomy.load(path)
    assert tax.ids == ("tariffs",)
    assert tax.get("tariffs").label("favour") == "Favour"


def test_topics_round_trip_through_the_database(memory_db):
    tax = taxonomy.load(REPO / "labels" / "taxonomy.toml")
    taxonomy.sync(memory_db, tax)
    assert taxonomy.from_db(memory_db) == tax
    smaller = taxonomy.Taxonomy(tax.topics[:2])
    taxonomy.sync(memory_db, smaller)
    assert taxonomy.from_db(memory_db).ids == ("recognition", "deportation")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("topics = 3", "topics must be [[topics]] tables"),
        ("[[topics]]\nname = 'X'\ntarget = 'Y'", "id None must be lowercase"),
        ("[[topics]]\nid = 'Bad Id'\nname = 'X'\ntarget = 'Y'", "id 'Bad Id' must be lowercase"),
        ("[[topics]]\nid = 'x'\ntarget = 'Y'", "topic 'x': missing 'name'"),
        ("[[topics]]\nid = 'new'\nname = 'X'", "id 'new' is reserved"),
        ("[[topics]]\nid = 'x'\nname = 'X'\ntarget = ['Y']", "'target' must be text"),
        ("[[topics]]\nid = 'x'\nname = 'X'\nretired = 'yes'", "retired must be true or false"),
        ("[[topics]]\nid = 'x'\nname = 'X'\nkey = 'k'\n[[topics]]\nid = 'y'\nname = 'Y'\nkey = 'k'",
         "duplicate topic key 'k'"),
        ("[[topics]]\nid = 'x'\nname = 'X'\ntarget = 'Y'\nkey = 'ab'", "key must be a single character"),
        ("[[topics]]\nid = 'x'\nname = 'X'\ntarget = 'Y'\nlabels = { pro = 'P' }", "unknown stance 'pro'"),
        ("[[topics]]\nid = 'x'\nname = 'X'\ntarget = 'Y'\n[[topics]]\nid = 'x'\nname = 'Z'\ntarget = 'W'",
         "duplicate topic id 'x'"),
        ("[[topics]\nid = 'x'", "not valid TOML"),
    ],
)
def test_a_broken_taxonomy_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "taxonomy.toml"
    path.write_text(content)
    with pytest.raises(TaxonomyError, match=re.escape(message)):
        taxonomy.load(path)


def test_a_new_corpus_may_have_no_topics_yet(tmp_path, memory_db):
    path = tmp_path / "taxonomy.toml"
    path.write_text("# Topics come later.\n")
    empty = taxonomy.load(path)
    assert empty.topics == () and empty.ids == ()
    taxonomy.sync(memory_db, taxonomy.load(REPO / "labels" / "taxonomy.toml"))
    taxonomy.sync(memory_db, empty)
    assert taxonomy.from_db(memory_db).ids == ()


def test_a_topic_without_a_target_is_kept_and_marked_missing(tmp_path):
    path = tmp_path / "taxonomy.toml"
    path.write_text("[[topics]]\nid = 'water'\nname = 'Water rights'\n")
    (topic,) = taxonomy.load(path).topics
    assert topic.target == "" and topic.target_missing


def test_a_retired_topic_leaves_the_pages_but_its_labels_still_read(tmp_path, memory_db):
    path = tmp_path / "taxonomy.toml"
    path.write_text(
        "[[topics]]\nid = 'a'\nname = 'A'\nkey = 'k'\n"
        "[[topics]]\nid = 'b'\nname = 'B'\nkey = 'k'\nretired = true\n"
    )
    tax = taxonomy.load(path)
    assert tax.ids == ("a",)
    assert tax.known_ids == ("a", "b")
    taxonomy.sync(memory_db, tax)
    assert taxonomy.from_db(memory_db).ids == ("a",)


def test_a_missing_or_non_utf8_taxonomy_is_reported(tmp_path):
    with pytest.raises(TaxonomyError, match="no taxonomy file"):
        taxonomy.load(tmp_path / "taxonomy.toml")
    (tmp_path / "taxonomy.toml").write_bytes(b"name = '\xff'")
    with pytest.raises(TaxonomyError, match="not UTF-8"):
        taxonomy.load(tmp_path / "taxonomy.toml")
