"""How long do other visitors wait while slow clients hang on to `counterpoint serve`?

Run: .venv/bin/python benchmarks/bench_slow_clients.py [--connections 50] [--seconds 10]
The seed corpus is served on 127.0.0.1 (2 workers, --shared). Visitors GET the overview and a
topic page one after another, each on a new connection with a 10 s timeout: first with nothing
else going on, then while a slowloris attack holds `--connections` connections (half send their
headers a byte at a time, a quarter sit idle, the rest send a declared body a byte at a time).
Prints the median and maximum time per request and how many timed out.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from helpers_server import SlowClients, counterpoint, serving, timed_get

PATHS = ("/", "/topics/deportation")
TIMEOUT = 10


def visit(port: int, seconds: float) -> list[tuple[int | None, float]]:
    """Request PATHS in turn for `seconds`; returns (status, seconds) per request, None on a timeout."""
    results = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in PATHS:
            status, taken, _ = timed_get(port, path, timeout=TIMEOUT)
            results.append((status, taken))
    return results


def report(label: str, results: list[tuple[int | None, float]]) -> None:
    """Print the median and maximum wait and the failures of one phase."""
    times = [taken for _, taken in results]
    failed = sum(1 for status, _ in results if status != 200)
    print(f"  {label:<28} {len(results):>4} requests, median {statistics.median(times) * 1000:7.1f} ms,"
          f" max {max(times) * 1000:7.1f} ms, {failed} failed or timed out at {TIMEOUT} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50, help="slow connections in the attack")
    parser.add_argument("--seconds", type=float, default=10, help="how long each phase runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        shutil.copytree(REPO / "seeds", corpus / "seeds")
        shutil.copytree(REPO / "labels", corpus / "labels", ignore=shutil.ignore_patterns(".locks"))
        counterpoint(corpus, "load", check=True)
        with serving(corpus, workers=2) as server:
            for _ in range(4):  # warm both workers' caches
                for path in PATHS:
                    timed_get(server.port, path, timeout=60)
            print(f"Other visitors' requests to {', '.join(PATHS)} (2 workers, 4 threads each)")
            report("no attack", visit(server.port, args.seconds))
            with SlowClients(server.port, count=args.connections) as attack:
                under_attack = visit(server.port, args.seconds)
                held = attack.open_streams()
            report(f"{args.connections} slow connections", under_attack)
            print(f"  trickling connections still open at the end: {held} of {args.connections - args.connections // 4}")


if __name__ == "__main__":
    main()
