"""How good are the label suggestions, and do their pre-fills save keystrokes on new text?

Run: .venv/bin/python benchmarks/bench_suggest.py [--quick]
Everything uses the app's own `suggester.train`, as the labelling queue does.

1. Seeds, 5-fold cross-validation over the labelled content passages (tiny: a sanity check,
   not an estimate): topic presence F1 per topic and stance accuracy of the raw models.
2. Pre-fills on text the models have not seen, "before" (the rule the form used until issue 12:
   pre-fill a topic at P(about) >= 0.5 with the stance model's likeliest stance) against "after"
   (only suggestions that pass the gate of webapp/similarity/gate.py):
   - Seeds: each document held out in turn, models trained on the other four, as when a new
     article arrives.
   - Perspectrum (Chen et al., "Seeing Things from a Different Angle: Discovering Diverse
     Perspectives about Claims", NAACL 2019): the test-split claims, grouped by their first
     coarse topic into corpora of up to 8 claims (a claim is a topic, a perspective a passage
     with a stance toward it); 5 folds per corpus, a perspective cluster (paraphrases) never split
     across folds, each fold held out in turn. --quick: the first 8 corpora only.
   Reported: how often a pre-fill happened (per passage, and the share of true topic labels that
   came pre-filled), how often it was right (topic and stance both), and keystrokes. Keys model
   (README's keyboard table): labelling a topic by hand takes 2 keys (topic, stance); a right
   pre-fill takes 0; a wrong one costs the keys to clear it (2: the topic key makes it active,
   pressed again drops it) plus the keys for the right answer (2 if the passage is about the
   topic, else 0). Holders and Enter are the same either way and are left out.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpora

from webapp.labels import current
from webapp.labels.build import build
from webapp.similarity import suggester
from webapp.store.db import connect

REPO = Path(__file__).resolve().parent.parent
FOLDS = 5
HAND_KEYS = 2  # topic key + stance key
CLEAR_KEYS = 2  # topic key to make a pre-filled topic active, again to drop it
CORPUS_CLAIMS = 8


def folds(n: int, k: int, seed: int = 0) -> list[list[int]]:
    """k disjoint folds of range(n), shuffled."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


def seed_examples() -> tuple[list[tuple[str, str, dict[str, str]]], tuple[str, ...]]:
    """The labelled seed passages as (document, text, consensus stance per topic), and the topics."""
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "db.sqlite")
        build(db, REPO / "seeds", REPO / "labels")
        rows = list(db.query(
            f"SELECT p.id, p.document, p.text FROM passages p WHERE p.kind = 'content' AND {current.LABELLED}"
            " ORDER BY p.id"
        ))
        stances = current.passage_stances(db, [r["id"] for r in rows])
        topics = tuple(r[0] for r in db.execute("SELECT id FROM topics ORDER BY sort"))
        db.close()
    return [(r["document"], r["text"], stances.get(r["id"], {})) for r in rows], topics


def seeds_cv(examples: list[tuple[str, str, dict[str, str]]], topics: tuple[str, ...]) -> None:
    """Cross-validate topic presence and stance of the raw models on the seed labels."""
    pairs = [(text, labels) for _, text, labels in examples]
    tp, fp, fn = Counter(), Counter(), Counter()
    stance_right = stance_total = 0
    for fold in folds(len(pairs), FOLDS):
        test = set(fold)
        model = suggester.train([e for i, e in enumerate(pairs) if i not in test], topics)
        for i, suggestions in zip(fold, model.suggest([pairs[i][0] for i in fold])):
            truth = pairs[i][1]
            for s in suggestions:
                said, real = s.probability >= 0.5, s.topic in truth
                tp[s.topic] += said and real
                fp[s.topic] += said and not real
                fn[s.topic] += real and not said
                if real and s.stance:
                    stance_total += 1
                    stance_right += s.stance == truth[s.topic]
    print(f"Seeds ({len(pairs)} labelled passages, {FOLDS}-fold CV of the raw models; tiny, a sanity check only)")
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


@dataclass
class Tally:
    """Pre-fills on held-out passages and the keystrokes they saved or cost."""

    passages: int = 0
    labels: int = 0  # true (topic, stance) labels
    prefills: int = 0
    right: int = 0
    prefilled_labels: int = 0  # true labels that came pre-filled, right or not
    hints: int = 0  # topics suggested at P >= 0.5 without a stance, so not pre-filled
    hints_right: int = 0
    hand_keys: int = 0  # keys without any suggestion
    keys: int = 0  # keys with the pre-fills

    def add(self, truth: dict[str, str], prefilled: dict[str, str], hinted: set[str]) -> None:
        """Count one passage: its true stances per topic, the stances pre-filled, the topics only hinted."""
        self.passages += 1
        self.hints += len(hinted)
        self.hints_right += len(hinted & truth.keys())
        self.labels += len(truth)
        self.hand_keys += HAND_KEYS * len(truth)
        self.keys += HAND_KEYS * len(truth.keys() - prefilled.keys())
        for topic, stance in prefilled.items():
            self.prefills += 1
            self.prefilled_labels += topic in truth
            if truth.get(topic) == stance:
                self.right += 1
            else:
                self.keys += CLEAR_KEYS + (HAND_KEYS if topic in truth else 0)

    def report(self, name: str) -> str:
        """One line of figures."""
        saved = self.hand_keys - self.keys
        return (f"  {name:<7} pre-fills {self.prefills:>5} ({self.prefills / max(self.passages, 1):.2f} per passage,"
                f" {self.prefilled_labels / max(self.labels, 1):.0%} of true labels), right {share(self.right, self.prefills)};"
                f" keys {self.keys} instead of {self.hand_keys}: {'saved' if saved >= 0 else 'cost'} {abs(saved)}"
                f" ({abs(saved) / max(self.hand_keys, 1):.1%}); topic-only hints {self.hints},"
                f" right {share(self.hints_right, self.hints)}")


def share(part: int, whole: int) -> str:
    """A percentage, or a dash when there is nothing to divide."""
    return f"{part / whole:.0%}" if whole else "-"


def before(model: suggester.Suggester | None, texts: list[str]) -> list[list[suggester.Suggestion]]:
    """What the form was given before the gate: every model's answer."""
    return model.suggest(texts) if model else [[] for _ in texts]


def after(model: suggester.Suggester | None, texts: list[str]) -> list[list[suggester.Suggestion]]:
    """What the form is given now: only the suggestions that pass the gates."""
    return [list(found.values()) for found in model.confident(texts)] if model else [[] for _ in texts]


def form(suggestions: list[suggester.Suggestion]) -> tuple[dict[str, str], set[str]]:
    """What labels.queue.form_rows makes of them: pre-filled stances, and topics only hinted."""
    likely = [s for s in suggestions if s.probability >= 0.5]
    return {s.topic: s.stance for s in likely if s.stance}, {s.topic for s in likely if not s.stance}


def held_out(tallies: dict[str, Tally], train: list[tuple[str, dict[str, str]]], groups: list,
             test: list[tuple[str, dict[str, str]]], topics: tuple[str, ...]) -> suggester.Suggester | None:
    """Train on `train` (its documents in `groups`), tally before and after on `test`; the model."""
    model = suggester.train(train, topics, groups)
    texts = [text for text, _ in test]
    for rule, given in (("before", before), ("after", after)):
        for (_, truth), suggestions in zip(test, given(model, texts)):
            tallies[rule].add(truth, *form(suggestions))
    return model


def seeds_held_out(examples: list[tuple[str, str, dict[str, str]]], topics: tuple[str, ...]) -> None:
    """Each seed document held out in turn, models trained on the others."""
    tallies = {"before": Tally(), "after": Tally()}
    opened = []
    for document in sorted({d for d, _, _ in examples}):
        train = [(t, labels) for d, t, labels in examples if d != document]
        groups = [d for d, _, _ in examples if d != document]
        test = [(t, labels) for d, t, labels in examples if d == document]
        model = held_out(tallies, train, groups, test, topics)
        gates = [t for t in topics if model and model.topic_gates.get(t) and model.topic_gates[t].open]
        opened.append(f"{document[:3]}: {', '.join(gates) or 'none'}")
    print(f"Seeds, each of the {len(opened)} documents held out in turn ({len(examples)} labelled passages)")
    for name, tally in tallies.items():
        print(tally.report(name))
    print(f"  topics whose topic gate opened, by held-out document: {'; '.join(opened)}")


def perspectrum_corpora(quick: bool) -> list[list[tuple[int, int, str, dict[str, str]]]]:
    """Corpora of test-split claims: (passage id, cluster group, text, {claim: stance}) each."""
    claims, texts = corpora.perspectrum_claims()
    split = json.loads((corpora.PERSPECTRUM / "dataset_split_v1.0.json").read_text(encoding="utf-8"))
    coarse = {c["claim_id"]: c["topics"] for c in
              json.loads((corpora.PERSPECTRUM / "topic.json").read_text(encoding="utf-8"))}
    by_coarse: dict[str, list[dict]] = defaultdict(list)
    for claim in claims:
        if split.get(str(claim["cId"])) == "test":
            by_coarse[(coarse.get(claim["cId"]) or ["none"])[0]].append(claim)
    groups = []
    for name in sorted(by_coarse):
        chunk = by_coarse[name]
        groups += [chunk[i : i + CORPUS_CLAIMS] for i in range(0, len(chunk), CORPUS_CLAIMS)]
    out = []
    for group in groups[:8] if quick else groups:
        labels: dict[int, dict[str, str]] = defaultdict(dict)
        cluster_of: dict[int, int] = {}
        for claim in group:
            for n, cluster in enumerate(claim["perspectives"]):
                for pid in cluster["pids"]:
                    labels[pid][f"claim_{claim['cId']}"] = corpora.STANCE[cluster["stance_label_3"]]
                    cluster_of.setdefault(pid, claim["cId"] * 1000 + n)
        out.append([(pid, cluster_of[pid], texts[pid], labels[pid]) for pid in sorted(labels)])
    return out


def perspectrum(quick: bool) -> None:
    """Pre-fills on held-out Perspectrum perspectives, and the raw stance models against the majority stance."""
    tallies = {"before": Tally(), "after": Tally()}
    stance_right = stance_majority = stance_total = 0
    found = perspectrum_corpora(quick)
    for passages in found:
        topics = tuple(sorted({t for *_, labels in passages for t in labels}))
        clusters = sorted({group for _, group, _, _ in passages})
        fold_of = {c: i % FOLDS for i, c in enumerate(random.Random(len(passages)).sample(clusters, len(clusters)))}
        for fold in range(FOLDS):
            train = [(text, labels) for _, g, text, labels in passages if fold_of[g] != fold]
            groups = [g for _, g, _, _ in passages if fold_of[g] != fold]
            test = [(text, labels) for _, g, text, labels in passages if fold_of[g] == fold]
            model = held_out(tallies, train, groups, test, topics)
            if model is None:
                continue
            majority = {t: Counter(labels[t] for _, labels in train if t in labels).most_common(1)[0][0]
                        for t in model.stance_models}
            for (_, truth), suggestions in zip(test, model.suggest([text for text, _ in test])):
                for s in suggestions:
                    if s.topic in truth and s.stance:
                        stance_total += 1
                        stance_right += s.stance == truth[s.topic]
                        stance_majority += majority[s.topic] == truth[s.topic]
    n = sum(len(p) for p in found)
    print(f"Perspectrum, test-split claims: {len(found)} corpora of <= {CORPUS_CLAIMS} claims, {n} perspectives,"
          f" {FOLDS} folds by cluster held out in turn")
    for name, tally in tallies.items():
        print(tally.report(name))
    print(f"  raw stance model where the topic is true: accuracy {stance_right / max(stance_total, 1):.3f};"
          f" majority stance {stance_majority / max(stance_total, 1):.3f} ({stance_total} predictions)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the first 8 Perspectrum corpora")
    args = parser.parse_args()
    examples, topics = seed_examples()
    seeds_cv(examples, topics)
    seeds_held_out(examples, topics)
    perspectrum(args.quick)
