"""Annotator accounts for shared mode: names, hashed passwords, roles, sessions and sign-in attempts."""

from __future__ import annotations

import functools
import re
import secrets
import time
from datetime import datetime, timezone

from werkzeug.security import check_password_hash, generate_password_hash

from webapp.labels import editor
from webapp.labels.current import ADJUDICATOR
from webapp.labels.validation import is_adjudicator

NAME = re.compile(r"^[\w.@+-]{1,40}$")
MIN_PASSWORD = 8


@functools.cache
def _dummy_hash() -> str:
    # Compared against when the name is unknown, so a failed sign-in takes as long either way.
    # Made on first use: hashing costs time and 32 MB at every process start otherwise.
    return generate_password_hash("not a password")


class AuthError(ValueError):
    """An annotator account cannot be created or changed; the message says why."""


def add_annotator(db, name: str, password: str, adjudicator: bool = False) -> None:
    """Create an annotator account with a hashed password, allowed to adjudicate or not."""
    if not NAME.match(name):
        raise AuthError("A name is 1-40 letters, digits or . @ + - _ (no spaces).")
    if is_adjudicator(name):
        raise AuthError(f"“{ADJUDICATOR}” is reserved for adjudicated labels; choose another name"
                        " and give it the adjudicator role instead.")
    _check_password(password)
    if db["annotators"].count_where("name = ?", [name]):
        raise AuthError(f"There is already an annotator called {name}.")
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    # A random first generation: an account removed and made again under the same name must not
    # accept the sessions its predecessor handed out.
    generation = secrets.randbelow(2**31)
    with db.atomic():
        db["annotators"].insert({"name": name, "password_hash": generate_password_hash(password), "created": created,
                                 "adjudicator": int(adjudicator), "session_generation": generation})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"A password needs at least {MIN_PASSWORD} characters.")


def remove_annotator(db, name: str) -> bool:
    """Delete an account (its labels stay); False if there was none."""
    with db.atomic():
        return db.execute("DELETE FROM annotators WHERE name = ?", [name]).rowcount > 0


def annotators(db) -> list[dict]:
    """Every annotator account with when it was created and whether it may adjudicate, by name."""
    return [{**row, "adjudicator": bool(row["adjudicator"])}
            for row in db.query("SELECT name, created, adjudicator FROM annotators ORDER BY name")]


def account(db, name: str) -> dict | None:
    """An account's role and session generation, or None when there is no usable account by that name."""
    if is_adjudicator(name):
        # An account made before the name was reserved must not act as the adjudicator.
        return None
    row = db.execute("SELECT adjudicator, session_generation FROM annotators WHERE name = ?", [name]).fetchone()
    return {"name": name, "adjudicator": bool(row[0]), "session_generation": row[1]} if row else None


def set_adjudicator(db, name: str, allowed: bool) -> bool:
    """Grant or revoke the adjudicator role; False when the account already had that role."""
    with db.atomic():
        row = db.execute("SELECT adjudicator FROM annotators WHERE name = ?", [name]).fetchone()
        if row is None:
            raise AuthError(f"There is no annotator called {name}.")
        db.execute("UPDATE annotators SET adjudicator = ? WHERE name = ?", [int(allowed), name])
    return bool(row[0]) != allowed


def set_password(db, name: str, password: str) -> None:
    """Change an account's password and end every session signed in with the old one."""
    _check_password(password)
    with db.atomic():
        updated = db.execute(
            "UPDATE annotators SET password_hash = ?, session_generation = session_generation + 1 WHERE name = ?",
            [generate_password_hash(password), name],
        ).rowcount
    if not updated:
        raise AuthError(f"There is no annotator called {name}.")


def end_sessions(db, name: str) -> None:
    """Make every session signed in to this account stop working, wherever its cookie is."""
    with db.atomic():
        db.execute("UPDATE annotators SET session_generation = session_generation + 1 WHERE name = ?", [name])


def verify(db, name: str, password: str) -> bool:
    """True when the name and password match an account."""
    row = db.execute("SELECT password_hash FROM annotators WHERE name = ?", [name]).fetchone()
    return check_password_hash(row[0] if row else _dummy_hash(), password) and row is not None and not is_adjudicator(name)


def claim_attempt(db, username: str, ip: str, limit: int, window: float) -> bool:
    """Count a sign-in attempt for this username and address; False when `limit` are already counted.

    An attempt counts as failed until `clear_failures` forgets it. Counting and recording happen
    in one write transaction, so parallel attempts queue here and no more than `limit` of them
    per `window` seconds ever reach the password check.
    """
    def work():
        now = time.time()
        db.execute("DELETE FROM login_failures WHERE at <= ?", [now - window])
        counted = db.execute(
            "SELECT count(*) FROM login_failures WHERE username = ? AND ip = ?", [username, ip]
        ).fetchone()[0]
        if counted >= limit:
            return False
        db.execute("INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)", [username, ip, now])
        return True

    return editor.write(db, work)


def clear_failures(db, username: str, ip: str) -> None:
    """Forget failed sign-ins after a successful one."""
    with db.atomic():
        db.execute("DELETE FROM login_failures WHERE username = ? AND ip = ?", [username, ip])
