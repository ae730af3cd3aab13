"""Run `counterpoint serve` on a free loopback port, and talk to it over plain HTTP.

Used by the load, fault and slow-client tests: the server is started in a process group of its
own so a test can stop it, or kill -9 it, without touching any other process.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HOST = "127.0.0.1"
SECRET_KEY = "load-test-" + "k" * 32
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def counterpoint(corpus: Path, *args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run the `counterpoint` command on a corpus in a child process; returns when it ends."""
    return subprocess.run(
        command(corpus, *args), env=server_env(), capture_output=True, text=True, timeout=timeout, **kwargs
    )


def command(corpus: Path, *args: str) -> list[str]:
    """The argv that runs `counterpoint --corpus CORPUS ARGS` with this interpreter."""
    return [sys.executable, "-c", "from webapp.cli import main; main()", "--corpus", str(corpus), *args]


def server_env() -> dict[str, str]:
    """The environment for child processes: shared-mode secret, no outside COUNTERPOINT_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERPOINT_")}
    env["COUNTERPOINT_SECRET_KEY"] = SECRET_KEY
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A `counterpoint serve` child process in its own process group."""

    def __init__(self, corpus: Path, workers: int = 2, shared: bool = True):
        self.port = free_port()
        args = ["serve", "--host", HOST, "--port", str(self.port), "--workers", str(workers)]
        self.log = corpus / f"server-{self.port}.log"
        self._log_handle = open(self.log, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            command(corpus, *args, *(["--shared"] if shared else [])),
            env=server_env(), stdout=self._log_handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.wait_until_up()

    def wait_until_up(self, seconds: float = 30) -> None:
        """Poll until the server answers, or fail with its log."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {seconds} s: {self.output()}")

    def output(self) -> str:
        """What the server printed so far."""
        self._log_handle.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server's main process and workers (SIGTERM, then SIGKILL after a grace period)."""
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log_handle.close()

    def kill(self) -> None:
        """kill -9 the whole server, master and workers at once, as a crash would."""
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log_handle.close()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


@contextmanager
def serving(corpus: Path, workers: int = 2, shared: bool = True):
    """A running server for the block; always stopped afterwards."""
    server = Server(corpus, workers, shared)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


class Response:
    """Status, headers and body of one HTTP exchange."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: str):
        self.status, self.headers, self.body = status, headers, body

    def csrf_token(self) -> str:
        """The CSRF token the page carries in its <meta name="csrf-token">."""
        found = _CSRF.search(self.body)
        assert found, f"no csrf-token meta in a {self.status} page"
        return found.group(1)


class Browser:
    """One person's HTTP session: a keep-alive connection and the cookies the server set."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        self.csrf = ""

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Response:
        """Send one request (retrying once on a dropped keep-alive connection) and keep its cookies."""
        body = urlencode(form or {}, doseq=True) if form is not None else None
        sent = {**(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=sent)
                reply = self.connection.getresponse()
                text = reply.read().decode("utf-8", errors="replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
        for header in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Response(reply.status, reply.headers, text)

    def get(self, path: str, headers: dict | None = None) -> Response:
        """GET a page, remembering its CSRF token when it has one."""
        response = self.request("GET", path, headers=headers)
        found = _CSRF.search(response.body)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, form: dict, headers: dict | None = None) -> Response:
        """POST a form carrying the session's CSRF token."""
        return self.request("POST", path, {"csrf_token": self.csrf, **form}, headers)

    def login(self, name: str, password: str = PASSWORD) -> None:
        """Sign in through the login form, then fetch a page for the new session's token."""
        self.get("/login")
        signed_in = self.post("/login", {"name": name, "password": password})
        assert signed_in.status == 303, (signed_in.status, signed_in.body[:500])
        self.get("/label")

    def close(self) -> None:
        """Close the connection."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def timed_get(port: int, path: str, timeout: float) -> tuple[int | None, float, str]:
    """GET a path on a new connection, as a newly arrived visitor would; returns status, seconds, error."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        reply = connection.getresponse()
        reply.read()
        return reply.status, time.perf_counter() - started, ""
    except (OSError, http.client.HTTPException) as exc:
        return None, time.perf_counter() - started, repr(exc)
    finally:
        connection.close()


class SlowClients:
    """A slowloris attack for the block: connections that hold a server's attention without finishing.

    Half send a request's headers a byte at a time, a quarter connect and send nothing, and the
    rest declare a body and send it a byte at a time. One thread feeds them all every `interval`
    seconds; a connection the server closes is simply dropped.
    """

    SLOW_HEADERS = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 10_000
    SLOW_BODY_HEADERS = (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")

    def __init__(self, port: int, count: int = 50, interval: float = 0.2):
        self.port, self.count, self.interval = port, count, interval
        self.streams: list[tuple[socket.socket, bytes]] = []  # (connection, bytes still to trickle)
        self.idle: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowClients:
        headers, idle = self.count // 2, self.count // 4
        for n in range(self.count):
            connection = socket.create_connection((HOST, self.port), timeout=5)
            if n < headers:
                self.streams.append((connection, self.SLOW_HEADERS))
            elif n < headers + idle:
                self.idle.append(connection)
            else:
                connection.sendall(self.SLOW_BODY_HEADERS)
                self.streams.append((connection, b"a" * 100_000))
        self._thread.start()
        time.sleep(2 * self.interval)  # every stream has sent its first byte: the server is reading them
        return self

    def _trickle(self) -> None:
        while not self._stop.wait(self.interval):
            alive = []
            for connection, rest in self.streams:
                try:
                    connection.send(rest[:1])
                    alive.append((connection, rest[1:]))
                except OSError:
                    connection.close()
            self.streams = alive

    def open_streams(self) -> int:
        """How many trickling connections the server has not closed yet."""
        return len(self.streams)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in [c for c, _ in self.streams] + self.idle:
            connection.close()
