"""Benchmark webapp.similarity.engine: quality on Perspectrum, then speed and memory at scale.

Usage:  python benchmarks/bench_related.py [--quick] [--settings] [--data DIR]

Quality uses Perspectrum (Chen et al., "Seeing Things from a Different Angle: Discovering
Diverse Perspectives about Claims", NAACL 2019): the corpus is every perspective that appears in
a claim's clusters, one passage per perspective id; a perspective's gold related passages are
the other members of every cluster it belongs to. Each perspective is its own document, so the
same-document exclusion of `related()` never hides a gold mate. --settings also re-runs the
sweep of plain TF-IDF settings (brute-force cosine over the whole corpus) behind the design.

Speed runs each corpus size in a fresh subprocess so peak RSS is per size. 11,822 is the real
corpus as listed by the claims (a perspective under two claims appears twice; document = claim).
Larger corpora are synthetic, see `synthetic_passages`. --quick skips 1M passages.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp.similarity.engine import build_index, related

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "perspectrum"
DOCUMENT_SIZE = 30  # passages per synthetic document, and in the "add one document" test
QUERIES = 300
RECALL_DEFINITION = (
    "recall@k = |gold mates in top k| / |gold mates|, averaged over queries (a query is a "
    "perspective with >= 1 cluster mate); MRR = 1 / rank of the first gold mate in the top 10"
)


def load(data: Path) -> tuple[dict[int, str], dict[int, set[int]], set[int], list[tuple]]:
    """Texts by perspective id, gold mates, test-split queries and the claim occurrences."""
    claims = json.loads((data / "perspectrum_with_answers_v1.0.json").read_text())
    pool = json.loads((data / "perspective_pool_v1.0.json").read_text())
    split = json.loads((data / "dataset_split_v1.0.json").read_text())
    texts = {p["pId"]: p["text"] for p in pool}
    gold: dict[int, set[int]] = collections.defaultdict(set)
    test: set[int] = set()
    occurrences = []
    for claim in claims:
        for cluster in claim["perspectives"]:
            for pid in cluster["pids"]:
                gold[pid] |= set(cluster["pids"]) - {pid}
                occurrences.append((len(occurrences), str(claim["cId"]), texts[pid]))
                if split[str(claim["cId"])] == "test" and len(cluster["pids"]) > 1:
                    test.add(pid)
    corpus = {pid: texts[pid] for pid in gold}
    return corpus, {q: g for q, g in gold.items() if g}, test, occurrences


def score_rankings(rankings: dict[int, list[int]], gold, test) -> dict[str, list[float]]:
    """Mean recall@1/5/10 and MRR over all queries and over test-split queries."""
    rows: dict[str, list] = {"all": [], "test": []}
    for query, ranked in rankings.items():
        mates = gold[query]
        hits = [len(set(ranked[:k]) & mates) / len(mates) for k in (1, 5, 10)]
        first = next((1 / rank for rank, pid in enumerate(ranked[:10], 1) if pid in mates), 0.0)
        for group in ("all", "test") if query in test else ("all",):
            rows[group].append(hits + [first])
    return {group: np.mean(values, axis=0).tolist() for group, values in rows.items()}


def quality(data: Path) -> dict[str, list[float]]:
    """Quality of the app's own related() on Perspectrum."""
    corpus, gold, test, _ = load(data)
    index = build_index((pid, f"perspective-{pid}", text) for pid, text in corpus.items())
    rankings = {q: [m.id for m in related(index, q, k=10)] for q in gold}
    return score_rankings(rankings, gold, test) | {"queries": [len(gold), len(test)]}


# --- Settings sweep: plain scikit-learn TF-IDF, brute-force cosine ------------------------

_WORD = re.compile(r"(?u)\b\w\w+\b")


def _word_analyzer(*features, skip=frozenset()):
    """Analyzer emitting, for each word not in `skip`, the features each function derives."""

    def analyzer(text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in skip]
        return [f for w in words for feature in features for f in feature(w)]

    return analyzer


def _prefix(k: int, tag: str = ""):
    return lambda word: (tag + word[:k],)


def _whole(word: str) -> tuple[str, ...]:
    return (word,)


def _inner_trigrams(word: str) -> tuple[str, ...]:
    return tuple("i" + word[i : i + 3] for i in range(1, len(word) - 2))


def _padded_grams(low: int, high: int):
    """char_wb-style n-grams of a word token (so punctuation never enters an n-gram)."""

    def grams(word: str) -> list[str]:
        padded = f" {word} "
        return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]

    return grams


def _settings() -> dict[str, dict]:
    """Every setting tried: TfidfVectorizer kwargs, or blends of other settings' cosines."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    sub = {"sublinear_tf": True}
    settings = {name: {"vectorizer": kw} for name, kw in {
        "default TfidfVectorizer()": {},
        "sublinear_tf": sub,
        "stop_words=english": {"stop_words": "english"},
        "stop_words=english, sublinear_tf": {"stop_words": "english"} | sub,
        "token_pattern \\b\\w+\\b (1-char tokens)": {"token_pattern": r"(?u)\b\w+\b"},
        "strip_accents=unicode": {"strip_accents": "unicode"},
        "min_df=2": {"min_df": 2},
        "binary=True": {"binary": True},
        "smooth_idf=False": {"smooth_idf": False},
        "ngram_range=(1,2)": {"ngram_range": (1, 2)},
        "ngram_range=(1,2), sublinear_tf": {"ngram_range": (1, 2)} | sub,
        "ngram_range=(1,2), stop_words=english": {"ngram_range": (1, 2), "stop_words": "english"},
        "char_wb (2,4)": {"analyzer": "char_wb", "ngram_range": (2, 4)},
        "char_wb (2,4), sublinear_tf": {"analyzer": "char_wb", "ngram_range": (2, 4)} | sub,
        "char_wb (3,4)": {"analyzer": "char_wb", "ngram_range": (3, 4)},
        "char_wb (3,5)": {"analyzer": "char_wb", "ngram_range": (3, 5)},
        "char_wb (3,5), sublinear_tf": {"analyzer": "char_wb", "ngram_range": (3, 5)} | sub,
        "char_wb (2,5)": {"analyzer": "char_wb", "ngram_range": (2, 5)},
        "char_wb (4,6)": {"analyzer": "char_wb", "ngram_range": (4, 6)},
        "char (3,5)": {"analyzer": "char", "ngram_range": (3, 5)},
    }.items()}
    analyzers = {
        "prefix4": _word_analyzer(_prefix(4)),
        "prefix5": _word_analyzer(_prefix(5)),
        "prefix6": _word_analyzer(_prefix(6)),
        "prefix7": _word_analyzer(_prefix(7)),
        **{f"prefix{k} of content words": _word_analyzer(_prefix(k), skip=ENGLISH_STOP_WORDS)
           for k in (3, 4, 5, 6)},
        "prefix4 + word": _word_analyzer(_prefix(4, "p:"), _whole),
        "prefix3 + prefix4 + prefix5": _word_analyzer(*(_prefix(k, f"{k}:") for k in (3, 4, 5))),
        "prefix3 + prefix4 + prefix5 + word":
            _word_analyzer(*(_prefix(k, f"{k}:") for k in (3, 4, 5)), _whole),
        "prefix4 + prefix6": _word_analyzer(_prefix(4, "4:"), _prefix(6, "6:")),
        "prefix4 + word + inner 3-grams": _word_analyzer(_prefix(4, "p:"), _whole, _inner_trigrams),
        **{f"token n-grams {low, high}": _word_analyzer(_padded_grams(low, high))
           for low, high in ((2, 4), (3, 4), (2, 3), (3, 5), (1, 4))},
    }
    for name, analyzer in analyzers.items():
        settings[f"{name}, sublinear_tf"] = {"vectorizer": {"analyzer": analyzer} | sub}
    settings["prefix4, binary=True"] = {"vectorizer": {"analyzer": analyzers["prefix4"], "binary": True}}
    for grams in ((2, 4), (2, 3), (3, 4)):
        settings[f"token n-grams {grams}, raw tf"] = {
            "vectorizer": {"analyzer": analyzers[f"token n-grams {grams}"]}}
    for weight, other in ((w, o) for w in (0.3, 0.5, 0.7) for o in ("char_wb (2,4)", "word")):
        first = "prefix4, sublinear_tf"
        second = "default TfidfVectorizer()" if other == "word" else other
        settings[f"blend {weight} prefix4 + {1 - weight:.1f} {other}"] = {
            "blend": {first: weight, second: 1 - weight}}
    for weight in (0.3, 0.5, 0.7):
        settings[f"blend {weight} word + {1 - weight:.1f} char_wb (2,4)"] = {
            "blend": {"default TfidfVectorizer()": weight, "char_wb (2,4)": 1 - weight}}
    for weight in (0.2, 0.3, 0.4, 0.5):
        for grams in ("(2, 4)", "(3, 4)", "(2, 3)", "(3, 5)"):
            settings[f"blend {weight} prefix4 + {1 - weight:.1f} token n-grams {grams}"] = {
                "blend": {"prefix4, sublinear_tf": weight,
                          f"token n-grams {grams}, sublinear_tf": 1 - weight}}
    # Two stages: the n best by prefix cosine of content words, re-ranked by a blend.
    for k, grams, weight in itertools.product((3, 4, 5, 6), ("(2, 4)", "(2, 3)", "(3, 4)", "(3, 5)"),
                                              (0.2, 0.3, 0.4, 0.5)):
        content = f"prefix{k} of content words, sublinear_tf"
        settings[f"top 200 by prefix{k} of content words -> {weight} it + {1 - weight:.1f} "
                 f"token n-grams {grams}"] = {
            "blend": {content: weight, f"token n-grams {grams}, sublinear_tf": 1 - weight},
            "rerank": (content, 200)}
    content = "prefix4 of content words, sublinear_tf"
    for n in (25, 100):
        settings[f"top {n} by prefix4 of content words -> 0.3 it + 0.7 token n-grams (2, 4)"] = {
            "blend": {content: 0.3, "token n-grams (2, 4), sublinear_tf": 0.7}, "rerank": (content, n)}
    settings["top 200 by prefix4 of content words -> 0.3 prefix4 + 0.7 token n-grams (2, 4)"] = {
        "blend": {"prefix4, sublinear_tf": 0.3, "token n-grams (2, 4), sublinear_tf": 0.7},
        "rerank": (content, 200)}
    settings["top 200 by prefix4 of content words -> 0.3 it + 0.7 token n-grams (2, 4) raw tf"] = {
        "blend": {content: 0.3, "token n-grams (2, 4), raw tf": 0.7}, "rerank": (content, 200)}
    return settings


def sweep(data: Path) -> None:
    """Print recall/MRR of every setting, brute force over the corpus (about two minutes)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus, gold, test, _ = load(data)
    pids = np.array(sorted(corpus))
    queries = np.array(sorted(gold))
    rows = np.searchsorted(pids, queries)
    settings = _settings()
    # Each similarity matrix is queries x corpus (~230 MB): keep only those that blends reuse.
    reused = {part for s in settings.values() for part in s.get("blend", ())}
    cache: dict[str, np.ndarray] = {}

    def similarity(name: str) -> np.ndarray:
        if name in cache:
            return cache[name]
        setting = settings[name]
        if "vectorizer" in setting:
            matrix = TfidfVectorizer(**setting["vectorizer"]).fit_transform(
                corpus[p] for p in pids).astype(np.float32)
            scores = (matrix[rows] @ matrix.T).toarray()
        else:
            scores = sum(w * similarity(part) for part, w in setting["blend"].items())
            if "rerank" in setting:
                first, n = setting["rerank"]
                scores = _restrict_to_top(scores, similarity(first), rows, n)
        if name in reused:
            cache[name] = scores
        return scores

    print(f"  {'setting':88s} {'test r@1 r@5 r@10 MRR':>23} | {'all r@1 r@5 r@10 MRR':>23}")
    for name in settings:
        scores = similarity(name).copy()
        scores[np.arange(len(rows)), rows] = -np.inf
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        rankings = {}
        for r, query in enumerate(queries):
            best = top[r][np.lexsort((top[r], -scores[r, top[r]]))]
            rankings[int(query)] = [int(pids[i]) for i in best]
        figures = score_rankings(rankings, gold, test)
        test_figures = " ".join(f"{x:.3f}" for x in figures["test"])
        all_figures = " ".join(f"{x:.3f}" for x in figures["all"])
        print(f"  {name:88s} {test_figures:>23} | {all_figures:>23}", flush=True)


def _restrict_to_top(final: np.ndarray, first: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Keep `final` scores only for the n best positive candidates of the first stage."""
    first = first.copy()
    first[np.arange(len(rows)), rows] = -np.inf
    top = np.argpartition(-first, n, axis=1)[:, :n]
    keep = np.take_along_axis(first, top, axis=1) > 0
    out = np.full_like(final, -1.0)
    np.put_along_axis(out, top, np.where(keep, np.take_along_axis(final, top, axis=1), -1.0), axis=1)
    return out


# --- Speed: one subprocess per corpus size ------------------------------------------------


def synthetic_passages(n: int, sentences: list[str], seed: int = 0) -> list[tuple[int, str, str]]:
    """n paragraph-like passages recombined from Perspectrum sentences.

    Each passage joins 1 + Poisson(3) randomly drawn perspectives (mean ~45 words, like a news
    paragraph rather than a one-line perspective) and, to keep the vocabulary growing with the
    corpus as names and numbers do in real text, Poisson(1) pseudo-words drawn from a Zipf
    distribution over 2M made-up words. Every 30 consecutive passages form one document.
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sentences), size=(n, 10))
    lengths = np.minimum(1 + rng.poisson(3, size=n), 10)
    names = rng.poisson(1, size=n)
    zipf = rng.zipf(1.2, size=int(names.sum()))
    pseudo = iter(_pseudo_word(int(z) % 2_000_000) for z in zipf)
    passages = []
    for i in range(n):
        parts = [sentences[j] for j in picks[i, : lengths[i]]]
        parts += [next(pseudo) for _ in range(names[i])]
        passages.append((i, f"doc-{i // DOCUMENT_SIZE}", " ".join(parts)))
    return passages


def _pseudo_word(rank: int) -> str:
    """A pronounceable made-up name, distinct for every rank."""
    letters = "bcdfghklmnprstvz"
    word = ""
    while True:
        word += letters[rank % 16] + "aeiou"[rank % 5]
        rank //= 16
        if not rank:
            return word.capitalize()


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM peak).

    VmHWM, unlike getrusage's ru_maxrss, restarts at exec, so it is this size's own peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _arrays_mib(value) -> float:
    """MiB held in numpy arrays and sparse matrices reachable from the index's attributes."""
    if sp.issparse(value):
        return sum(a.nbytes for a in (value.data, value.indices, value.indptr)) / 2**20
    if isinstance(value, np.ndarray):
        return value.nbytes / 2**20
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return sum(_arrays_mib(v) for v in vars(value).values())
    return 0.0


def worker(size: int, data: Path) -> dict:
    """Build, query and update one corpus; runs in its own process."""
    _, _, _, occurrences = load(data)
    if size == len(occurrences):
        passages = occurrences
    else:
        passages = synthetic_passages(size, [text for _, _, text in occurrences])
    words = np.mean([len(t.split()) for _, _, t in passages[:20000]])
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    before = _status_mib("VmRSS")
    start = time.perf_counter()
    index = build_index(passages)
    build = time.perf_counter() - start
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    result = {"size": size, "words": float(words), "build_s": build,
              "index_rss_mib": _status_mib("VmRSS") - before, "arrays_mib": _arrays_mib(index),
              "vocabulary": len(index._words)}
    rng = np.random.default_rng(1)
    queries = rng.choice(len(passages), size=QUERIES, replace=False)
    for pid in queries[:10]:  # warm caches and lazy imports
        related(index, passages[pid][0], k=10)
    wall, cpu = [], []
    for pid in queries:
        start, start_cpu = time.perf_counter(), time.thread_time()
        related(index, passages[pid][0], k=10)
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    for name, times in (("wall", wall), ("cpu", cpu)):
        result[f"{name}_median_ms"] = float(np.median(times) * 1000)
        result[f"{name}_p95_ms"] = float(np.percentile(times, 95) * 1000)
    result["load_average"] = Path("/proc/loadavg").read_text().split()[0]
    result["add_document_s"] = _add_document(index, passages)
    result["peak_rss_mib"] = _status_mib("VmHWM")
    return result


def _add_document(index, passages) -> float:
    """Worst of 5 runs: add a new 30-passage document, then query one of its passages."""
    sentences = [text for _, _, text in passages[:5000]]
    times = []
    for attempt in range(5):
        fresh = synthetic_passages(DOCUMENT_SIZE, sentences, seed=100 + attempt)
        fresh = [(10**9 + attempt * 100 + i, f"new-{attempt}", text) for i, _, text in fresh]
        start = time.perf_counter()
        index.add(fresh)
        found = related(index, fresh[0][0], k=10)
        times.append(time.perf_counter() - start)
        assert found, "a freshly added passage found nothing"
    return max(times)


def run_sizes(sizes: list[int], data: Path) -> list[dict]:
    """Run `worker` for each size in a fresh interpreter and collect its JSON."""
    results = []
    for size in sizes:
        command = [sys.executable, __file__, "--worker", str(size), "--data", str(data)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        print_speed(results[-1:], header=not results[:-1])
    return results


def print_speed(results: list[dict], header: bool = True) -> None:
    """One table row per corpus size."""
    if header:
        print(f"{'passages':>9} {'words':>5} {'vocab':>7} {'build s':>7} "
              f"{'wall med/p95 ms':>15} {'cpu med/p95 ms':>14} {'arrays MiB':>10} "
              f"{'index RSS MiB':>13} {'peak RSS MiB':>12} {'add doc s':>9} {'load':>5}")
    for r in results:
        wall = f"{r['wall_median_ms']:.1f} / {r['wall_p95_ms']:.1f}"
        cpu = f"{r['cpu_median_ms']:.1f} / {r['cpu_p95_ms']:.1f}"
        print(f"{r['size']:>9,} {r['words']:>5.1f} {r['vocabulary']:>7,} {r['build_s']:>7.1f} "
              f"{wall:>15} {cpu:>14} {r['arrays_mib']:>10.0f} {r['index_rss_mib']:>13.0f} "
              f"{r['peak_rss_mib']:>12.0f} {r['add_document_s']:>9.3f} {r['load_average']:>5}",
              flush=True)
    if header is False or len(results) > 1:
        return
    print("  (wall = time.perf_counter, cpu = time.thread_time of the querying thread; the two "
          "differ when other processes compete for the 2 cores; load = 1-min load average)")


def main() -> None:
    """Parse arguments and print quality, optionally the sweep, then speed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1M-passage corpus")
    parser.add_argument("--settings", action="store_true", help="re-run the TF-IDF settings sweep")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data)))
        return
    print("Quality of related(index, pid, k=10) on Perspectrum (Chen et al., NAACL 2019)")
    print(f"  {RECALL_DEFINITION}; every perspective is its own document.")
    figures = quality(args.data)
    print(f"  queries: {figures['queries'][0]} all, {figures['queries'][1]} test split")
    for group in ("test", "all"):
        print(f"  {group:5s} r@1 {figures[group][0]:.3f}  r@5 {figures[group][1]:.3f}  "
              f"r@10 {figures[group][2]:.3f}  MRR {figures[group][3]:.3f}")
    if args.settings:
        print("\nSettings sweep (test split: r@1 r@5 r@10 MRR)")
        sweep(args.data)
    print("\nSpeed: build, related(k=10) latency over 300 random passages, memory, add 1 document")
    print("  words = mean words per passage; add doc = worst of 5: add 30 passages, query one")
    run_sizes([11_822, 100_000] + ([] if args.quick else [1_000_000]), args.data)


if __name__ == "__main__":
    main()
