"""Label suggestions: trained on hand labels, shown as suggestions, never saved on their own."""

from bs4 import BeautifulSoup

from webapp.corpus import taxonomy
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


def test_no_model_without_enough_labels():
    assert suggester.train([("one passage", {"deportation": "favour"})], ("deportation",)) is None


def test_uncertainty_is_highest_near_one_half():
    sure = [suggester.Suggestion("a", 0.99, "favour", 0.9), suggester.Suggestion("b", 0.01, None, 0.0)]
    unsure = [suggester.Suggestion("a", 0.52, "favour", 0.6)]
    assert suggester.uncertainty(unsure) > suggester.uncertainty(sure)
    assert suggester.uncertainty([]) == 0.0


def test_the_queue_pre_fills_suggestions_marked_as_such_and_saves_nothing(client, db):
    before = db["labels"].count
    page = BeautifulSoup(client.get("/label").get_data(as_text=True), "html.parser")
    marked = page.select(".topic-row .suggested")
    assert marked and all("Suggestion:" in m.text for m in marked)
    assert db["labels"].count == before


def test_least_certain_first_orders_the_queue(client, db, app):
    with app.test_request_context():
        model = suggestion_model(db, taxonomy.from_db(db).ids)
    passages = [dict(r) for r in db.query("SELECT id, document, position, text FROM passages WHERE kind = 'content'")]
    expected = suggester.least_certain_first(model, passages)[0]["id"]
    page = BeautifulSoup(client.get("/label?order=uncertain").get_data(as_text=True), "html.parser")
    assert int(page.select_one(".to-label")["data-passage"]) == expected
    assert page.select_one('#scope-order option[value="uncertain"]').has_attr("selected")
