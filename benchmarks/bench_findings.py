"""From labels to findings at size: the Arguments view, `counterpoint publish` and a PDF brief.

Run: .venv/bin/python benchmarks/bench_findings.py [--kinds seeds,synthetic-10000]

Per corpus (built and imported as bench_app.py does):
- the Arguments view of the biggest topic, first request (grouping every side) and again (cached),
  through the Flask test client, so the figure is the app's work without HTTP;
- the overview right after it (every topic's argument counts, up to OVERVIEW_ARGUMENTS_LIMIT);
- `counterpoint publish OUT/`: wall time, pages written and the site's size;
- `counterpoint brief TOPIC --format pdf`: wall time, Chromium start included.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402
from bench_app import prepare  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.store.db import connect  # noqa: E402


def timed(work) -> float:
    """Seconds that `work()` takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def biggest_topic(folder: Path) -> str:
    """The topic with most labelled passages."""
    db = connect(folder / "instance" / "counterpoint.db")
    try:
        return db.execute("SELECT topic FROM consensus GROUP BY topic ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    finally:
        db.close()


def measure_corpus(kind: str, root: Path) -> None:
    """Print one corpus's figures."""
    folder = root / kind
    folder.mkdir()
    prepare(kind, folder)
    topic = biggest_topic(folder)
    app = create_app({"CORPUS": str(folder), "SEEDS_DIR": str(folder / "seeds"), "LABELS_DIR": str(folder / "labels"),
                      "DATABASE": str(folder / "instance" / "counterpoint.db")})
    client = app.test_client()
    url = f"/topics/{topic}?view=arguments"
    first = timed(lambda: client.get(url))
    again = timed(lambda: client.get(url))
    overview = timed(lambda: client.get("/"))
    out = root / f"{kind}-site"
    command = [str(measure.BIN / "counterpoint"), "--corpus", str(folder)]
    publish = timed(lambda: subprocess.run([*command, "publish", str(out)], check=True, capture_output=True))
    pages = sum(1 for _ in out.rglob("*.html"))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1024 / 1024
    pdf = root / f"{kind}.pdf"
    brief = timed(lambda: subprocess.run([*command, "brief", topic, "--format", "pdf", "-o", str(pdf)],
                                         check=True, capture_output=True))
    print(f"| {kind} | {first:.2f} s | {again * 1000:.0f} ms | {overview:.2f} s | {publish:.1f} s ({pages} pages,"
          f" {size:.1f} MB) | {brief:.1f} s |", flush=True)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="seeds,synthetic-10000", help="comma-separated corpora (as bench_app)")
    args = parser.parse_args()
    print(f"# Findings at size, {date.today()}, {platform.machine()} Python {platform.python_version()}")
    print("| corpus | Arguments view, first | again | overview after | publish | PDF brief |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as root:
        for kind in args.kinds.split(","):
            measure_corpus(kind, Path(root))


if __name__ == "__main__":
    main()
