"""A team at work: 8 annotators saving over HTTP at once while others read, against `counterpoint serve`.

Short by default (8 s, for `make test`); COUNTERPOINT_LOAD_SECONDS=60 runs the long version.
Everything stays on 127.0.0.1 and every loop is bounded in count as well as in time.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers_server import PASSWORD, Browser, serving

from webapp.cli import main
from webapp.labels import mirror
from webapp.store.db import connect

pytestmark = pytest.mark.load

ANNOTATORS = 8
READERS = 3
MAX_REQUESTS = 20_000  # per thread, whatever the duration
TOPICS = ("recognition", "deportation", "womens_rights", "security")
STANCES = ("favour", "neutral", "against")
DOCUMENTS = ("000_26419f1f75a7eb13.txt", "004_1cda40431279602b.txt")


def load_seconds() -> float:
    """How long the annotators keep saving: COUNTERPOINT_LOAD_SECONDS, 8 by default."""
    return float(os.environ.get("COUNTERPOINT_LOAD_SECONDS") or 8)


@dataclass
class Tally:
    """What one thread sent and got back."""

    statuses: Counter = field(default_factory=Counter)
    saves: list[tuple[int, str, dict]] = field(default_factory=list)  # (passage, holder tag, choices)
    failures: list[str] = field(default_factory=list)


def add_annotators(corpus: Path, names: list[str]) -> None:
    """Create the accounts with the `counterpoint annotators add` command."""
    runner = CliRunner()
    for name in names:
        result = runner.invoke(main, ["--corpus", str(corpus), "annotators", "add", name, "--password", PASSWORD])
        assert result.exit_code == 0, result.output


def overlapping_passages(db) -> list[int]:
    """Three content passages in each of two documents: every annotator works on all six."""
    return [
        row[0]
        for document in DOCUMENTS
        for row in db.execute(
            "SELECT id FROM passages WHERE document = ? AND kind = 'content' ORDER BY position LIMIT 3", [document]
        )
    ]


def annotate(port: int, name: str, passages: list[int], deadline: float, seed: int) -> Tally:
    """Save labels as `name` until the deadline; each save's holder is unique so it always changes."""
    rng, tally, browser = random.Random(seed), Tally(), Browser(port)
    try:
        browser.login(name)
        for n in range(MAX_REQUESTS):
            if time.monotonic() >= deadline:
                break
            passage = rng.choice(passages)
            topics = rng.sample(TOPICS, rng.randint(1, 2))
            tag = f"{name} #{n}"
            choices = {t: (rng.choice(STANCES), tag if i == 0 else None) for i, t in enumerate(sorted(topics))}
            form = {f"stance-{t}": s for t, (s, _) in choices.items()}
            form.update({f"holder-{t}": h for t, (_, h) in choices.items() if h})
            htmx = n % 2 == 1
            reply = browser.post(f"/label/{passage}", form, {"HX-Request": "true"} if htmx else None)
            tally.statuses[reply.status] += 1
            if reply.status == (200 if htmx else 303):
                tally.saves.append((passage, tag, choices))
            else:
                tally.failures.append(f"{name} POST /label/{passage}: {reply.status} {reply.body[:300]}")
    except Exception as exc:  # reported by the test, not lost in a thread
        tally.failures.append(f"{name}: {exc!r}")
    finally:
        browser.close()
    return tally


def read_pages(port: int, paths: list[str], deadline: float, seed: int) -> Tally:
    """Read comparison pages (whole and as htmx fragments) until the deadline."""
    rng, tally, browser = random.Random(seed), Tally(), Browser(port)
    try:
        for n in range(MAX_REQUESTS):
            if time.monotonic() >= deadline:
                break
            path = rng.choice(paths)
            reply = browser.get(path, {"HX-Request": "true"} if n % 3 == 0 else None)
            tally.statuses[reply.status] += 1
            if reply.status != 200:
                tally.failures.append(f"GET {path}: {reply.status} {reply.body[:300]}")
    except Exception as exc:
        tally.failures.append(f"reader: {exc!r}")
    finally:
        browser.close()
    return tally


def run_threads(targets: list) -> list[Tally]:
    """Run (function, args) pairs in threads and collect each one's tally."""
    results: list[Tally | None] = [None] * len(targets)

    def run(i, function, args):
        results[i] = function(*args)

    threads = [threading.Thread(target=run, args=(i, f, a)) for i, (f, a) in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=load_seconds() + 120)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    return results


def test_eight_annotators_save_while_others_read(app, corpus):
    names = [f"annotator{i}" for i in range(ANNOTATORS)]
    add_annotators(corpus, names)
    db = connect(app.config["DATABASE"])
    passages = overlapping_passages(db)
    reads = ["/", *(f"/topics/{t}" for t in TOPICS), "/topics/security?view=holder", f"/passages/{passages[0]}"]
    with serving(corpus, workers=2) as server:
        started = time.monotonic()
        deadline = started + load_seconds()
        tallies = run_threads(
            [(annotate, (server.port, name, passages, deadline, i)) for i, name in enumerate(names)]
            + [(read_pages, (server.port, reads, deadline, 100 + i)) for i in range(READERS)]
        )
        elapsed = time.monotonic() - started
        log = server.output()
    writers, readers = tallies[:ANNOTATORS], tallies[ANNOTATORS:]
    statuses = sum((t.statuses for t in tallies), Counter())
    saves = sum(len(t.saves) for t in writers)
    reads_done = sum(sum(t.statuses.values()) for t in readers)
    print(f"\nload: {elapsed:.1f} s, {saves} saves ({saves / elapsed:.1f}/s), {reads_done} reads"
          f" ({reads_done / elapsed:.1f}/s), statuses {dict(statuses)}")
    assert not [f for t in tallies for f in t.failures], [f for t in tallies for f in t.failures][:10]
    assert not any(code >= 500 for code in statuses)
    assert "Traceback" not in log, log[-3000:]
    assert saves >= ANNOTATORS and reads_done >= READERS

    assert_every_save_recorded(db, writers)
    assert_last_write_wins(db, writers)
    assert_files_equal_fresh_export(db, corpus)
    db.close()


def assert_every_save_recorded(db, writers: list[Tally]) -> None:
    """Each acknowledged save appears in the history exactly once."""
    recorded = Counter(
        row["holder"]
        for (after,) in db.execute("SELECT after FROM label_changes")
        for row in json.loads(after)
        if row["holder"]
    )
    sent = {tag for t in writers for _, tag, _ in t.saves}
    assert {tag for tag in recorded if tag in sent} == sent
    assert all(recorded[tag] == 1 for tag in sent)


def assert_last_write_wins(db, writers: list[Tally]) -> None:
    """Each annotator's labels on each passage are those of their last save there, topic by topic."""
    for tally in writers:
        last: dict[int, dict] = {}
        for passage, _, choices in tally.saves:
            last[passage] = choices
        annotator = tally.saves[0][1].split(" #")[0]
        for passage, choices in last.items():
            stored = {
                row[0]: (row[1], row[2])
                for row in db.execute(
                    """SELECT l.topic, l.stance, l.holder FROM labels l JOIN passages p
                    ON p.document = l.document AND p.position = l.position WHERE p.id = ? AND l.annotator = ?""",
                    [passage, annotator],
                )
            }
            assert stored == choices, (annotator, passage)


def assert_files_equal_fresh_export(db, corpus: Path) -> None:
    """labels/passages/ holds exactly what exporting the database now would write."""
    folder = corpus / "labels" / mirror.PASSAGES_FOLDER
    documents = [row[0] for row in db.execute("SELECT DISTINCT document FROM labels ORDER BY document")]
    expected = {f"{d}{mirror.FILE_SUFFIX}": mirror.format_records(mirror.records(db, d)) for d in documents}
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
    assert on_disk.keys() == expected.keys()
    for name, content in expected.items():
        assert on_disk[name] == content, name
