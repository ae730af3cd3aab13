"""Label suggestions: scikit-learn models trained on the hand labels propose topics and stances.

One binary model per topic says whether a passage speaks to it (one-vs-rest), and one model
per topic proposes the stance. Both are TF-IDF + logistic regression. A topic gets a model
only once it has enough labelled examples. Suggestions are shown to people, never saved.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass

from webapp.labels import current
from webapp.store.db import connect

# Below these counts a model would only echo its few examples back.
MIN_POSITIVE = 5
MIN_NEGATIVE = 5
MIN_PER_STANCE = 2
# Training is capped so that a large corpus retrains in seconds, not minutes.
MAX_TRAINING_PASSAGES = 20_000
# Passages x topics up to which training runs in the request (a fraction of a second).
SYNC_TRAINING_LIMIT = 20_000
# Labels keep changing while people work; refitting more often than this buys little.
RETRAIN_SECONDS = 30
# A corpus with hundreds of topics gets models for the best-labelled ones only.
MAX_MODELLED_TOPICS = 50
_lock = threading.Lock()


@dataclass(frozen=True)
class Suggestion:
    """A proposed topic for a passage with its probability, and the likeliest stance on it."""

    topic: str
    probability: float
    stance: str | None
    stance_probability: float


@dataclass
class Suggester:
    """Fitted models: a shared vectorizer, a topic model and a stance model per topic."""

    vectorizer: object
    topic_models: dict
    stance_models: dict

    def suggest(self, texts: list[str]) -> list[list[Suggestion]]:
        """Suggestions for each text, likeliest topic first."""
        if not texts:
            return []
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
    rows = list(db.query(
        f"""SELECT p.id, p.text FROM passages p WHERE p.kind = 'content' AND {current.LABELLED}
        ORDER BY p.id DESC LIMIT ?""",
        [MAX_TRAINING_PASSAGES],
    ))
    stances = current.passage_stances(db, [r["id"] for r in rows]) if rows else {}
    return [(r["text"], stances.get(r["id"], {})) for r in rows]


def train(examples: list[tuple[str, dict[str, str]]], topics: tuple[str, ...]) -> Suggester | None:
    """Fit the models on (text, {topic: stance}) examples; None when no topic has enough labels."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(topic for _, labels in examples for topic in labels)
    trainable = [t for t in topics if _enough(examples, t, counts)]
    trainable = sorted(trainable, key=lambda t: -counts[t])[:MAX_MODELLED_TOPICS]
    if not trainable:
        return None
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", ngram_range=(1, 2), min_df=1)
    features = vectorizer.fit_transform([text for text, _ in examples])
    topic_models, stance_models = {}, {}
    for topic in trainable:
        present = [1 if topic in labels else 0 for _, labels in examples]
        topic_models[topic] = LogisticRegression(class_weight="balanced", max_iter=1000).fit(features, present)
        rows = [i for i, (_, labels) in enumerate(examples) if topic in labels]
        stances = [examples[i][1][topic] for i in rows]
        counts = Counter(stances)
        if len(counts) >= 2 and min(counts.values()) >= MIN_PER_STANCE:
            stance_models[topic] = LogisticRegression(class_weight="balanced", max_iter=1000).fit(features[rows], stances)
    return Suggester(vectorizer, topic_models, stance_models)


def _enough(examples: list[tuple[str, dict[str, str]]], topic: str, counts: Counter) -> bool:
    return counts[topic] >= MIN_POSITIVE and len(examples) - counts[topic] >= MIN_NEGATIVE


def current_suggester(db, topics: tuple[str, ...], cache: dict, database: str) -> Suggester | None:
    """The models for the database file `database` (read through `db`), kept in `cache` and refitted.

    The first fit of a small corpus happens at once, so the queue has suggestions from the
    start. After that, saves never wait for fitting: a background thread opens `database`
    and refits at most once per RETRAIN_SECONDS while requests carry on with the previous models.
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
            entry.update(version=version, model=train(training_data(db), topics), started=time.monotonic())
            return entry["model"]
        if entry["version"] is not None and time.monotonic() - entry["started"] < RETRAIN_SECONDS:
            return entry["model"]
        entry.update(training=True, started=time.monotonic())
    threading.Thread(target=_train_in_background, args=(entry, version, database, topics), daemon=True).start()
    return entry["model"]


def _train_in_background(entry: dict, version: tuple, database: str, topics: tuple[str, ...]) -> None:
    # Lowest CPU priority for this thread only (Linux sets nice per thread), so pages and
    # saves come first; fitting a large corpus takes seconds of CPU.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    db = connect(database)
    try:
        model = train(training_data(db), topics)
    finally:
        db.close()
        with _lock:
            entry["training"] = False
    with _lock:
        entry.update(version=version, model=model)
