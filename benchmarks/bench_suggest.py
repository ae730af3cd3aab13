"""How good are the label suggestions? Cross-validated on the seed labels and on Perspectrum.

Run: .venv/bin/python benchmarks/bench_suggest.py
Both use the app's own `suggest.train`, as the labelling queue does.
- Seeds: 5-fold cross-validation over the 54 labelled content passages (tiny: read the
  figures as a sanity check, not an estimate), topic presence F1 per topic and stance accuracy.
- Perspectrum: each claim is a topic; the stance of a perspective toward its claim is predicted
  by that topic's stance model, trained on the claim's other perspectives (5-fold within each
  claim, as an annotator would have labelled some of a topic's passages). Compared with always
  answering the claim's majority stance.
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpora

from webapp.labels.build import build
from webapp.similarity import suggester
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent
FOLDS = 5


def folds(n: int, k: int, seed: int = 0) -> list[list[int]]:
    """k disjoint folds of range(n), shuffled."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


def seeds() -> None:
    """Cross-validate topic presence and stance on the seed labels."""
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "db.sqlite")
        build(db, REPO / "seeds", REPO / "labels")
        examples = suggester.training_data(db)
        topics = tuple(r[0] for r in db.execute("SELECT id FROM topics ORDER BY sort"))
    tp, fp, fn = Counter(), Counter(), Counter()
    stance_right = stance_total = 0
    for fold in folds(len(examples), FOLDS):
        test = set(fold)
        model = suggester.train([e for i, e in enumerate(examples) if i not in test], topics)
        predictions = model.suggest([examples[i][0] for i in fold])
        for i, suggestions in zip(fold, predictions):
            truth = examples[i][1]
            for s in suggestions:
                said, real = s.probability >= 0.5, s.topic in truth
                tp[s.topic] += said and real
                fp[s.topic] += said and not real
                fn[s.topic] += real and not said
                if real and s.stance:
                    stance_total += 1
                    stance_right += s.stance == truth[s.topic]
    print(f"Seeds ({len(examples)} labelled passages, {FOLDS}-fold CV; tiny, a sanity check only)")
    for topic in topics:
        if tp[topic] + fp[topic] + fn[topic] == 0:
            print(f"  {topic:<14} no model (too few labels)")
            continue
        precision = tp[topic] / max(tp[topic] + fp[topic], 1)
        recall = tp[topic] / max(tp[topic] + fn[topic], 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        print(f"  {topic:<14} topic presence P {precision:.2f} R {recall:.2f} F1 {f1:.2f}")
    print(f"  stance accuracy where the topic is right: {stance_right}/{stance_total}"
          f" = {stance_right / max(stance_total, 1):.2f}")


def perspectrum() -> None:
    """Stance toward the claim, per-claim models, against the majority-stance baseline."""
    claims, texts = corpora.perspectrum_claims()
    rng = random.Random(1)
    right = majority = total = 0
    for claim in claims:
        topic = f"claim_{claim['cId']}"
        own = [(texts[pid], {topic: corpora.STANCE[c["stance_label_3"]]}) for c in claim["perspectives"] for pid in c["pids"]]
        counts = Counter(e[1][topic] for e in own)
        if len(own) < 2 * FOLDS or min(counts.values(), default=0) < suggester.MIN_PER_STANCE * 2:
            continue
        others = [(texts[pid], {}) for pid in rng.sample(list(texts), suggester.MIN_NEGATIVE)]
        for fold in folds(len(own), FOLDS, claim["cId"]):
            test = set(fold)
            train = [e for i, e in enumerate(own) if i not in test]
            model = suggester.train(train + others, (topic,))
            if model is None or topic not in model.stance_models:
                continue
            top = Counter(e[1][topic] for e in train).most_common(1)[0][0]
            for i, suggestions in zip(fold, model.suggest([own[i][0] for i in fold])):
                truth = own[i][1][topic]
                total += 1
                right += suggestions[0].stance == truth
                majority += top == truth
    print(f"Perspectrum stance toward the claim ({total} predictions, per-claim models, {FOLDS}-fold within claim)")
    print(f"  accuracy {right / total:.3f}; majority-stance baseline {majority / total:.3f}")


if __name__ == "__main__":
    seeds()
    perspectrum()
