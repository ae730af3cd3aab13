"""Who is labelling: the configured local annotator, or signed-in annotators in shared mode."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from webapp.labels import accounts
from webapp.web.database import get_db
from webapp.web.security import UNSAFE_METHODS

NO_SECRET_KEY = (
    "Shared mode needs a secret key of its own, so sessions cannot be forged: set the "
    "COUNTERPOINT_SECRET_KEY environment variable or SECRET_KEY in instance/config.py, e.g. "
    "export COUNTERPOINT_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
)


def shared() -> bool:
    """True when the app serves several annotators who must sign in."""
    return bool(current_app.config.get("SHARED"))


def current_annotator() -> str | None:
    """Whose labels this request reads and writes, or None when nobody is signed in."""
    if not shared():
        return current_app.config["ANNOTATOR"]
    if "annotator" not in g:
        name = session.get("annotator")
        # An account removed after sign-in stops working at once, and so does a session signed in
        # before the account's last sign-out or password change. Sessions from before generations
        # existed carry none and count as the first.
        found = accounts.account(get_db(), name) if isinstance(name, str) else None
        valid = found is not None and session.get("generation", 0) == found["session_generation"]
        g.annotator, g.adjudicator = (name, found["adjudicator"]) if valid else (None, False)
    return g.annotator


def may_adjudicate() -> bool:
    """True when this request may record or withdraw adjudications: locally always, shared only with the role."""
    if not shared():
        return True
    current_annotator()
    return g.adjudicator


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
    target = url_for("auth.login", next=local_path(request.full_path if request.method == "GET" else request.referrer))
    if request.headers.get("HX-Request") == "true":
        # htmx does not follow a redirect into a whole page, but it does navigate on HX-Redirect.
        return "Sign in first.", 401, {"HX-Redirect": target}
    if request.method in UNSAFE_METHODS:
        flash("Sign in to make changes.")
    return redirect(target, 303)


def local_path(url: str | None) -> str | None:
    """The path of `url` if it points inside this site, so sign-in never redirects elsewhere."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and not path.startswith("//") else None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, marked Secure when configured or when the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        """Whether the session cookie may only travel over HTTPS."""
        # A request that arrived over TLS (directly, or through a proxy the server trusts) has no
        # reason to send its session back over plain HTTP.
        return bool(super().get_cookie_secure(app)) or request.is_secure


def init_app(app) -> None:
    """Guard writes in shared mode and give templates the current annotator and their role."""
    app.session_interface = SessionInterface()
    app.before_request(require_login)
    app.jinja_env.globals["current_annotator"] = current_annotator
    app.jinja_env.globals["may_adjudicate"] = may_adjudicate
    app.jinja_env.globals["shared_mode"] = shared
