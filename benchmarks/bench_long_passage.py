"""Search over one very long passage: how long the search takes, and whether others are still served.

Run: .venv/bin/python benchmarks/bench_long_passage.py [--sizes 100,200,1900] [--timeout 30]
Corpus: the seeds plus one passage of a single word repeated to each size (in KB), written
straight into the database (the FTS triggers index it), as a passage stored before any import
size limit would be. Everything runs on 127.0.0.1 against `counterpoint serve` (waitress, 2
workers of 4 threads). A request that has no answer within --timeout is given up and shown as
"> N s"; the server keeps working on it, which the home-page figure then shows.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure

REPO = Path(__file__).resolve().parent.parent
WORD = "zanzibar"  # in no seed passage, so the long passage is the only hit
CONCURRENT = 40


def prepare(folder: Path, kb: int) -> None:
    """Load the seeds into a corpus folder and add one passage of `WORD` repeated to `kb` KB."""
    shutil.copytree(REPO / "seeds", folder / "seeds")
    shutil.copytree(REPO / "labels", folder / "labels", ignore=shutil.ignore_patterns(".locks"))
    subprocess.run([str(measure.BIN / "counterpoint"), "--corpus", str(folder), "load"], check=True, capture_output=True)
    text = " ".join([WORD] * (kb * 1024 // (len(WORD) + 1)))
    conn = sqlite3.connect(folder / "instance" / "counterpoint.db")
    with conn:
        conn.execute("INSERT INTO documents (id, title) VALUES ('long.txt', 'One long passage')")
        conn.execute(
            "INSERT INTO passages (document, position, kind, text, text_hash) VALUES ('long.txt', 1, 'content', ?, ?)",
            [text, hashlib.sha256(text.encode()).hexdigest()],
        )
    conn.close()


def timed_get(base: str, path: str, timeout: float, headers: dict | None = None) -> tuple[str, float]:
    """GET a path on a fresh connection; returns the status (or 'no answer') and seconds waited."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        status = str(response.status)
    except (TimeoutError, ConnectionError):
        status = "no answer"
    finally:
        conn.close()
    return status, time.perf_counter() - started


def shown(status: str, seconds: float, timeout: float) -> str:
    """A timing as printed: seconds and status, or '> N s' for a request given up."""
    return f"> {timeout:g} s (no answer)" if status == "no answer" else f"{seconds:.2f} s ({status})"


def under_load(base: str, timeout: float) -> tuple[str, str]:
    """The home page's answer while CONCURRENT searches for the long passage are in flight."""
    threads = [threading.Thread(target=timed_get, args=(base, f"/search?q={WORD}", timeout)) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # let the searches reach the workers first
    home = timed_get(base, "/", timeout)
    for thread in threads:
        thread.join()
    return home


def bench(kb: int, timeout: float) -> dict[str, str]:
    """All figures for one passage size."""
    folder = Path(tempfile.mkdtemp(prefix=f"cp-bench-long-{kb}-"))
    try:
        prepare(folder, kb)
        with measure.served(folder, workers=2) as (base, _proc, _started):
            timed_get(base, "/search?q=taliban", timeout)  # open both workers' connections
            return {
                "size": f"{kb} KB",
                "search_page": shown(*timed_get(base, f"/search?q={WORD}", timeout), timeout),
                "search_fragment": shown(*timed_get(base, f"/search?q={WORD}", timeout, {"HX-Request": "true"}), timeout),
                "api_passages": shown(*timed_get(base, f"/api/passages?q={WORD}", timeout), timeout),
                f"home_during_{CONCURRENT}_searches": shown(*under_load(base, timeout), timeout),
            }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Run the long-passage search benchmark and print one line of figures per size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,200,1900", help="passage sizes in KB, comma-separated")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for an answer")
    args = parser.parse_args()
    print(f"# Search over one long passage, {time.strftime('%Y-%m-%d')}; no answer after {args.timeout:g} s is given up")
    for kb in (int(s) for s in args.sizes.split(",")):
        print(" | ".join(f"{k}: {v}" for k, v in bench(kb, args.timeout).items()), flush=True)


if __name__ == "__main__":
    main()
