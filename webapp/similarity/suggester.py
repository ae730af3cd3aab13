"""Label suggestions: scikit-learn models trained on the hand labels propose topics and stances.

One binary model per topic says whether a passage speaks to it (one-vs-rest), and one model
per topic proposes the stance. Both are TF-IDF + logistic regression. A topic gets a model
only once it has enough labelled examples, and its suggestions are shown only once the model
passes its gate (gate.py); until then the form says about how many more labels it needs.
Suggestions are shown to people, never saved. scikit-learn (and numpy, through gate.py) load
with the first fit, not with the app.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from webapp.labels import current
from webapp.similarity import memory
from webapp.store.db import connect

if TYPE_CHECKING:
    from webapp.similarity import gate

# Below these counts a model would only echo its few examples back.
MIN_POSITIVE = 5
MIN_NEGATIVE = 5
MIN_PER_STANCE = 2
# Training is capped so that a large corpus retrains in seconds, not minutes.
MAX_TRAINING_PASSAGES = 20_000
# Labelled passages x topics up to which the first fit runs in the request: 5,000 x 4, gates
# included, took 1.5 s on 2 busy cores.
SYNC_TRAINING_LIMIT = 20_000
# Labels keep changing while people work; refitting more often than this buys little.
RETRAIN_SECONDS = 30
# A corpus with hundreds of topics gets models for the best-labelled ones only.
MAX_MODELLED_TOPICS = 50
_lock = threading.Lock()
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    """A proposed topic for a passage with its probability, and the likeliest stance on it."""

    topic: str
    probability: float
    stance: str | None
    stance_probability: float


@dataclass
class Suggester:
    """Fitted models: a shared vectorizer, a topic model and a stance model per topic, and their gates."""

    vectorizer: object
    topic_models: dict
    stance_models: dict
    topic_gates: dict[str, gate.Gate] = field(default_factory=dict)
    stance_gates: dict[str, gate.Gate] = field(default_factory=dict)
    # Per topic that cannot be pre-filled yet: about how many more labels its models need.
    waiting: dict[str, int] = field(default_factory=dict)

    def suggest(self, texts: list[str]) -> list[list[Suggestion]]:
        """Every model's answer for each text, likeliest topic first, whether or not it passed its gate."""
        if not texts or not self.topic_models:
            return [[] for _ in texts]
        features = self.vectorizer.transform(texts)
        out: list[list[Suggestion]] = [[] for _ in texts]
        for topic, model in self.topic_models.items():
            present = model.predict_proba(features)[:, list(model.classes_).index(1)]
            stance_model = self.stance_models.get(topic)
            stance_probs = stance_model.predict_proba(features) if stance_model is not None else None
            for i, p in enumerate(present):
                stance, sp = None, 0.0
                if stance_probs is not None:
                    best = int(stance_probs[i].argmax())
                    stance, sp = str(stance_model.classes_[best]), float(stance_probs[i][best])
                out[i].append(Suggestion(topic, float(p), stance, sp))
        return [sorted(s, key=lambda x: -x.probability) for s in out]

    def confident(self, texts: list[str]) -> list[dict[str, Suggestion]]:
        """For each text, by topic, the suggestions worth showing.

        A topic is suggested only by a model whose gate is open, at or above its threshold; its
        stance is kept only when the stance model's gate is open too and it is as sure. The
        label form pre-fills a suggestion that has a stance.
        """
        out = []
        for suggestions in self.suggest(texts):
            shown = {}
            for s in suggestions:
                topic_gate, stance_gate = self.topic_gates.get(s.topic), self.stance_gates.get(s.topic)
                if topic_gate is None or not topic_gate.allows(s.probability):
                    continue
                if s.stance is None or stance_gate is None or not stance_gate.allows(s.stance_probability):
                    s = replace(s, stance=None, stance_probability=0.0)
                shown[s.topic] = s
            out.append(shown)
        return out


def uncertainty(suggestions: list[Suggestion]) -> float:
    """How unsure the models are about a passage: 1 when a topic sits at 50%, 0 when all are sure."""
    if not suggestions:
        return 0.0
    return max(1 - abs(s.probability - 0.5) * 2 for s in suggestions)


def least_certain_first(suggester: Suggester, passages: list[dict]) -> list[dict]:
    """Passages ordered so the ones the models are least sure about come first."""
    scores = [uncertainty(s) for s in suggester.suggest([p["text"] for p in passages])]
    order = sorted(range(len(passages)), key=lambda i: (-scores[i], passages[i]["document"], passages[i]["position"]))
    return [passages[i] for i in order]


def training_data(db) -> list[tuple[str, dict[str, str]]]:
    """Labelled content passages (text, consensus stance per topic), newest labels first."""
    return [(text, stances) for text, stances, _ in _training_rows(db)]


def _training_rows(db) -> list[tuple[str, dict[str, str], str]]:
    rows = list(db.query(
        f"""SELECT p.id, p.text, p.document FROM passages p WHERE p.kind = 'content' AND {current.LABELLED}
        ORDER BY p.id DESC LIMIT ?""",
        [MAX_TRAINING_PASSAGES],
    ))
    stances = current.passage_stances(db, [r["id"] for r in rows]) if rows else {}
    return [(r["text"], stances.get(r["id"], {}), r["document"]) for r in rows]


def _train_on(db, topics: tuple[str, ...]) -> Suggester | None:
    """Models for the labels in `db`, gated by how they do on documents they were not trained on."""
    rows = _training_rows(db)
    model = train([(text, stances) for text, stances, _ in rows], topics, [document for *_, document in rows])
    del rows  # the texts too are garbage by now, so their pages are trimmed with the rest
    memory.give_back()
    return model


def train(examples: list[tuple[str, dict[str, str]]], topics: tuple[str, ...],
          groups: list | None = None) -> Suggester | None:
    """Fit and gate the models on (text, {topic: stance}) examples; None without any example.

    `groups` (each example's document, say) are kept whole when the gates cross-validate.
    """
    from threadpoolctl import threadpool_limits

    if not examples:
        return None
    # These small sparse fits spend most of their time waking BLAS threads: on 2 busy cores,
    # 2,000 labels x 4 topics took 29 s of CPU with the default threads and 1 s with one.
    with threadpool_limits(limits=1):
        return _train(examples, topics, groups)


def _train(examples: list[tuple[str, dict[str, str]]], topics: tuple[str, ...], groups: list | None) -> Suggester:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from webapp.similarity import gate

    counts = Counter(topic for _, labels in examples for topic in labels)
    trainable = [t for t in topics if _enough(examples, t, counts)]
    modelled = sorted(trainable, key=lambda t: -counts[t])[:MAX_MODELLED_TOPICS]
    # Topics past MAX_MODELLED_TOPICS have labels enough and are only waiting their turn.
    waiting = {
        t: max(_shortfall(examples, t, counts), _stance_shortfall(_stances(examples, t)))
        for t in topics if t not in trainable
    }
    if not modelled:
        return Suggester(None, {}, {}, waiting=waiting)
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", ngram_range=(1, 2), min_df=1)
    # The vocabulary is fitted on every text, held-out folds included: it reads no label.
    features = vectorizer.fit_transform([text for text, _ in examples])
    topic_models, stance_models, topic_gates, stance_gates = {}, {}, {}, {}
    for topic in modelled:
        present = [1 if topic in labels else 0 for _, labels in examples]
        topic_models[topic] = _model().fit(features, present)
        topic_gates[topic] = gate.topic_gate(_model, features, present, groups)
        rows = [i for i, (_, labels) in enumerate(examples) if topic in labels]
        stances = _stances(examples, topic)
        if _stance_shortfall(stances) == 0:
            stance_models[topic] = _model().fit(features[rows], stances)
            stance_gates[topic] = gate.stance_gate(_model, features[rows], stances, _pick(groups, rows))
        if not (topic_gates[topic].open and topic in stance_gates and stance_gates[topic].open):
            # Learning curves of these models rise about with the log of the labels, so the
            # next point where a gate may open is about twice as many labels as now.
            waiting[topic] = max(_stance_shortfall(stances), counts[topic])
    return Suggester(vectorizer, topic_models, stance_models, topic_gates, stance_gates, waiting)


def _pick(groups: list | None, rows: list[int]) -> list | None:
    return None if groups is None else [groups[i] for i in rows]


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(class_weight="balanced", max_iter=1000)


def _enough(examples: list[tuple[str, dict[str, str]]], topic: str, counts: Counter) -> bool:
    return counts[topic] >= MIN_POSITIVE and len(examples) - counts[topic] >= MIN_NEGATIVE


def _stances(examples: list[tuple[str, dict[str, str]]], topic: str) -> list[str]:
    return [labels[topic] for _, labels in examples if topic in labels]


def _shortfall(examples: list[tuple[str, dict[str, str]]], topic: str, counts: Counter) -> int:
    """Labels still missing before a topic can have a model at all."""
    return max(MIN_POSITIVE - counts[topic], 0) + max(MIN_NEGATIVE - (len(examples) - counts[topic]), 0)


def _stance_shortfall(stances: list[str]) -> int:
    """Labels still missing before a stance model: two stances, MIN_PER_STANCE of each seen."""
    counts = sorted(Counter(stances).values(), reverse=True) + [0, 0]
    rare = sum(MIN_PER_STANCE - c for c in counts[2:] if 0 < c < MIN_PER_STANCE)
    return sum(max(MIN_PER_STANCE - c, 0) for c in counts[:2]) + rare


def current_suggester(db, topics: tuple[str, ...], cache: dict, database: str) -> Suggester | None:
    """The models for the database file `database` (read through `db`), kept in `cache` and refitted.

    The first fit of a small corpus happens at once, so the queue has suggestions from the
    start. After that, saves never wait for fitting: a child process opens `database` and
    refits at most once per RETRAIN_SECONDS while requests carry on with the previous models.
    """
    version = (
        db.execute("SELECT count(*), max(updated) FROM labels").fetchone(),
        db.execute("SELECT coalesce(max(id), 0) FROM label_changes").fetchone(),
        topics,
    )
    with _lock:
        entry = cache.setdefault(database, {"version": None, "model": None, "training": False, "started": 0.0})
        if entry["version"] == version or entry["training"]:
            return entry["model"]
        if entry["version"] is None and version[0][0] * max(len(topics), 1) <= SYNC_TRAINING_LIMIT:
            entry.update(version=version, model=_train_on(db, topics), started=time.monotonic())
            return entry["model"]
        if entry["version"] is not None and time.monotonic() - entry["started"] < RETRAIN_SECONDS:
            return entry["model"]
        entry.update(training=True, started=time.monotonic())
    threading.Thread(target=_train_in_background, args=(entry, version, database, topics), daemon=True).start()
    return entry["model"]


def _train_in_background(entry: dict, version: tuple, database: str, topics: tuple[str, ...]) -> None:
    try:
        model = _fit_apart(database, topics)
    except Exception:
        _log.exception("Refitting the label suggestions of %s failed; the previous models stay.", database)
        with _lock:
            entry["training"] = False
        return
    with _lock:
        entry.update(version=version, model=model, training=False)


def _fit_apart(database: str, topics: tuple[str, ...]) -> Suggester | None:
    """Fit the models in a child process of their own, at the lowest CPU priority, and return them.

    In a thread of the worker, a fit held the GIL against its requests: at 100k passages one page
    in twenty right after a save took 200 ms, not 20, and the worker kept the training texts'
    memory. The child is a fresh interpreter (`python -m` this module), so it shares no locks
    with the worker's threads and needs nothing of the program that started the worker.
    """
    with tempfile.TemporaryDirectory() as scratch:
        models = Path(scratch) / "models.pickle"
        child = subprocess.run(
            [sys.executable, "-m", "webapp.similarity.suggester", database, str(models), *topics],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if child.returncode:
            raise RuntimeError(f"the fitting process exited with {child.returncode}: "
                               f"{child.stderr.decode(errors='replace')[-2000:]}")
        # Written a moment ago by our own child process from our own database: trusted.
        return pickle.loads(models.read_bytes())


def _fit_to_file(database: str, models: str, topics: tuple[str, ...]) -> None:
    """The child process's work: fit the models of `database` and pickle them to `models`."""
    with contextlib.suppress(OSError):
        os.nice(19)
    db = connect(database)
    try:
        Path(models).write_bytes(pickle.dumps(_train_on(db, topics)))
    finally:
        db.close()


if __name__ == "__main__":
    # Through the imported module, so the models pickle as webapp.similarity.suggester's classes, not __main__'s.
    from webapp.similarity import suggester

    suggester._fit_to_file(sys.argv[1], sys.argv[2], tuple(sys.argv[3:]))
