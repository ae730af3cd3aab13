"""Crashes and full disks: kill -9 mid-import and mid-save, unwritable labels/, then recovery.

After any of these the database passes `PRAGMA integrity_check`, every file in labels/ parses,
no half-written file is read, an import is all or nothing, and the label files agree with the
database (or `reconcile` says which do not and repairs them).
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from helpers_server import Browser, command, server_env, serving

from webapp.cli import main
from webapp.corpus import taxonomy
from webapp.labels import editor, links, mirror, reconcile
from webapp.labels.editor import Choice
from webapp.store.db import connect
from webapp.store.files import JOURNAL_SUFFIX, WrittenFiles, atomic_write, roll_forward

pytestmark = pytest.mark.faults

DOCUMENT = "000_26419f1f75a7eb13.txt"


def content_passages(db, limit: int = 4) -> list[int]:
    """The first content passages of one document."""
    return [
        row[0]
        for row in db.execute(
            "SELECT id FROM passages WHERE document = ? AND kind = 'content' ORDER BY position LIMIT ?", [DOCUMENT, limit]
        )
    ]


def assert_corpus_sound(corpus: Path) -> None:
    """The database is intact, every file in labels/ parses, and no temporary file is read."""
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    tax = taxonomy.load(corpus / "labels" / "taxonomy.toml")
    records = mirror.read_folder(corpus / "labels", tax.ids)
    links.read_file(corpus / "labels")
    for path in (corpus / "labels" / mirror.PASSAGES_FOLDER).glob(f"*{mirror.FILE_SUFFIX}"):
        assert path.read_text(encoding="utf-8").endswith("\n"), path
    # Leftover temporary files (from a kill mid-write) never end in a name the loader reads.
    for path in [*(corpus / "labels").rglob("*.tmp"), *(corpus / "seeds").glob("*.tmp")]:
        assert path.name.startswith(".") and not any(path.name.endswith(s) for s in (".jsonl", ".txt", ".toml"))
    assert all(r.document for r in records)


def assert_files_agree(corpus: Path) -> None:
    """Nothing is pending and every label file is what exporting the database would write."""
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        assert reconcile.pending(db) == []
        assert reconcile.differing(db, corpus / "labels") == []
    finally:
        db.close()


def load(corpus: Path) -> str:
    """Run `counterpoint load` and return what it printed."""
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "load"])
    assert result.exit_code == 0, result.output
    return result.output


# --- reconcile: a committed save whose file was never written -----------------------------


def test_a_save_that_never_reached_its_file_is_rewritten_by_load(app, db, corpus):
    passage = content_passages(db)[0]
    # The process dies between COMMIT and the file write: only the database has the change.
    change = editor.save(db, passage, "alice", [Choice("security", "against", "crash test")])
    before = mirror.label_file(corpus / "labels", DOCUMENT).read_text(encoding="utf-8")
    assert reconcile.pending(db) == [DOCUMENT]
    assert reconcile.differing(db, corpus / "labels") == [DOCUMENT]

    output = load(corpus)

    assert f"Rewrote the label file of {DOCUMENT}" in output
    after = mirror.label_file(corpus / "labels", DOCUMENT).read_text(encoding="utf-8")
    assert after != before and "crash test" in after
    # The build read the rewritten file, so the committed change survived it.
    assert editor.state(db, change.document, change.position, "alice")[0]["holder"] == "crash test"
    assert_files_agree(corpus)


def test_a_file_written_but_not_marked_is_not_reported_as_rewritten(app, db, corpus):
    passage = content_passages(db)[0]
    change = editor.save(db, passage, "alice", [Choice("security", "favour")])
    mirror.export(db, corpus / "labels", [change.document])  # written, but the mark not cleared
    report = reconcile.reconcile(db, corpus / "labels")
    assert report.rewritten == [] and report.messages() == []
    assert reconcile.pending(db) == []


def test_hand_edited_files_are_reported_not_overwritten(app, db, corpus):
    path = mirror.label_file(corpus / "labels", DOCUMENT)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[1:]), encoding="utf-8")  # a label deleted by hand
    output = load(corpus)
    assert "differ from the database" in output and DOCUMENT in output
    assert path.read_text(encoding="utf-8") == "".join(lines[1:])
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "labels", "export"])
    assert result.exit_code == 0, result.output
    assert_files_agree(corpus)


def test_serve_reports_hand_edited_files_once_it_is_up(app, db, corpus):
    path = mirror.label_file(corpus / "labels", DOCUMENT)
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    with serving(corpus, workers=1) as server:
        deadline = time.monotonic() + 30
        while "differ from the database" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "differ from the database" in server.output() and DOCUMENT in server.output()


def test_load_removes_stale_temporary_files_and_never_reads_them(app, corpus):
    folder = corpus / "labels" / mirror.PASSAGES_FOLDER
    stale = folder / f".{DOCUMENT}.jsonl.x1y2.tmp"
    stale.write_text('{"half a record', encoding="utf-8")
    fresh = folder / f".{DOCUMENT}.jsonl.z3.tmp"
    fresh.write_text("{", encoding="utf-8")
    old = time.time() - reconcile.STALE_SECONDS - 5
    os.utime(stale, (old, old))
    assert_corpus_sound(corpus)  # neither is read
    output = load(corpus)
    assert f"Removed the leftover temporary file {stale.name}" in output
    # A fresh one may belong to a write in progress in a running server: it stays.
    assert not stale.exists() and fresh.exists()


# --- labels/ not writable, or the disk full -------------------------------------------------


@pytest.fixture(params=[errno.EACCES, errno.ENOSPC], ids=["read-only", "disk-full"])
def unwritable(request, corpus, monkeypatch):
    """labels/passages/ refuses writes: chmod when that works (not as root), else a patched write."""
    code = request.param
    folder = corpus / "labels" / mirror.PASSAGES_FOLDER
    if code == errno.EACCES and os.geteuid() != 0:
        folder.chmod(0o555)
        yield "Permission denied"
        folder.chmod(0o755)
        return

    def refuse(path, content):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(mirror, "atomic_write", refuse)
    yield os.strerror(code)
    monkeypatch.undo()


def test_web_save_says_the_file_was_not_written_and_reconcile_repairs_it(app, db, corpus, unwritable):
    passage = content_passages(db)[0]
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    form = {"csrf_token": "t", "stance-security": "against", "holder-security": "full disk", "then": "passage"}

    page = client.post(f"/label/{passage}", data=form, follow_redirects=True)

    assert page.status_code == 200
    flash = BeautifulSoup(page.text, "html.parser").select_one(".flash").get_text(" ", strip=True)
    assert f"Saved in the database but could not write labels/passages/{DOCUMENT}.jsonl: {unwritable}" in flash
    assert "counterpoint labels export" in flash
    saved = db.execute("SELECT after FROM label_changes ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert json.loads(saved)[0]["holder"] == "full disk"  # the database has the change
    assert reconcile.pending(db) == [DOCUMENT]  # recorded, not silent

    # The htmx fragment carries the same message.
    form["holder-security"] = "still full"
    fragment = client.post(f"/label/{passage}", data=form, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "could not write labels/passages/" in fragment.text


def test_disk_full_then_fixed_reconcile_rewrites_the_file(app, db, corpus, monkeypatch):
    passage = content_passages(db)[0]

    def full(path, content):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(mirror, "atomic_write", full)
    change = editor.save(db, passage, "alice", [Choice("security", "neutral", "later")])
    with pytest.raises(editor.LabelFilesError, match="No space left on device"):
        editor.write_files(db, corpus / "labels", [change.document])
    report = reconcile.reconcile(db, corpus / "labels")
    assert report.failed and "No space left on device" in report.failed[0]
    assert reconcile.pending(db) == [DOCUMENT]

    monkeypatch.setattr(mirror, "atomic_write", atomic_write)
    report = reconcile.reconcile(db, corpus / "labels")
    assert report.rewritten == [DOCUMENT] and report.failed == []
    assert_files_agree(corpus)


def test_api_write_with_a_full_disk_shows_a_clear_error_page(app, db, corpus, monkeypatch):
    monkeypatch.setattr(mirror, "atomic_write", lambda p, c: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "t"
    passage = content_passages(db)[0]
    reply = client.put(f"/api/passages/{passage}/labels", json={"labels": [{"topic": "security", "stance": "favour"}]},
                       headers={"X-CSRFToken": "t"})
    assert reply.status_code == 500 and "No space left on device" in reply.text
    assert reconcile.pending(db) == [DOCUMENT]


def test_labels_export_with_a_full_disk_is_a_clear_cli_error(app, corpus, monkeypatch):
    monkeypatch.setattr(mirror, "atomic_write", lambda p, c: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    db = connect(app.config["DATABASE"])
    editor.save(db, content_passages(db)[0], "alice", [Choice("security", "favour", "x")])
    db.close()
    result = CliRunner().invoke(main, ["--corpus", str(corpus), "labels", "export"])
    assert result.exit_code == 1 and "No space left on device" in result.output


# --- kill -9 ---------------------------------------------------------------------------------


def test_kill_9_during_a_burst_of_label_saves(app, db, corpus):
    passages = content_passages(db)
    acknowledged: list[str] = []
    failures: list[str] = []
    killing = threading.Event()

    def save(port: int, worker: int) -> None:
        browser, rng = Browser(port, timeout=10), random.Random(worker)
        try:
            page = browser.get("/label")
            assert page.status == 200 and browser.csrf, (page.status, page.body[:300])
            for n in range(2000):
                if killing.is_set():
                    return
                tag = f"w{worker} #{n}"
                reply = browser.post(f"/label/{rng.choice(passages)}",
                                     {"stance-security": rng.choice(["favour", "against"]), "holder-security": tag})
                assert reply.status == 303, (tag, reply.status, reply.body[:300])
                acknowledged.append(tag)
        except (OSError, http.client.HTTPException) as exc:
            # A dropped connection is what the kill does; before it, it is a failure.
            if not killing.is_set():
                failures.append(f"worker {worker}: {exc!r} before the kill")
        except Exception as exc:
            # A whole reply that is not a 303 came from a live server, even mid-kill: a failure.
            failures.append(f"worker {worker}: {exc!r}")
        finally:
            browser.close()

    with serving(corpus, workers=2, shared=False) as server:
        threads = [threading.Thread(target=save, args=(server.port, i)) for i in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while (len(acknowledged) < 30 and not failures and any(t.is_alive() for t in threads)
               and time.monotonic() < deadline):
            time.sleep(0.05)
        killing.set()  # before the kill, so the workers know a dropped connection is expected
        server.kill()
        for thread in threads:
            thread.join(timeout=15)
    assert not any(t.is_alive() for t in threads), "a worker still runs 15 s after the kill"
    assert failures == []
    assert len(acknowledged) >= 30

    assert_corpus_sound(corpus)
    recorded = {
        row["holder"] for (after,) in db.execute("SELECT after FROM label_changes") for row in json.loads(after)
    }
    assert set(acknowledged) <= recorded  # every save the server acknowledged survived the kill
    load(corpus)
    assert_corpus_sound(corpus)
    assert_files_agree(corpus)
    # The labels are those of the last recorded change of each passage.
    for (position,) in db.execute("SELECT DISTINCT position FROM label_changes WHERE document = ?", [DOCUMENT]):
        last = editor.history(db, DOCUMENT, position)[0]
        assert editor.state(db, DOCUMENT, position, last.annotator) == last.after


def bulk_jsonl(path: Path, documents: int) -> list[str]:
    """A pre-split import file of many small labelled documents; returns their names."""
    names = [f"bulk-{d:05d}" for d in range(documents)]
    with open(path, "w", encoding="utf-8") as handle:
        for name in names:
            for p in range(3):
                labels_ = [{"topic": "security", "stance": "favour", "annotator": "bulk"}] if p == 0 else []
                handle.write(json.dumps({"document": name, "text": f"Passage {p} of {name} on borders.",
                                         "title": name, "labels": labels_}) + "\n")
    return names


# Prepended to the import's `python -c` program: the child stops itself (SIGSTOP) just before
# the Nth temporary-file write, the Nth rename or the Nth disk sync, as FREEZE_AT=step:N says,
# so that the kill -9 lands at that point of the batch's file writes and not wherever the
# scheduler of a busy machine happens to put it. Nothing else about the import changes.
FREEZE_HOOK = """
import builtins, os, signal
_step, _nth = os.environ["FREEZE_AT"].split(":")
_seen = [0]
def _watch(module, name, step, applies):
    real = getattr(module, name)
    def watched(*args, **kwargs):
        if step == _step and applies(*args, **kwargs):
            _seen[0] += 1
            if _seen[0] == int(_nth):
                os.kill(os.getpid(), signal.SIGSTOP)
        return real(*args, **kwargs)
    setattr(module, name, watched)
_watch(builtins, "open", "write", lambda file, mode="r", *a, **k: str(file).endswith(".tmp") and "w" in mode)
_watch(os, "replace", "rename", lambda source, target, *a, **k: not str(target).endswith(".journal"))
_watch(os, "sync", "sync", lambda: True)
"""
BULK_DOCUMENTS = 300  # one seed file and 300 label files: the kill lands among many writes


def stopped(process: subprocess.Popen, seconds: float = 20) -> bool:
    """Wait until the child has stopped itself (True) or ended (False)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{process.pid}/stat").read_text()
        except FileNotFoundError:
            break
        if stat.rpartition(")")[2].split()[0] == "T":
            return True
        time.sleep(0.005)
    return False


def bulk_documents_committed(corpus: Path) -> int:
    """How many bulk documents the database holds, read without writing to it."""
    conn = sqlite3.connect(f"file:{corpus / 'instance' / 'counterpoint.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM documents WHERE id LIKE 'bulk-%'").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("when, freeze, survives", [
    # The seed's temporary twin is the first write; half the label files are still to come.
    pytest.param("writing temporary files", f"write:{BULK_DOCUMENTS // 2}", False, id="writing temporary files"),
    # The journal is written, the seed and some label files are renamed, the rest are not.
    pytest.param("renaming them", f"rename:{BULK_DOCUMENTS // 2}", True, id="renaming them"),
    # Every file is in place, the journal not yet removed, the database not yet committed.
    pytest.param("committing the database", "sync:2", True, id="committing the database"),
])
def test_kill_9_during_an_import_is_all_or_nothing(app, corpus, tmp_path, when, freeze, survives):
    names = bulk_jsonl(tmp_path / "bulk.jsonl", BULK_DOCUMENTS)
    argv = command(corpus, "documents", "import", "--jsonl", str(tmp_path / "bulk.jsonl"))
    argv[argv.index("-c") + 1] = FREEZE_HOOK + argv[argv.index("-c") + 1]
    seeds, folder = corpus / "seeds", corpus / "labels" / mirror.PASSAGES_FOLDER
    seed = seeds / "bulk.jsonl"
    process = subprocess.Popen(argv, env={**server_env(), "FREEZE_AT": freeze}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert stopped(process), f"the import ended (exit {process.poll()}) before {when}: {process.stderr.read()!r}"
        # Evidence, while it is frozen, that the import is exactly where this case says.
        temporary = len(list(folder.glob(".bulk-*.tmp"))) + len(list(seeds.glob(".bulk.jsonl.*.tmp")))
        written = len(list(folder.glob("bulk-*"))) + seed.exists()
        journals = list(seeds.glob(f".*{JOURNAL_SUFFIX}"))
        assert bulk_documents_committed(corpus) == 0
        if when == "writing temporary files":
            assert (written, journals) == (0, []) and 0 < temporary < BULK_DOCUMENTS, (written, temporary)
        elif when == "renaming them":
            assert journals and seed.exists() and 0 < written < BULK_DOCUMENTS, written
            assert written + temporary == BULK_DOCUMENTS + 1, (written, temporary)
        else:
            assert journals and (written, temporary) == (BULK_DOCUMENTS + 1, 0), (written, temporary)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended on its own: the assertions say so
        process.wait(timeout=10)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL  # killed by the signal, not ended on its own

    assert_corpus_sound(corpus)
    output = load(corpus)
    assert_corpus_sound(corpus)
    assert_files_agree(corpus)
    db = connect(app.config["DATABASE"])
    imported = db.execute("SELECT count(*) FROM documents WHERE id LIKE 'bulk-%'").fetchone()[0]
    stored = db.execute("SELECT count(*) FROM labels WHERE document LIKE 'bulk-%'").fetchone()[0]
    db.close()
    files = len(list(folder.glob("bulk-*")))
    # Before the journal nothing survives; once it is written, `load` completes the import.
    expected = (len(names),) * 3 if survives else (0, 0, 0)
    assert (imported, stored, files) == expected, output[:500]
    assert seed.exists() == survives
    # Importing again afterwards completes (or confirms) the import.
    again = CliRunner().invoke(main, ["--corpus", str(corpus), "documents", "import", "--jsonl", str(tmp_path / "bulk.jsonl")])
    assert again.exit_code == 0, again.output
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM documents WHERE id LIKE 'bulk-%'").fetchone()[0] == len(names)
    db.close()
    assert_files_agree(corpus)


def test_a_write_many_cut_short_mid_rename_is_completed_by_roll_forward(tmp_path):
    files = {tmp_path / "seeds" / "a.jsonl": "seed\n", **{tmp_path / "labels" / f"{n}.jsonl": f"{n}\n" for n in range(5)}}
    child = os.fork()
    if child == 0:  # the child dies like kill -9 on its third rename: no finally, no undo
        renames, real = [], os.replace

        def crash(source, target):
            renames.append(target)
            if len(renames) == 3:
                os._exit(9)
            real(source, target)

        os.replace = crash
        WrittenFiles().write_many(files)
        os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 9
    renamed = sum(p.exists() for p in files)
    assert 0 < renamed < len(files)  # (the journal itself took one of the renames)
    completed = roll_forward([tmp_path / "seeds", tmp_path / "labels"])
    assert len(completed) == len(files) - renamed
    assert all(p.read_text(encoding="utf-8") == c for p, c in files.items())
    assert not list(tmp_path.rglob(".*"))
