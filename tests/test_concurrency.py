"""Many writers at once, in threads and in processes: every change recorded, files in step."""

from __future__ import annotations

import json
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from webapp.labels import editor, mirror
from webapp.labels.editor import Choice
from webapp.store.db import connect

SAVES = 6


def contended_passages(db) -> list[int]:
    """Two content passages in each of two documents, so writers collide on files and rows."""
    return [
        row[0]
        for document in ("000_26419f1f75a7eb13.txt", "004_1cda40431279602b.txt")
        for row in db.execute(
            "SELECT id FROM passages WHERE document = ? AND kind = 'content' ORDER BY position LIMIT 2", [document]
        )
    ]


def save_many(database: str, labels_dir: str, annotator: str, passages: list[int]) -> int:
    """Save SAVES distinct labels as one annotator, writing files through; returns how many."""
    db = connect(database)
    try:
        for n in range(SAVES):
            passage = passages[n % len(passages)]
            change = editor.save(db, passage, annotator, [Choice("security", "favour", f"{annotator} #{n}")])
            editor.write_files(db, Path(labels_dir), [change.document])
    finally:
        db.close()
    return SAVES


def assert_everything_recorded(db, labels_dir: Path, expected_holders: set[str]) -> None:
    """Every save is in the history, and every label file matches the database."""
    recorded = {json.loads(after)[0]["holder"] for (after,) in db.execute("SELECT after FROM label_changes")}
    assert recorded == expected_holders
    assert db["label_changes"].count == len(expected_holders)
    for document in ("000_26419f1f75a7eb13.txt", "004_1cda40431279602b.txt"):
        on_disk = mirror.label_file(labels_dir, document).read_text(encoding="utf-8")
        assert on_disk == mirror.format_records(mirror.records(db, document))


def test_threads_saving_at_once_lose_nothing(app, db, corpus):
    passages = contended_passages(db)
    annotators = [f"thread{i}" for i in range(8)]
    start = threading.Barrier(len(annotators))

    def run(annotator):
        start.wait()
        return save_many(app.config["DATABASE"], str(corpus / "labels"), annotator, passages)

    with ThreadPoolExecutor(len(annotators)) as pool:
        assert sum(pool.map(run, annotators)) == SAVES * len(annotators)
    holders = {f"{a} #{n}" for a in annotators for n in range(SAVES)}
    assert_everything_recorded(db, corpus / "labels", holders)


def test_processes_saving_at_once_lose_nothing(app, db, corpus):
    passages = contended_passages(db)
    annotators = [f"process{i}" for i in range(3)]
    # spawn, not fork: forking a process that runs threads can deadlock.
    context = multiprocessing.get_context("spawn")
    args = [(app.config["DATABASE"], str(corpus / "labels"), a, passages) for a in annotators]
    with context.Pool(len(annotators)) as pool:
        assert sum(pool.starmap(save_many, args)) == SAVES * len(annotators)
    holders = {f"{a} #{n}" for a in annotators for n in range(SAVES)}
    assert_everything_recorded(db, corpus / "labels", holders)


def test_simultaneous_http_saves_of_one_passage_all_succeed(app, db, corpus):
    pid = contended_passages(db)[0]
    clients = [app.test_client() for _ in range(8)]
    tokens = []
    for client in clients:
        with client.session_transaction() as session:
            session["csrf_token"] = "t"
        tokens.append("t")
    start = threading.Barrier(len(clients))

    def post(i):
        start.wait()
        return clients[i].post(f"/label/{pid}", data={"csrf_token": tokens[i], "stance-security": "against",
                                                       "holder-security": f"client {i}"}).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        assert list(pool.map(post, range(len(clients)))) == [303] * len(clients)
    assert_everything_recorded(db, corpus / "labels", {f"client {i}" for i in range(len(clients))})
