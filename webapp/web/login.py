"""Sign-in and sign-out for shared mode."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from webapp.labels import accounts
from webapp.web.access import current_annotator, local_path, shared
from webapp.web.database import get_db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign an annotator in; failed attempts are limited per name and address."""
    config, db = current_app.config, get_db()
    next_url = local_path(request.values.get("next")) or url_for("labelling.queue")
    if request.method == "GET":
        return render_template("auth/login.html", next_url=next_url, error=None)
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    ip = request.remote_addr or "unknown"
    limit, window = config["LOGIN_ATTEMPTS"], config["LOGIN_WINDOW_SECONDS"]
    # Claimed before the password is checked: parallel guesses cannot all pass a count taken first.
    if not accounts.claim_attempt(db, name, ip, limit, window):
        error = f"Too many failed sign-ins for {name}. Wait {int(window // 60)} minutes and try again."
        return render_template("auth/login.html", next_url=next_url, error=error, name=name), 429
    found = accounts.account(db, name) if accounts.verify(db, name, password) else None
    if found is None:
        error = "That name and password do not match an annotator."
        return render_template("auth/login.html", next_url=next_url, error=error, name=name), 401
    accounts.clear_failures(db, name, ip)
    # A new session on sign-in, so a token planted before it cannot ride along.
    session.clear()
    session["annotator"] = name
    session["generation"] = found["session_generation"]
    flash(f"Signed in as {name}.")
    return redirect(next_url, 303)


@bp.post("/logout")
def logout():
    """Sign out, ending every session of the account on the server, not just this cookie."""
    name = current_annotator()
    if shared() and name:
        accounts.end_sessions(get_db(), name)
    session.clear()
    flash("Signed out.")
    return redirect(url_for("topics.home"), 303)
