"""Full page or htmx fragment from the same URL and template; dates, titles and sizes shown in words."""

from __future__ import annotations

from flask import current_app, render_template, request
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from webapp.corpus.display import display_title, natural_date


def init_app(app) -> None:
    """Register the filters every template shows dates and document titles with."""
    app.add_template_filter(time_element, "when")
    app.add_template_filter(document_title)


def time_element(value: str | None) -> Markup:
    """A date or timestamp as a <time> element: natural words, the ISO value for machines."""
    if not value:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(value, natural_date(value))


def document_title(document) -> str:
    """The display title of a document row (title, kind, outlet, date), never its file name."""
    return display_title(document["title"], document["kind"], document["outlet"], document["date"])


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page.

    Boosted navigations and history restores need the whole page, because htmx swaps the body
    or rebuilds the page from what the server returns.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str, **context) -> str:
    """Render `block` of `template` alone for htmx, or the whole page otherwise."""
    if wants_fragment():
        return render_block(template, block, **context)
    return render_template(template, **context)


def invalid_status() -> int:
    """422 for a plain form post; 200 for htmx, which (in version 2) does not swap a 4xx reply."""
    return 200 if request.headers.get("HX-Request") == "true" else 422


def size_limit() -> str:
    """The upload size limit in words, e.g. "2 MB"."""
    return format_size(current_app.config.get("MAX_CONTENT_LENGTH"))


def format_size(limit: int | None) -> str:
    """A byte count as megabytes or kilobytes, e.g. 2 MB."""
    if not limit:
        return "no limit"
    if limit >= 1024 * 1024:
        return f"{limit / 1024 / 1024:g} MB"
    return f"{limit / 1024:g} KB"
