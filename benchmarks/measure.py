"""Small measuring tools for the benchmarks: timing, percentiles, RSS, a served app, wrk."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))]


def summary_ms(seconds: list[float]) -> str:
    """Median and p95 of timings, in milliseconds."""
    return f"median {statistics.median(seconds) * 1000:.1f} ms, p95 {percentile(seconds, 95) * 1000:.1f} ms"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (the server's worker processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@contextmanager
def served(corpus: Path, workers: int = 2):
    """Run `counterpoint serve` on a free loopback port; yields (base URL, process, start time)."""
    port = free_port()
    started = time.perf_counter()
    # The server's log goes to a file: a pipe nobody reads fills up under wrk (waitress warns of
    # its queue depth), and a worker blocked writing its log stops answering.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [str(BIN / "counterpoint"), "--corpus", str(corpus), "serve", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, log)
        yield base, proc, started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def wait_until_up(base: str, proc: subprocess.Popen, log, limit: float = 120) -> None:
    """Poll the home page until it answers 200, failing (with the end of `log`) if the server dies or takes too long."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.02)
    raise RuntimeError("server did not answer in time")


class Client:
    """A keep-alive HTTP client, like a browser tab: it keeps cookies and the CSRF token."""

    def __init__(self, base: str):
        parts = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def _send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = {**(headers or {}), "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read().decode("utf-8", errors="replace")
        seconds = time.perf_counter() - started
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data, seconds

    def get(self, path: str) -> tuple[int, str, float]:
        """GET a path; returns status, body and seconds taken."""
        status, body, seconds = self._send("GET", path)
        found = re.search(r'name="csrf-token" content="([^"]+)"', body)
        if found:
            self.token = found.group(1)
        return status, body, seconds

    def post(self, path: str, fields: list[tuple[str, str]], headers: dict | None = None) -> tuple[int, float]:
        """POST a form with the CSRF token (redirects are not followed); returns status and seconds."""
        data = urllib.parse.urlencode([("csrf_token", self.token), *fields]).encode()
        status, _, seconds = self._send("POST", path, data, headers)
        return status, seconds


def wrk(url: str, seconds: int = 30, connections: int = 16, threads: int = 2) -> dict[str, float]:
    """Run wrk against a loopback URL; returns requests/s and error counts."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (Debian: apt install wrk)"}
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    return {
        "rps": rps,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "p99": f"{p99.group(1)} {p99.group(2)}" if p99 else "?",
    }
