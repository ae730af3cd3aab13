"""What a 304 saves: a topic page answered in full (200) against one revalidated by ETag (304).

Run: .venv/bin/python benchmarks/bench_caching.py [--seconds 10] [--connections 16] [--path /topics/deportation]
Corpus: the seeds, loaded with `counterpoint load` and served by `counterpoint serve` (waitress,
2 workers of 4 threads) on 127.0.0.1. One browser-like session is opened first, so every wrk
request carries the same session cookie; the 304 run also sends the page's ETag in If-None-Match.
The 304 is checked once before wrk runs; wrk itself reports only answers over 399 as errors.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure

REPO = Path(__file__).resolve().parent.parent


def prepare(folder: Path) -> None:
    """Load the seed corpus into a fresh corpus folder."""
    shutil.copytree(REPO / "seeds", folder / "seeds")
    shutil.copytree(REPO / "labels", folder / "labels", ignore=shutil.ignore_patterns(".locks"))
    subprocess.run([str(measure.BIN / "counterpoint"), "--corpus", str(folder), "load"], check=True, capture_output=True)


def session_and_etag(base: str, path: str) -> tuple[str, str, int]:
    """A session cookie, the page's ETag for it, and the page's size, as a browser's second visit sees them."""
    client = measure.Client(base)
    client.get(path)  # the first visit sets the session cookie, and so gets no ETag
    client.conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())})
    response = client.conn.getresponse()
    size = len(response.read())
    etag = response.headers.get("ETag")
    if response.status != 200 or not etag:
        raise RuntimeError(f"{path} answered {response.status} without an ETag; is caching.init_app registered?")
    client.conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
                                              "If-None-Match": etag})
    check = client.conn.getresponse()
    check.read()
    if check.status != 304:
        raise RuntimeError(f"{path} with If-None-Match {etag} answered {check.status}, not 304")
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items()), etag, size


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, str]:
    """wrk against one URL with fixed headers; returns req/s, latency percentiles and answer counts."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (Debian: apt install wrk)"}
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    requests = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures = {
        "req/s": re.search(r"Requests/sec:\s+([\d.]+)", out).group(1),
        "requests": requests.group(1) if requests else "?",
        "errors (4xx/5xx)": errors.group(1) if errors else "0",
    }
    for q in ("50%", "90%", "99%"):
        found = re.search(rf"{q}\s+([\d.]+\w+)", out)
        figures[f"p{q[:-1]}"] = found.group(1) if found else "?"
    return figures


def main() -> None:
    """Serve the seed corpus and print wrk's figures for full answers and for 304s."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--path", default="/topics/deportation", help="the page to measure")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cp-bench-caching-"))
    try:
        prepare(folder)
        with measure.served(folder, workers=2) as (base, _proc, _started):
            cookie, etag, size = session_and_etag(base, args.path)
            print(f"# {args.path} on the seed corpus, {time.strftime('%Y-%m-%d %H:%M')}, 2 workers,"
                  f" wrk -t2 -c{args.connections} -d{args.seconds}s; page {size} bytes, ETag {etag}")
            for label, headers in (("200 (full page)", {"Cookie": cookie}),
                                   ("304 (If-None-Match)", {"Cookie": cookie, "If-None-Match": etag})):
                figures = wrk(base + args.path, args.seconds, args.connections, headers)
                print(f"{label}: " + " | ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
