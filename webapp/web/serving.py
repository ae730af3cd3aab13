"""Serve the app with waitress in several worker processes, each listening on the same port.

waitress reads each request whole, headers and body, in an event loop before a thread sees it,
so a client that sends slowly, or connects and sends nothing, holds a socket and never a thread.
gunicorn's gthread worker, which this replaced, hands a thread the connection as soon as it is
readable and the thread then waits, without a timeout, for the rest: 50 slowloris connections
stalled everyone else. Processes, not threads, give the CPU-bound pages more than one core; they
fork after the app is created, so they share its imported libraries.

Each worker has a listening socket of its own on the port (SO_REUSEPORT), so the kernel spreads
new connections between them. With one shared socket, the worker that woke first took every
connection of a burst: under wrk's 16 keep-alive connections one worker did all the work and
throughput halved.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sys
import time
import traceback

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server

log = logging.getLogger(__name__)

# A connection idle, or stalled in the middle of a request, this long is closed (checked every
# CLEANUP_SECONDS). Long enough for a person on a slow link, short enough to shed abandoned ones.
IDLE_SECONDS = 30
CLEANUP_SECONDS = 5
# Open connections per worker. A slow client costs a socket and a little memory, not a thread.
CONNECTIONS = 1000
# Headers are a few kilobytes; waitress's default of 256 KiB only lets a slow client hold more.
MAX_HEADER_BYTES = 64 * 1024
# The server refuses bodies over the app's MAX_CONTENT_LENGTH plus this, unread. Bodies between
# the two reach Flask, whose 413 page names the limit and says what to do instead.
BODY_SLACK_BYTES = 1024 * 1024
# On SIGTERM or SIGINT a worker finishes the requests it has for this long, then exits.
GRACE_SECONDS = 10
# A worker that dies this soon after it started is replaced only after this long again, so that
# a worker that cannot start does not make the main process fork in a tight loop.
RESTART_PAUSE_SECONDS = 1
_STOP = {signal.SIGTERM, signal.SIGINT}
_WATCHED = _STOP | {signal.SIGCHLD}


class CannotListen(Exception):
    """The address is taken, not this machine's, or needs privileges the process lacks."""


def serve(app, host: str, port: int, workers: int, threads: int = 4, on_ready=None) -> None:
    """Serve `app` on host:port with `workers` processes of `threads` threads until SIGTERM or SIGINT.

    `on_ready()` runs in the main process once the workers are started. A worker that dies is
    replaced; stopping gives each worker GRACE_SECONDS to finish the requests it holds.
    """
    options = server_options(app, threads)
    address = (host, port)
    try:
        # First a plain bind, which fails if anything listens there, even another Counterpoint
        # whose sockets would let a SO_REUSEPORT bind in to take half its connections.
        _port_socket(address, shared=False).close()
        # Then a claim bound but not listening: it receives no connections, yet holds the port
        # between worker restarts.
        claim = _port_socket(address)
    except OSError as exc:
        raise CannotListen(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    # The main process waits for its signals with sigwaitinfo instead of handling them at any
    # point; the workers unblock them first thing after the fork.
    signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    running: dict[int, float] = {}  # worker pid -> when it started
    try:
        for _ in range(workers):
            _start_worker(app, address, options, running)
        if on_ready:
            on_ready()
        _flush_output()  # what the command printed shows now in a log file, not when it stops
        while (signo := signal.sigwaitinfo(_WATCHED).si_signo) not in _STOP:
            for pid, status, started in _reap(running):
                log.warning("worker %s %s; restarting it", pid, _describe(status))
                if time.monotonic() - started < RESTART_PAUSE_SECONDS:
                    time.sleep(RESTART_PAUSE_SECONDS)
                _start_worker(app, address, options, running)
        claim.close()
        _stop_workers(running, signo)
    finally:
        for pid in running:  # only left if serving failed on the way: no worker outlives it
            os.kill(pid, signal.SIGKILL)
        claim.close()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)


def server_options(app, threads: int) -> dict:
    """waitress settings for `app`: timeouts, connection and size limits, and the trusted proxy."""
    connections = min(CONNECTIONS, _allow_open_files(CONNECTIONS + 100) - 100)
    options = {
        "threads": threads,
        "channel_timeout": IDLE_SECONDS,
        "cleanup_interval": CLEANUP_SECONDS,
        "connection_limit": connections,
        # select() cannot watch a descriptor numbered past 1024; poll() can.
        "asyncore_use_poll": True,
        "max_request_header_size": MAX_HEADER_BYTES,
    }
    if app.config.get("MAX_CONTENT_LENGTH"):
        options["max_request_body_size"] = app.config["MAX_CONTENT_LENGTH"] + BODY_SLACK_BYTES
    if app.config.get("TRUSTED_PROXY"):
        # Behind a reverse proxy every request comes from the proxy's address; take the client's
        # address (which the sign-in limit counts by) and scheme from the headers it sets.
        options["trusted_proxy"] = app.config["TRUSTED_PROXY"]
        options["trusted_proxy_headers"] = {"x-forwarded-for", "x-forwarded-proto"}
    return options


def _allow_open_files(wanted: int) -> int:
    """Raise this process's open-file limit towards `wanted` as far as the hard limit allows; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return wanted if soft == resource.RLIM_INFINITY else soft


def _port_socket(address: tuple[str, int], shared: bool = True) -> socket.socket:
    """A TCP socket bound to `address`; when `shared`, other sockets of this user may bind it too (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _start_worker(app, address: tuple[str, int], options: dict, running: dict[int, float]) -> None:
    _flush_output()  # else the worker inherits the unwritten output and writes it a second time
    pid = os.fork()
    if pid:
        running[pid] = time.monotonic()
        return
    code = 0
    try:
        _work(app, address, options)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        # Never return into the main process's code (its click command, its finally blocks).
        _flush_output()
        os._exit(code)


def _flush_output() -> None:
    sys.stdout.flush()
    sys.stderr.flush()


def _work(app, address: tuple[str, int], options: dict) -> None:
    """A worker: serve requests from its own listening socket until told to stop, then drain."""
    stopping = []
    for signo in _STOP:
        signal.signal(signo, lambda *_: stopping.append(True))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)
    listener = _port_socket(address)
    listener.listen(2048)
    channels: dict = {}
    server = create_server(app, map=channels, sockets=[listener], **options)
    # waitress's own run() loops until the process is interrupted; this loop is the same one
    # with a way out, checked a few times a second, so that a stop can drain instead of cut.
    while not stopping:
        wasyncore.loop(timeout=0.2, map=channels, use_poll=True, count=1)
    # With its socket closed, the kernel sends new connections to the workers still listening,
    # or refuses them once none is, instead of queueing them for a server that is going away.
    server.del_channel()
    listener.close()
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and any(_busy(channel) for channel in channels.values()):
        wasyncore.loop(timeout=0.1, map=channels, use_poll=True, count=1)


def _busy(channel) -> bool:
    """Whether a connection has a request being served or a response not yet sent."""
    return isinstance(channel, HTTPChannel) and bool(channel.requests or channel.total_outbufs_len)


def _reap(running: dict[int, float]) -> list[tuple[int, int, float]]:
    """Collect the workers that have exited: (pid, wait status, when it started) for each."""
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        if pid in running:
            ended.append((pid, status, running.pop(pid)))


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _stop_workers(running: dict[int, float], signo: int) -> None:
    """Pass the stop signal on, wait for the workers to drain, then kill what is left.

    A second SIGTERM or SIGINT while waiting (an impatient Ctrl-C) kills them at once.
    """
    for pid in running:
        os.kill(pid, signo)
    deadline = time.monotonic() + GRACE_SECONDS + 2
    while running and (left := deadline - time.monotonic()) > 0:
        received = signal.sigtimedwait(_WATCHED, left)
        _reap(running)
        if received is not None and received.si_signo in _STOP:
            break
    for pid in list(running):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        del running[pid]
