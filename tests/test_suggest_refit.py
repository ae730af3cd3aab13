"""Label suggestions refitted while people label: in a child process, never in the worker's threads."""

import logging
import time

from webapp.similarity import suggester

TOPICS = ("recognition", "deportation", "womens_rights", "security")
# Far longer than a fit of the seed labels takes; only a broken refit waits this long.
PATIENCE = 120


def settled(cache: dict, database: str) -> dict:
    """The suggestions' cache entry once no refit is running."""
    ends = time.monotonic() + PATIENCE
    while cache[database]["training"]:
        assert time.monotonic() < ends, "the refit never finished"
        time.sleep(0.05)
    return cache[database]


def test_a_refit_runs_in_a_child_process_and_its_models_reach_the_worker(app, db, monkeypatch):
    database = app.config["DATABASE"]
    # Every fit goes to the background; one run in this process would fail the test.
    monkeypatch.setattr(suggester, "SYNC_TRAINING_LIMIT", 0)

    def in_the_worker(*args):
        raise AssertionError("the models were fitted in the worker's own process")

    monkeypatch.setattr(suggester, "_train_on", in_the_worker)
    cache: dict = {}
    assert suggester.current_suggester(db, TOPICS, cache, database) is None  # the first fit has only begun
    entry = settled(cache, database)
    model = suggester.current_suggester(db, TOPICS, cache, database)
    assert model is entry["model"] and set(model.topic_models) == {"recognition", "deportation", "security"}
    [ranked] = model.suggest(["Pakistan deports Afghan refugees across the border."])
    assert {s.topic for s in ranked} == set(model.topic_models)


def test_a_failed_refit_is_logged_and_the_worker_keeps_serving(app, db, monkeypatch, caplog):
    database = app.config["DATABASE"]
    monkeypatch.setattr(suggester, "SYNC_TRAINING_LIMIT", 0)

    def broken(*args):
        raise MemoryError("the child process was killed")

    real = suggester._fit_apart
    monkeypatch.setattr(suggester, "_fit_apart", broken)
    cache: dict = {}
    with caplog.at_level(logging.ERROR, logger=suggester.__name__):
        assert suggester.current_suggester(db, TOPICS, cache, database) is None
        entry = settled(cache, database)
    assert entry["model"] is None and "Refitting the label suggestions" in caplog.text
    # The next request tries again, and this time the child process is real.
    monkeypatch.setattr(suggester, "_fit_apart", real)
    suggester.current_suggester(db, TOPICS, cache, database)
    assert settled(cache, database)["model"] is not None
