"""Who is labelling: the configured local annotator, or signed-in annotators in shared mode."""

from __future__ import annotations

import functools
import re
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db
from .security import UNSAFE_METHODS

bp = Blueprint("auth", __name__)

NAME = re.compile(r"^[\w.@+-]{1,40}$")
MIN_PASSWORD = 8
NO_SECRET_KEY = (
    "Shared mode needs a secret key of its own, so sessions cannot be forged: set the "
    "COUNTERPOINT_SECRET_KEY environment variable or SECRET_KEY in instance/config.py, e.g. "
    "export COUNTERPOINT_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
)
# Compared against when the name is unknown, so a failed sign-in takes as long either way.
_DUMMY_HASH = generate_password_hash("not a password")


class AuthError(ValueError):
    """An annotator account cannot be created or changed; the message says why."""


class SharedModeError(RuntimeError):
    """Shared mode is configured in a way that would be unsafe to serve."""


def add_annotator(db, name: str, password: str) -> None:
    """Create an annotator account with a hashed password."""
    if not NAME.match(name):
        raise AuthError("A name is 1-40 letters, digits or . @ + - _ (no spaces).")
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
    return check_password_hash(row[0] if row else _DUMMY_HASH, password) and row is not None


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


def shared() -> bool:
    """True when the app serves several annotators who must sign in."""
    return bool(current_app.config.get("SHARED"))


def current_annotator() -> str | None:
    """Whose labels this request reads and writes, or None when nobody is signed in."""
    if not shared():
        return current_app.config["ANNOTATOR"]
    if "annotator" not in g:
        name = session.get("annotator")
        # An account removed after sign-in stops working at once.
        known = name and get_db()["annotators"].count_where("name = ?", [name])
        g.annotator = name if known else None
    return g.annotator


def login_required(view):
    """Send visitors who are not signed in to the sign-in page first."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_annotator() is None:
            return _refuse()
        return view(*args, **kwargs)
    return wrapped


def require_login() -> object | None:
    """In shared mode, refuse writes (and reads, if configured) from visitors not signed in."""
    if not shared() or request.endpoint in ("auth.login", "static") or current_annotator():
        return None
    if request.method in UNSAFE_METHODS or current_app.config.get("READS_REQUIRE_LOGIN"):
        return _refuse()
    return None


def _refuse():
    target = url_for("auth.login", next=_local(request.full_path if request.method == "GET" else request.referrer))
    if request.headers.get("HX-Request") == "true":
        # htmx does not follow a redirect into a whole page, but it does navigate on HX-Redirect.
        return "Sign in first.", 401, {"HX-Redirect": target}
    if request.method in UNSAFE_METHODS:
        flash("Sign in to make changes.")
    return redirect(target, 303)


def _local(url: str | None) -> str | None:
    """The path of `url` if it points inside this site, so sign-in never redirects elsewhere."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and not path.startswith("//") else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign an annotator in; failed attempts are limited per name and address."""
    config, db = current_app.config, get_db()
    next_url = _local(request.values.get("next")) or url_for("labelling.queue")
    if request.method == "GET":
        return render_template("auth/login.html", next_url=next_url, error=None)
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    ip = request.remote_addr or "unknown"
    limit, window = config["LOGIN_ATTEMPTS"], config["LOGIN_WINDOW_SECONDS"]
    if too_many_failures(db, name, ip, limit, window):
        error = f"Too many failed sign-ins for {name}. Wait {int(window // 60)} minutes and try again."
        return render_template("auth/login.html", next_url=next_url, error=error, name=name), 429
    if not verify(db, name, password):
        record_failure(db, name, ip, window)
        error = "That name and password do not match an annotator."
        return render_template("auth/login.html", next_url=next_url, error=error, name=name), 401
    clear_failures(db, name, ip)
    # A new session on sign-in, so a token planted before it cannot ride along.
    session.clear()
    session["annotator"] = name
    flash(f"Signed in as {name}.")
    return redirect(next_url, 303)


@bp.post("/logout")
def logout():
    """Sign out."""
    session.pop("annotator", None)
    flash("Signed out.")
    return redirect(url_for("compare.home"), 303)


def init_app(app) -> None:
    """Guard writes in shared mode and give templates the current annotator."""
    app.before_request(require_login)
    app.jinja_env.globals["current_annotator"] = current_annotator
    app.jinja_env.globals["shared_mode"] = shared
