"""A topic's brief: the page people read and print, and its Markdown download."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from webapp.findings import brief as briefs
from webapp.web.database import cached, get_db, get_taxonomy

bp = Blueprint("briefs", __name__)

FORMATS = ("html", "md")


@bp.get("/topics/<topic_id>/brief")
def brief(topic_id: str):
    """The brief on a topic as a page (print it for a PDF), or as Markdown with `?format=md`."""
    topic = get_taxonomy().get(topic_id)
    if topic is None:
        abort(404, f"There is no topic “{topic_id}” in this corpus.")
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        abort(404, f"There is no brief format “{fmt}”; formats are {', '.join(FORMATS)}.")
    db = get_db()
    found = cached("topic_brief", (topic.id,), lambda: briefs.build_brief(db, topic))
    if fmt == "md":
        response = Response(briefs.to_markdown(found), mimetype="text/markdown")
        response.headers["Content-Disposition"] = f'attachment; filename="brief-{topic.id}.md"'
        return response
    return render_template("briefs/brief.html", topic=topic, brief=found)
