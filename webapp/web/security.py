"""CSRF protection for every write, the Host names the app answers to, and the security headers."""

from __future__ import annotations

import hmac
import re
import secrets
from pathlib import Path

from flask import Response, abort, current_app, request, session

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Refuse a write whose form field or header does not carry the session's token."""
    if request.method not in UNSAFE_METHODS or not current_app.config.get("CSRF_ENABLED", True):
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(str(sent), expected):
        abort(400, "This form has expired or did not come from Counterpoint (missing CSRF token). "
                   "Reload the page and try again.")


# Local mode answers only to these names (any port): a page whose own host name an attacker
# re-points at 127.0.0.1 (DNS rebinding) then reaches the app under a name not on the list.
class SettingsError(ValueError):
    """A setting would make the app unsafe to serve or cannot be read; the message says which and how to fix it."""


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9_.-]+?)\.?(?::[0-9]{1,5})?", re.IGNORECASE)
_TRUSTED = "counterpoint.trusted_hosts"


def host_name(host: str | None) -> str:
    """The name in a Host header, lower case, without port or final dot; '' if it is malformed."""
    found = _HOST.fullmatch((host or "").strip())
    return found.group(1).lower() if found else ""


def parse_trusted_hosts(setting: object) -> tuple[str, ...]:
    """The TRUSTED_HOSTS setting as names: a list, or one string of names separated by commas or spaces.

    Raises SettingsError for an entry that is not a host name, so a typo stops the app at start
    instead of leaving it open or shut.
    """
    if not setting:
        return ()
    if isinstance(setting, (list, tuple, set)):
        names = [str(n).strip() for n in setting]
    else:  # an environment variable arrives as a string, or as a number if it looks like one
        names = str(setting).replace(",", " ").split()
    parsed = []
    for entry in names:
        dot = "." if entry.startswith(".") else ""
        name = host_name(entry.removeprefix("."))
        if not name:
            raise SettingsError(f"TRUSTED_HOSTS: {entry!r} is not a host name like counterpoint.example.org,"
                             " .example.org, 192.168.1.20 or [fd00::1]")
        parsed.append(dot + name)
    return tuple(parsed)


def allowed_hosts() -> tuple[str, ...] | None:
    """The host names this app answers to, or None for any: shared mode without TRUSTED_HOSTS."""
    trusted = current_app.extensions[_TRUSTED]
    if current_app.config.get("SHARED"):
        return trusted or None
    return LOCAL_HOSTS + trusted


def host_trusted(name: str, allowed: tuple[str, ...]) -> bool:
    """True if `name` is on the list; an entry starting with a dot also covers its subdomains."""
    return bool(name) and any(
        name == ref or (ref.startswith(".") and (name == ref[1:] or name.endswith(ref))) for ref in allowed
    )


def check_host():
    """Refuse a request addressed to a host name the app does not answer to (400, plain text)."""
    allowed = allowed_hosts()
    if allowed is None or host_trusted(host_name(request.headers.get("Host")), allowed):
        return None
    # Plain text, not a page: a page would hand whoever sent the request a session and a CSRF token.
    message = (
        f"Counterpoint does not answer to the host name {request.headers.get('Host', '')!r}; it answers to"
        f" {', '.join(allowed)}. If you meant to reach it under that name, add the name to the"
        " TRUSTED_HOSTS setting (see Configuration in the README)."
    )
    return Response(message, 400, mimetype="text/plain")


def add_security_headers(response):
    """Set CSP and related headers; inline scripts are never allowed."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def local_secret_key(instance_path: str) -> str:
    """A random secret kept in the instance folder, so local sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


def init_app(app) -> None:
    """Register the Host check, CSRF checking, security headers and the template helper."""
    app.extensions[_TRUSTED] = parse_trusted_hosts(app.config.get("TRUSTED_HOSTS"))
    # check_host enforces the setting. Werkzeug's own check, which Flask runs when TRUSTED_HOSTS
    # is set, cannot match an IPv6 address such as [::1] and knows nothing of local mode's names.
    app.config["TRUSTED_HOSTS"] = None
    app.before_request(check_host)
    app.before_request(check_csrf)
    app.after_request(add_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
