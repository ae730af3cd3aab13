"""How well key arguments are found, on Perspectrum, and how long grouping a side takes.

Run: .venv/bin/python benchmarks/bench_arguments.py [--runs 5]

Gold: for every claim and stance with at least 3 perspectives, Perspectrum's perspective clusters
(perspectives that say the same thing) are the arguments. The figure is the mean adjusted Rand
index over the claims and stances of the test split, for:
- the two baselines: every passage alone, and everything as one argument;
- what ships (`webapp.findings.grouping`, cut at `THRESHOLD`);
- the cut that scores best on the train split, to show how the shipped cut was chosen.
Timing: grouping 2,000 perspectives drawn at random, median of --runs, as the Arguments view does.
Data: Chen et al., "Seeing Things from a Different Angle: Discovering Diverse Perspectives about
Claims", NAACL 2019 (CC BY-SA 4.0).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from random import Random

from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpora import PERSPECTRUM, STANCE, perspectrum_claims  # noqa: E402

from webapp.findings import grouping  # noqa: E402

CUTS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def gold_sides() -> dict[str, list[list[tuple[str, int]]]]:
    """Per split, each claim's sides with >= 3 perspectives as (text, gold cluster) pairs."""
    claims, texts = perspectrum_claims()
    split = json.loads((PERSPECTRUM / "dataset_split_v1.0.json").read_text(encoding="utf-8"))
    sides: dict[str, list] = {"train": [], "dev": [], "test": []}
    for claim in claims:
        for label in STANCE:
            items = [
                (texts[pid], k)
                for k, cluster in enumerate(claim["perspectives"])
                if cluster["stance_label_3"] == label
                for pid in cluster["pids"]
                if pid in texts
            ]
            if len(items) >= 3:
                sides[split[str(claim["cId"])]].append(items)
    return sides


def mean_ari(sides, grouper) -> float:
    """Mean adjusted Rand index of `grouper(texts)` against the gold clusters."""
    scores = [adjusted_rand_score([k for _, k in items], grouper([t for t, _ in items])) for items in sides]
    return statistics.fmean(scores)


def main() -> None:
    """Print the quality table and the timing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timing runs (median reported)")
    args = parser.parse_args()
    sides = gold_sides()
    print(f"# Key arguments on Perspectrum, {date.today()}, {platform.machine()} {platform.processor() or ''}"
          f" Python {platform.python_version()}")
    print(f"sides with >= 3 perspectives: train {len(sides['train'])}, test {len(sides['test'])}")
    train = {cut: mean_ari(sides["train"], lambda texts, c=cut: grouping.group(texts, c)) for cut in CUTS}
    best = max(train, key=train.get)
    print("train ARI by cut: " + ", ".join(f"{cut}: {score:.3f}" for cut, score in train.items()))
    test = sides["test"]
    rows = [
        ("every passage alone", mean_ari(test, lambda texts: list(range(len(texts))))),
        ("everything one argument", mean_ari(test, lambda texts: [0] * len(texts))),
        (f"shipped (cut {grouping.THRESHOLD})", mean_ari(test, grouping.group)),
        (f"best cut on train ({best})", mean_ari(test, lambda texts: grouping.group(texts, best))),
    ]
    print("| grouping | mean ARI, test split |\n| --- | --- |")
    for name, score in rows:
        print(f"| {name} | {score:.3f} |")
    _, texts = perspectrum_claims()
    sample = Random(14).sample(sorted(texts.values()), 2000)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        found = grouping.group(sample)
        times.append(time.perf_counter() - start)
    print(f"grouping 2,000 passages: median {statistics.median(times):.2f} s over {args.runs} runs"
          f" ({max(found) + 1} arguments)")


if __name__ == "__main__":
    main()
