"""App benchmarks: import, cold start, memory, page and save latency, and throughput under wrk.

Run: .venv/bin/python benchmarks/bench_app.py [--quick]
Corpora: the seeds, Perspectrum (~11.8k perspectives) and synthetic 10k and 100k passages; the
1M corpus runs only when named: the scale figures alone (import time and peak memory, cold start,
warm RSS, pages and saves right after a save) with
    .venv/bin/python benchmarks/bench_app.py --corpus synthetic-1000000 --scale
Everything runs on 127.0.0.1 against `counterpoint serve` (waitress, 2 worker processes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpora
import measure

REPO = Path(__file__).resolve().parent.parent
SAMPLES = 200


# Topic pages measured right after a write: each one recomputes what the cache held.
FRESH = 20
KINDS = ["seeds", "perspectrum", "synthetic-10000", "synthetic-100000"]
# Named with --corpus only: generating and importing it takes minutes.
SCALE_KINDS = ["synthetic-1000000"]


def prepare(kind: str, folder: Path) -> tuple[float | None, float | None]:
    """Build a corpus folder and import it; returns import seconds and the import's peak RSS in MiB
    (None for the seeds)."""
    if kind == "seeds":
        shutil.copytree(REPO / "seeds", folder / "seeds")
        shutil.copytree(REPO / "labels", folder / "labels", ignore=shutil.ignore_patterns(".locks"))
        subprocess.run([str(measure.BIN / "counterpoint"), "--corpus", str(folder), "load"], check=True, capture_output=True)
        return None, None
    if kind == "perspectrum":
        source = corpora.perspectrum_corpus(folder)
    else:
        size = int(kind.removeprefix("synthetic-"))
        source = corpora.synthetic_corpus(folder, size, max(size // 300, 50))
    (folder / "seeds").mkdir(exist_ok=True)
    subprocess.run([str(measure.BIN / "counterpoint"), "--corpus", str(folder), "load"], check=True, capture_output=True)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [str(measure.BIN / "counterpoint"), "--corpus", str(folder), "documents", "import", "--jsonl", str(source)],
            stdout=subprocess.DEVNULL, stderr=errors,
        )
        # wait4 gives this child's own peak RSS (ru_maxrss, KiB on Linux), not the largest of all children.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            errors.seek(0)
            raise RuntimeError(f"import failed: {errors.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def sample_ids(folder: Path, n: int) -> tuple[list[str], list[int]]:
    """Random topic ids and content passage ids of a corpus database."""

    conn = sqlite3.connect(folder / "instance" / "counterpoint.db")
    topics = [t for (t,) in conn.execute("SELECT id FROM topics")]
    passages = [p for (p,) in conn.execute("SELECT id FROM passages WHERE kind = 'content' ORDER BY random() LIMIT ?", [n])]
    conn.close()
    return topics, passages


def search_paths(folder: Path, topics: list[str], n: int) -> list[str]:
    """Search URLs for a longer word of a random content passage, narrowed to a topic and a stance."""
    conn = sqlite3.connect(folder / "instance" / "counterpoint.db")
    texts = [t for (t,) in conn.execute("SELECT text FROM passages WHERE kind = 'content' ORDER BY random() LIMIT ?", [n])]
    conn.close()
    rng = random.Random(2)
    paths = []
    for text in texts:
        words = [w for w in re.findall(r"[A-Za-z]{6,}", text)] or ["the"]
        paths.append(f"/search?q={rng.choice(words)}&topic={rng.choice(topics)}&stance={rng.choice(('favour', 'against'))}")
    return paths


def latencies(client: measure.Client, paths: list[str]) -> list[float]:
    """Seconds per GET, after checking each answered 200."""
    out = []
    for path in paths:
        status, _, seconds = client.get(path)
        assert status == 200, (path, status)
        out.append(seconds)
    return out


def save_label(client: measure.Client, pid: int, topic: str, stance: str, holder: str) -> float:
    """Seconds to save one label with a plain form POST answered by its redirect."""
    status, seconds = client.post(f"/label/{pid}", [(f"stance-{topic}", stance), (f"holder-{topic}", holder)])
    assert status in (200, 303), status
    return seconds


def labelling_client(base: str) -> measure.Client:
    """A client holding a session and CSRF token from the label queue."""
    client = measure.Client(base)
    client.get("/label")
    return client


def save_latencies(base: str, topics: list[str], passages: list[int]) -> list[float]:
    """Seconds per label save, on random topics and stances."""
    client = labelling_client(base)
    rng = random.Random(3)
    out = []
    for pid in passages:
        topic = rng.choice(topics)
        out.append(save_label(client, pid, topic, rng.choice(("favour", "neutral", "against")), "Bench"))
    return out


def fresh_topic_latencies(base: str, topic_paths: list[str], passages: list[int]) -> list[float]:
    """Seconds per topic page right after a label save, so no worker has it cached."""
    client = labelling_client(base)
    out = []
    for path, pid in zip(topic_paths, passages):
        save_label(client, pid, path.rsplit("/", 1)[1], "neutral", f"Fresh {pid}")
        out += latencies(client, [path])
    return out


def fresh_overview_latencies(base: str, topics: list[str], passages: list[int]) -> list[float]:
    """Seconds per overview page (/) right after a label save."""
    client = labelling_client(base)
    rng = random.Random(4)
    out = []
    for pid in passages:
        save_label(client, pid, rng.choice(topics), "against", f"Overview {pid}")
        out += latencies(client, ["/"])
    return out


def bench(kind: str, quick: bool, wrk_seconds: int, scale: bool = False) -> dict:
    """All figures for one corpus; with `scale`, only those of a scale test (import, start, memory, writes)."""
    folder = Path(tempfile.mkdtemp(prefix=f"cp-bench-{kind}-"))
    try:
        result: dict = {"corpus": kind}
        result["import_s"], result["import_peak_rss_mb"] = prepare(kind, folder)
        return result | served_figures(folder, kind, quick, wrk_seconds, scale)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def served_figures(folder: Path, kind: str, quick: bool, wrk_seconds: int, scale: bool = False) -> dict:
    """The figures of an imported corpus folder measured against `counterpoint serve`."""
    result: dict = {}
    topics, passages = sample_ids(folder, SAMPLES)
    with measure.served(folder, workers=2) as (base, proc, started):
        result["cold_start_s"] = time.perf_counter() - started
        workers = measure.children(proc.pid)
        result["rss_idle_mb"] = max(measure.rss_mb(w) for w in workers)
        client = measure.Client(base)
        rng = random.Random(1)
        topic_paths = [f"/topics/{rng.choice(topics)}" for _ in range(SAMPLES)]
        if scale:
            return result | scale_figures(base, proc, client, topics, topic_paths, passages)
        passage_paths = [f"/passages/{p}" for p in passages]
        latencies(client, topic_paths[:20] + passage_paths[:20])  # warm both workers' caches
        if not quick and kind in ("synthetic-10000", "synthetic-100000"):
            # The throughput of one unchanged page, before any save: workers refitting suggestions
            # after the saves below would measure those fits instead. Fresh connections reach both
            # workers, so each has rendered the page once before wrk starts.
            for _ in range(8):
                measure.Client(base).get(topic_paths[0])
            result["wrk_topic_page"] = measure.wrk(base + topic_paths[0], seconds=wrk_seconds)
        result["topic_page"] = measure.summary_ms(latencies(client, topic_paths))
        result["passage_page"] = measure.summary_ms(latencies(client, passage_paths))
        result["search_page"] = measure.summary_ms(latencies(client, search_paths(folder, topics, SAMPLES)))
        result["related_api"] = measure.summary_ms(latencies(client, [f"/api/passages/{p}/related?k=10" for p in passages]))
        result["label_save"] = measure.summary_ms(save_latencies(base, topics, passages[: SAMPLES // 2]))
        result["topic_page_after_save"] = measure.summary_ms(
            fresh_topic_latencies(base, topic_paths[-FRESH:], passages[-FRESH:])
        )
        result["rss_warm_mb"] = max(measure.rss_mb(w) for w in measure.children(proc.pid))
    return result


def scale_figures(base: str, proc, client: measure.Client, topics: list[str], topic_paths: list[str],
                  passages: list[int]) -> dict:
    """The figures of a scale test: saves, topic and overview pages right after a save, warm RSS."""
    latencies(client, topic_paths[:20] + ["/"] * 4)  # warm both workers
    return {
        "label_save": measure.summary_ms(save_latencies(base, topics, passages[:FRESH * 2])),
        "topic_page_after_save": measure.summary_ms(fresh_topic_latencies(base, topic_paths[-FRESH:], passages[-FRESH:])),
        "overview_after_save": measure.summary_ms(fresh_overview_latencies(base, topics, passages[FRESH * 2:FRESH * 3])),
        "rss_warm_mb": max(measure.rss_mb(w) for w in measure.children(proc.pid)),
    }


def machine() -> str:
    """CPU model, cores and memory of this machine."""
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return (f"{cpu.group(1) if cpu else platform.processor()}, {len(re.findall('^processor', Path('/proc/cpuinfo').read_text(), re.M))} cores, "
            f"{int(mem.group(1)) / 1024 / 1024:.0f} GiB, Python {platform.python_version()}")


def main() -> None:
    """Run the app benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip 100k and wrk")
    parser.add_argument("--wrk-seconds", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--corpus", action="append", choices=KINDS + SCALE_KINDS,
                        help="measure only this corpus (repeatable)")
    parser.add_argument("--scale", action="store_true",
                        help="only the scale figures: import time and peak RSS, cold start, RSS, saves, pages after a save")
    args = parser.parse_args()
    kinds = args.corpus or [k for k in KINDS if not (args.quick and k == "synthetic-100000")]
    print(f"# Counterpoint app benchmarks, {time.strftime('%Y-%m-%d')}, {machine()}")
    results = []
    for kind in kinds:
        result = bench(kind, args.quick, args.wrk_seconds, args.scale)
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
