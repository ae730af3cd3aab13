"""Crashes and full disks: kill -9 mid-import and mid-save, unwritable labels/, then recovery.

After any of these the database passes `PRAGMA integrity_check`, every file in labels/ parses,
no half-written file is read, an import is all or nothing, and the label files agree with the
database (or `reconcile` says which do not and repairs them).
"""

from __future__ import annotations

import errno
import json
import os
import random
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
from webapp.store.files import WrittenFiles, atomic_write, roll_forward

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
    stop = threading.Event()

    def save(port: int, worker: int) -> None:
        browser, rng = Browser(port, timeout=10), random.Random(worker)
        try:
            browser.get("/label")
            for n in range(2000):
                if stop.is_set():
                    return
                tag = f"w{worker} #{n}"
                reply = browser.post(f"/label/{rng.choice(passages)}",
                                     {"stance-security": rng.choice(["favour", "against"]), "holder-security": tag})
                assert reply.status == 303, reply.body[:300]
                acknowledged.append(tag)
        except (OSError, AssertionError, Exception):
            return  # the server died under us: expected
        finally:
            browser.close()

    with serving(corpus, workers=2, shared=False) as server:
        threads = [threading.Thread(target=save, args=(server.port, i)) for i in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
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


@pytest.mark.parametrize("when", ["writing temporary files", "renaming them"])
def test_kill_9_during_an_import_is_all_or_nothing(app, corpus, tmp_path, when):
    names = bulk_jsonl(tmp_path / "bulk.jsonl", 1000)
    process = subprocess.Popen(command(corpus, "import", "--jsonl", str(tmp_path / "bulk.jsonl")),
                               env=server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    seed = corpus / "seeds" / "bulk.jsonl"
    deadline = time.monotonic() + 30
    try:
        # The seed file is the first of the batch's files: its temporary twin starts the writes.
        seeds = corpus / "seeds"
        started = (lambda: any(seeds.glob(".bulk.jsonl.*.tmp"))) if when.startswith("writing") else seed.exists
        while not started() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
    finally:
        try:
            os.killpg(process.pid, 9)
        except ProcessLookupError:
            pass  # it finished first: the "all" outcome, checked below like the others
        process.wait(timeout=10)

    assert_corpus_sound(corpus)
    output = load(corpus)
    assert_corpus_sound(corpus)
    assert_files_agree(corpus)
    db = connect(app.config["DATABASE"])
    imported = db.execute("SELECT count(*) FROM documents WHERE id LIKE 'bulk-%'").fetchone()[0]
    stored = db.execute("SELECT count(*) FROM labels WHERE document LIKE 'bulk-%'").fetchone()[0]
    db.close()
    files = len(list((corpus / "labels" / mirror.PASSAGES_FOLDER).glob("bulk-*")))
    assert (imported, stored, files) in [(0, 0, 0), (len(names), len(names), len(names))], output[:500]
    assert seed.exists() == (imported > 0)
    # Importing again afterwards completes (or confirms) the import.
    again = CliRunner().invoke(main, ["--corpus", str(corpus), "import", "--jsonl", str(tmp_path / "bulk.jsonl")])
    assert again.exit_code == 0, again.output


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
