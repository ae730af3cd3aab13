"""A label save never pays for a WAL checkpoint: a thread of the serving process copies the log."""

import sqlite3
import time
from pathlib import Path

from conftest import csrf, passage_id

from webapp.store import checkpoints
from webapp.web.database import get_db

# Far longer than a checkpoint round takes; only a broken checkpointer waits this long.
PATIENCE = 10


def eventually(condition) -> None:
    """Wait until `condition()` holds, failing after PATIENCE seconds."""
    ends = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < ends, "it never happened"
        time.sleep(0.02)


def test_a_save_is_copied_into_the_database_by_the_process_thread_not_the_request(app, client, db, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_SECONDS", 0.02)
    token = csrf(client)
    with app.app_context():
        assert get_db().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    main = Path(app.config["DATABASE"])
    before = main.stat().st_mtime_ns
    passage = passage_id(db, "001_f899d59df6dd666f.txt", 3)
    response = client.post(f"/label/{passage}", data={"csrf_token": token, "stance-recognition": "against"})
    assert response.status_code in (200, 303)
    # Only a checkpoint writes the database file itself; the request's commit went to the log.
    eventually(lambda: main.stat().st_mtime_ns != before)
    fresh = sqlite3.connect(main)
    saved = fresh.execute("""SELECT count(*) FROM labels WHERE document = '001_f899d59df6dd666f.txt'
        AND position = 3 AND topic = 'recognition' AND stance = 'against'""")
    assert saved.fetchone() == (1,)
    fresh.close()


def test_a_database_removed_from_under_its_server_is_forgotten_not_recreated(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_SECONDS", 0.02)
    path = tmp_path / "gone.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    checkpoints.hand_over(conn, str(path))
    conn.close()
    for leftover in tmp_path.glob("gone.db*"):
        leftover.unlink()
    eventually(lambda: str(path) not in checkpoints._paths)
    time.sleep(0.1)
    assert list(tmp_path.iterdir()) == []
