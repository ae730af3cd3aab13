"""Label suggestions: trained on hand labels, shown as suggestions, never saved on their own."""

import random

from bs4 import BeautifulSoup
from conftest import passage_id

from webapp.corpus import taxonomy
from webapp.corpus.splitting import text_hash
from webapp.similarity import suggester
from webapp.web.database import suggestion_model

TOPICS = ("recognition", "deportation", "womens_rights", "security")


def test_models_train_only_for_topics_with_enough_labels(db):
    examples = suggester.training_data(db)
    assert len(examples) == 54
    model = suggester.train(examples, TOPICS)
    # Women's rights has three labelled passages in the seeds: too few to learn from.
    assert set(model.topic_models) == {"recognition", "deportation", "security"}
    assert "womens_rights" not in model.stance_models


def test_suggestions_are_probabilities_and_favour_the_right_topic():
    examples = [(f"Deportation of Afghans from Pakistan, case {i}.", {"deportation": "against"}) for i in range(6)]
    examples += [(f"Embassy reopening and diplomatic ties, case {i}.", {"recognition": "favour"}) for i in range(6)]
    model = suggester.train(examples, ("deportation", "recognition"))
    [ranked] = model.suggest(["Pakistan plans more deportation of Afghans."])
    assert ranked[0].topic == "deportation"
    assert all(0.0 <= s.probability <= 1.0 for s in ranked)
    assert ranked[0].probability > ranked[1].probability


def test_without_enough_labels_there_is_no_model_only_the_labels_it_still_needs():
    assert suggester.train([], ("deportation",)) is None
    model = suggester.train([("one passage", {"deportation": "favour"})], ("deportation",))
    assert model.topic_models == {} and model.confident(["one passage"]) == [{}]
    # Four more passages about it and five not about it.
    assert model.waiting == {"deportation": 9}


def test_uncertainty_is_highest_near_one_half():
    sure = [suggester.Suggestion("a", 0.99, "favour", 0.9), suggester.Suggestion("b", 0.01, None, 0.0)]
    unsure = [suggester.Suggestion("a", 0.52, "favour", 0.6)]
    assert suggester.uncertainty(unsure) > suggester.uncertainty(sure)
    assert suggester.uncertainty([]) == 0.0


def test_the_seed_models_do_no_better_than_chance_on_a_new_article_so_the_queue_pre_fills_nothing(client, db):
    # Cross-validated by whole documents, no seed model beats the majority answer by 0.1.
    before = db["labels"].count
    page = BeautifulSoup(client.get("/label").get_data(as_text=True), "html.parser")
    assert page.select(".topic-row .suggested") == []
    assert all(row.select_one('input[value=""]').has_attr("checked") for row in page.select(".topic-row"))
    waits = page.select(".topic-row .suggestion-wait")
    assert len(waits) == len(TOPICS) and all("Suggestions start after ~" in w.text for w in waits)
    assert db["labels"].count == before


def test_least_certain_first_orders_the_queue(client, db, app):
    with app.test_request_context():
        model = suggestion_model(db, taxonomy.from_db(db).ids)
    passages = [dict(r) for r in db.query("SELECT id, document, position, text FROM passages WHERE kind = 'content'")]
    expected = suggester.least_certain_first(model, passages)[0]["id"]
    page = BeautifulSoup(client.get("/label?order=uncertain").get_data(as_text=True), "html.parser")
    assert int(page.select_one(".to-label")["data-passage"]) == expected
    assert page.select_one('#scope-order option[value="uncertain"]').has_attr("selected")


WORDS = ("river market winter council school bridge music garden harbour village "
         "library morning railway museum festival bakery").split()


def noise(n: int, seed: int) -> list[str]:
    """Texts whose words say nothing about any label."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=12)) for _ in range(n)]


def at_chance(topic: str, n: int = 60, seed: int = 1) -> list[tuple[str, dict[str, str]]]:
    """Examples labelled at random: about the topic or not, for or against."""
    rng = random.Random(seed)
    return [(text, {topic: rng.choice(["favour", "against"])} if rng.random() < 0.5 else {}) for text in noise(n, seed)]


def with_signal(n: int = 20) -> list[tuple[str, dict[str, str]]]:
    """Examples whose words give away both the topic and the stance."""
    return (
        [(f"Returning rejected asylum seekers is lawful and justified, minister {i} says.", {"deportation": "favour"})
         for i in range(n)]
        + [(f"Deporting Afghans is cruel and dangerous, activist {i} warns.", {"deportation": "against"})
           for i in range(n)]
        + [(f"The football league published its schedule for season {i}.", {}) for i in range(n)]
    )


def test_a_model_at_chance_suggests_nothing_and_says_how_many_more_labels_it_needs():
    examples = at_chance("deportation")
    model = suggester.train(examples, ("deportation",))
    assert "deportation" in model.topic_models and "deportation" in model.stance_models
    gates = model.topic_gates["deportation"], model.stance_gates["deportation"]
    assert not all(g.open for g in gates)
    assert model.confident([text for text, _ in examples]) == [{} for _ in examples]
    labelled = sum(1 for _, labels in examples if labels)
    assert model.waiting["deportation"] >= labelled  # about as many again


def test_a_model_with_signal_suggests_the_topic_and_stance_above_its_threshold():
    model = suggester.train(with_signal(), ("deportation",))
    topic_gate, stance_gate = model.topic_gates["deportation"], model.stance_gates["deportation"]
    assert topic_gate.open and stance_gate.open
    assert topic_gate.quality >= topic_gate.baseline + 0.1 and 0.5 <= topic_gate.threshold
    assert "deportation" not in model.waiting
    [shown] = model.confident(["Returning rejected asylum seekers is lawful and justified, officials say."])
    assert shown["deportation"].stance == "favour"
    assert shown["deportation"].probability >= topic_gate.threshold
    assert model.confident(["The football league published its schedule."]) == [{}]


def test_the_form_pre_fills_only_a_model_with_signal_and_says_what_the_others_need(client, db, monkeypatch):
    text = "Returning rejected asylum seekers is lawful and justified, the minister says."
    with db.atomic():
        db["documents"].insert({"id": "minister.txt", "title": "Minister"})
        db["passages"].insert({"document": "minister.txt", "position": 0, "kind": "content", "text": text,
                               "text_hash": text_hash(text)})
    examples = with_signal() + at_chance("security", seed=3)
    model = suggester.train(examples, TOPICS)
    monkeypatch.setattr("webapp.web.panels.suggestion_model", lambda db, topics: model)
    page = BeautifulSoup(client.get(f"/label?passage={passage_id(db, 'minister.txt', 0)}").get_data(as_text=True),
                         "html.parser")
    deportation = page.select_one('.topic-row[data-topic="deportation"]')
    assert deportation.select_one('input[value="favour"]').has_attr("checked")
    assert "pre-filled, check it" in deportation.select_one(".suggested").text
    for topic in ("security", "recognition", "womens_rights"):
        row = page.select_one(f'.topic-row[data-topic="{topic}"]')
        assert row.select_one('input[value=""]').has_attr("checked") and row.select_one(".suggested") is None
        wait = row.select_one(".suggestion-wait").text
        assert f"Suggestions start after ~{model.waiting[topic]} more labels on this topic" in " ".join(wait.split())
