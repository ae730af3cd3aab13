"""When a suggestion model has earned the right to pre-fill the label form.

A pre-fill that is wrong costs keystrokes to undo and nudges the annotator toward the model's
answer, so a model is cross-validated on the labels so far, whole documents held out (see
`_folds`), and must pass two tests:

1. Signal: out of fold, it beats always answering the majority class by MARGIN. For whether a
   passage is about a topic this is macro-F1, as most passages are not and accuracy would
   reward always saying no; for the stance it is accuracy, as a model that mostly echoes the
   majority stance is exactly what pre-filled "Opposes returns" on neutral reporting.
2. Confidence: from some probability on, its out-of-fold answers were right at least PRECISION
   of the time. The lowest such probability becomes its threshold; below it nothing is shown.

A model at chance fails the first; a model right on average but never sure fails the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARGIN = 0.1
# Share of out-of-fold answers above the threshold that must be right (on the lower bound of
# Z below). A right pre-fill saves two keys and a wrong one costs about two, so 1/2 breaks even
# on keys; the rest is for the nudge a wrong answer gives. With benchmarks/bench_suggest.py on
# the Perspectrum dev claims, 0.7, or 0.6 without the bound, let through pre-fills that were
# right 45-50% of the time, and 0.8 with it none.
PRECISION = 0.8
FOLDS = 5
# Fewer answers above a threshold than this say nothing about its precision.
MIN_CONFIDENT = 3
# One-sided z of the lower bound put on a threshold's precision (1.28: 90%).
Z = 1.28
# Cross-validation reads at most this many examples (per-class weights keep the estimates
# unbiased), so that a large corpus retrains in seconds; the full model can only do better.
CV_LIMIT = 1000
# Never below 0.5 for topics: the label form pre-fills a suggested topic from 0.5 on
# (labels.queue.form_rows), so a lower threshold would pre-fill what the gate ruled out.
TOPIC_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))
STANCE_THRESHOLDS = tuple(np.round(np.arange(0.35, 0.96, 0.05), 2))


@dataclass(frozen=True)
class Gate:
    """A model's cross-validated quality, its majority-class baseline and its chosen threshold."""

    quality: float
    baseline: float
    threshold: float | None  # None: never right often enough to be shown

    @property
    def open(self) -> bool:
        """Whether the model may make suggestions: clear signal and a confident region."""
        return self.threshold is not None and self.quality >= self.baseline + MARGIN

    def allows(self, probability: float) -> bool:
        """Whether an answer given with this probability may be shown."""
        return self.open and probability >= self.threshold


def topic_gate(make_model, features, present: list[int], groups: list | None = None) -> Gate:
    """The gate of a topic model: macro-F1 of about / not about, threshold on P(about).

    `groups` (say, each example's document) are kept whole in cross-validation.
    """
    weights, y, probabilities, classes = _out_of_fold(make_model, features, present, groups)
    about = probabilities[:, list(classes).index(1)]
    return Gate(
        quality=_macro_f1(y, (about > 0.5).astype(int), weights),
        baseline=_macro_f1(y, np.full(len(y), _majority(y, weights)), weights),
        threshold=_threshold(about, y == 1, weights, TOPIC_THRESHOLDS),
    )


def stance_gate(make_model, features, stances: list[str], groups: list | None = None) -> Gate:
    """The gate of a stance model: accuracy, threshold on the likeliest stance's probability."""
    weights, y, probabilities, classes = _out_of_fold(make_model, features, stances, groups)
    answered = probabilities.max(axis=1) > 0
    predicted = np.where(answered, np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)], None)
    return Gate(
        quality=_accuracy(y, predicted, weights),
        baseline=_accuracy(y, np.full(len(y), _majority(y, weights)), weights),
        threshold=_threshold(probabilities.max(axis=1), predicted == y, weights, STANCE_THRESHOLDS),
    )


def _out_of_fold(make_model, features, labels: list, groups: list | None):
    """Out-of-fold probabilities on a class-balanced sample of at most CV_LIMIT examples.

    A fold whose training part has a single class learns nothing: its examples get no answer
    (all probabilities 0), which is never confident and never right. This is common when a
    class was labelled in one document only. A class missing from a training part gets
    probability 0 in its fold.
    """
    labels = np.asarray(labels)
    rows, weights = _sample(labels, CV_LIMIT)
    y = labels[rows]
    classes = np.unique(y)
    probabilities = np.zeros((len(y), len(classes)))
    for train, test in _folds(y, None if groups is None else np.asarray(groups)[rows]):
        if len(np.unique(y[train])) < 2:
            continue
        model = make_model().fit(features[rows[train]], y[train])
        columns = np.searchsorted(classes, model.classes_)
        probabilities[np.ix_(test, columns)] = model.predict_proba(features[rows[test]])
    return weights, y, probabilities, classes


def _folds(y: np.ndarray, groups: np.ndarray | None):
    """Cross-validation folds that keep groups whole when there are two groups or more.

    Passages of one article share names and events, so a model tested on passages of articles
    it was trained on looks better than it will on the next article; whole held-out documents
    measure what the queue needs. A single document can only be split by passage.
    """
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if groups is not None and len(np.unique(groups)) >= 2:
        return GroupKFold(n_splits=min(FOLDS, len(np.unique(groups)))).split(y, y, groups)
    smallest = np.unique(y, return_counts=True)[1].min()
    return StratifiedKFold(n_splits=int(min(FOLDS, smallest)), shuffle=True, random_state=0).split(y, y)


def _sample(labels: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows to cross-validate, smallest classes kept whole, with weights that undo the sampling."""
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    rows, weights, left = [], [], limit
    for n, (_, members) in enumerate(sorted(by_class.items(), key=lambda item: len(item[1]))):
        take = min(len(members), left // (len(by_class) - n))
        rows += list(np.random.default_rng(n).choice(members, take, replace=False))
        weights += [len(members) / take] * take
        left -= take
    order = np.argsort(rows)
    return np.asarray(rows)[order], np.asarray(weights)[order]


def _majority(y: np.ndarray, weights: np.ndarray):
    classes = np.unique(y)
    return classes[np.argmax([weights[y == c].sum() for c in classes])]


def _accuracy(y: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> float:
    return float(weights[predicted == y].sum() / weights.sum())


def _macro_f1(y: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> float:
    """Macro-F1 over the true classes; a class never predicted scores 0 (no warning)."""
    scores = []
    for c in np.unique(y):
        hit = weights[(predicted == c) & (y == c)].sum()
        said, real = weights[predicted == c].sum(), weights[y == c].sum()
        scores.append(2 * hit / (said + real) if said + real else 0.0)
    return float(np.mean(scores))


def _threshold(confidence: np.ndarray, right: np.ndarray, weights: np.ndarray, grid) -> float | None:
    """The lowest probability in `grid` from which the answers were right often enough.

    "Often enough" is judged on a lower confidence bound (Wilson, one-sided, Z), not on the
    share itself: with a dozen answers and a grid of thresholds to choose from, a share of 0.8
    is easily luck.
    """
    for threshold in grid:
        shown = confidence >= threshold
        n = int(shown.sum())
        if n >= MIN_CONFIDENT and _lower_bound(weights[shown & right].sum() / weights[shown].sum(), n) >= PRECISION:
            return float(threshold)
    return None


def _lower_bound(share: float, n: int) -> float:
    """Wilson score lower bound of a share observed in n answers."""
    z2 = Z * Z
    centre = share + z2 / (2 * n)
    spread = Z * np.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    return float((centre - spread) / (1 + z2 / n))
