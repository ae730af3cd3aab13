"""What a new corpus still lacks: the first steps that pages show instead of empty tables.

`counterpoint init` starts a corpus with no topics and no documents. Every screen that would
show nothing asks templates for `first_steps()` and names the next step (see
`templates/_first_steps.html`), so the rule of what counts as "not started" lives here once.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import url_for

from webapp.web.database import get_db, get_taxonomy


class Step(NamedTuple):
    """One thing to do before a screen can show anything: the link text, where, and why."""

    text: str
    href: str
    why: str


def first_steps(*needs: str) -> list[Step]:
    """The steps this corpus still needs among `needs` ("topic", "document"; both by default), topics first.

    Empty once the corpus has what the screen needs: search needs documents, labelling both.
    """
    needs = needs or ("topic", "document")
    steps = []
    if "topic" in needs and not get_taxonomy().topics:
        steps.append(
            Step(
                "Add your first topic",
                url_for("taxonomy.new"),
                "a topic names a question and the claim whose sides you compare.",
            )
        )
    if "document" in needs and not get_db().execute("SELECT EXISTS (SELECT 1 FROM documents)").fetchone()[0]:
        steps.append(
            Step(
                "Add your first document",
                url_for("adding.new"),
                "paste an article or upload a file, and it is split into passages to label.",
            )
        )
    return steps


def init_app(app) -> None:
    """Let every template ask what the corpus still lacks."""
    app.jinja_env.globals["first_steps"] = first_steps
