"""The first related panel of a fresh worker: built in the request, or in the background.

Run: .venv/bin/python benchmarks/bench_related_startup.py [--sizes 5000 100000]
For each synthetic corpus size, a fresh app (in process, through Flask's test client) is asked
for a passage's related panel twice over: once with SIMILARITY_BACKGROUND_PASSAGES above the size
(the index is built inside the first request) and once below it (the first request answers
"preparing" and a thread builds the index). While the thread builds, the panel is polled as htmx
would, to see how much the build slows the requests it shares the process with. scikit-learn is
imported beforehand, so neither run pays for that (a worker's first panel does, once).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench_app

from webapp import create_app
from webapp.similarity import engine, index

HX = {"HX-Request": "true"}


def first_panel(folder: Path, passage: int, background_above: int) -> dict:
    """Seconds for the first related panel, and (in the background) until its panel shows suggestions."""
    app = create_app({"TESTING": True, "SIMILARITY_BACKGROUND_PASSAGES": background_above}, corpus=folder)
    client = app.test_client()
    client.get("/")  # start the session and open the connection, as a visitor's earlier page would
    started = time.perf_counter()
    page = client.get(f"/passages/{passage}/related", headers=HX).get_data(as_text=True)
    figures = {"first_page_s": round(time.perf_counter() - started, 3), "preparing": "Finding related" in page}
    if figures["preparing"]:
        polls = []
        caches, key = app.extensions["counterpoint_similarity"], app.config["DATABASE"]
        done = threading.Event()
        threading.Thread(target=lambda: (index.wait_for_build(caches, key), done.set()), daemon=True).start()
        while not done.wait(0.5):  # a quicker poll than htmx's two seconds, for more samples
            asked = time.perf_counter()
            client.get(f"/passages/{passage}/related", headers=HX)
            polls.append(time.perf_counter() - asked)
        figures["ready_after_s"] = round(time.perf_counter() - started, 2)
        figures["polls"] = len(polls)
        figures["poll_max_ms"] = round(max(polls, default=0) * 1000, 1)
        figures["poll_median_ms"] = round(sorted(polls)[len(polls) // 2] * 1000, 1) if polls else 0
    return figures


def main() -> None:
    """Measure each size and print the figures as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 100_000])
    args = parser.parse_args()
    engine.build_index([(1, "doc", "scikit-learn loads here, before anything is timed")])
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            bench_app.prepare(f"synthetic-{size}", folder)
            conn = sqlite3.connect(folder / "instance" / "counterpoint.db")
            (passage,) = conn.execute("SELECT id FROM passages WHERE kind = 'content' ORDER BY id LIMIT 1 OFFSET 7").fetchone()
            conn.close()
            print(json.dumps({
                "passages": size,
                "in_request": first_panel(folder, passage, size),
                "background": first_panel(folder, passage, 0),
                "machine": bench_app.machine(),
            }), flush=True)


if __name__ == "__main__":
    main()
