"""Annotator accounts for shared mode: names, hashed passwords and failed sign-ins."""

from __future__ import annotations

import functools
import re
import time
from datetime import datetime, timezone

from werkzeug.security import check_password_hash, generate_password_hash

from webapp.labels.current import ADJUDICATOR

NAME = re.compile(r"^[\w.@+-]{1,40}$")
MIN_PASSWORD = 8


@functools.cache
def _dummy_hash() -> str:
    # Compared against when the name is unknown, so a failed sign-in takes as long either way.
    # Made on first use: hashing costs time and 32 MB at every process start otherwise.
    return generate_password_hash("not a password")


class AuthError(ValueError):
    """An annotator account cannot be created or changed; the message says why."""


def add_annotator(db, name: str, password: str) -> None:
    """Create an annotator account with a hashed password."""
    if not NAME.match(name):
        raise AuthError("A name is 1-40 letters, digits or . @ + - _ (no spaces).")
    if name.casefold() == ADJUDICATOR:
        raise AuthError(f"“{ADJUDICATOR}” is reserved for adjudicated labels; choose another name.")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"A password needs at least {MIN_PASSWORD} characters.")
    if db["annotators"].count_where("name = ?", [name]):
        raise AuthError(f"There is already an annotator called {name}.")
    created = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    with db.atomic():
        db["annotators"].insert({"name": name, "password_hash": generate_password_hash(password), "created": created})


def remove_annotator(db, name: str) -> bool:
    """Delete an account (its labels stay); False if there was none."""
    with db.atomic():
        return db.execute("DELETE FROM annotators WHERE name = ?", [name]).rowcount > 0


def annotators(db) -> list[dict]:
    """Every annotator account with when it was created, by name."""
    return list(db.query("SELECT name, created FROM annotators ORDER BY name"))


def verify(db, name: str, password: str) -> bool:
    """True when the name and password match an account."""
    row = db.execute("SELECT password_hash FROM annotators WHERE name = ?", [name]).fetchone()
    return check_password_hash(row[0] if row else _dummy_hash(), password) and row is not None


def too_many_failures(db, username: str, ip: str, limit: int, window: float) -> bool:
    """True when this username and address failed `limit` times within the last `window` seconds."""
    since = time.time() - window
    return db["login_failures"].count_where("username = ? AND ip = ? AND at > ?", [username, ip, since]) >= limit


def record_failure(db, username: str, ip: str, window: float) -> None:
    """Remember a failed sign-in, and forget those too old to count."""
    now = time.time()
    with db.atomic():
        db.execute("DELETE FROM login_failures WHERE at <= ?", [now - window])
        db["login_failures"].insert({"username": username, "ip": ip, "at": now})


def clear_failures(db, username: str, ip: str) -> None:
    """Forget failed sign-ins after a successful one."""
    with db.atomic():
        db.execute("DELETE FROM login_failures WHERE username = ? AND ip = ?", [username, ip])
