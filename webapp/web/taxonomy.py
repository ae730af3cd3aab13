"""Managing topics in the browser: add one, change its wording, reorder, retire and restore it."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from webapp.corpus import topicfile
from webapp.corpus.taxonomy import DEFAULT_STANCE_LABELS, STANCES, TARGET_MISSING, Topic
from webapp.corpus.textfiles import BadInput
from webapp.web import access
from webapp.web.database import get_db
from webapp.web.rendering import invalid_status, render

bp = Blueprint("taxonomy", __name__, url_prefix="/topics")
# Every page that shows a topic's stances marks a missing target with the same words.
bp.record_once(lambda state: state.app.jinja_env.globals.update(target_missing=TARGET_MISSING))


@bp.route("/new", methods=["GET", "POST"])
@access.login_required
def new():
    """The form that adds a topic; saving leads to the new topic's page."""
    if request.method == "GET":
        return show_form(None, {})
    values = posted()
    try:
        topic = topicfile.add_topic(get_db(), labels_dir(), values)
    except BadInput as exc:
        return show_form(None, values, str(exc))
    flash(f"Added the topic “{topic.name}”." + (" State its target proposition when you can." if topic.target_missing else ""))
    return redirect(url_for("topics.topic", topic_id=topic.id), 303)


@bp.route("/<topic_id>/edit", methods=["GET", "POST"])
@access.login_required
def edit(topic_id: str):
    """The form that changes a topic's name, wording and key, with its order, retire and restore buttons."""
    topic = find_or_404(topic_id)
    if request.method == "GET":
        return show_form(topic, values_of(topic))
    values = posted()
    try:
        topic = topicfile.update_topic(get_db(), labels_dir(), topic.id, values)
    except BadInput as exc:
        return show_form(topic, values, str(exc))
    flash(f"Saved the topic “{topic.name}”.")
    if topic.retired:
        return redirect(url_for("taxonomy.edit", topic_id=topic.id), 303)
    return redirect(url_for("topics.topic", topic_id=topic.id), 303)


@bp.post("/<topic_id>/move")
@access.login_required
def move(topic_id: str):
    """Move a topic one place up or down in the order every page lists topics in."""
    direction = request.form.get("direction", "")
    end = "first" if direction == "up" else "last"
    return change(
        topic_id,
        lambda db, folder, topic: topicfile.move_topic(db, folder, topic, direction),
        lambda name, moved: f"Moved “{name}” {direction}." if moved else f"“{name}” is already {end}.",
    )


@bp.post("/<topic_id>/retire")
@access.login_required
def retire(topic_id: str):
    """Take a topic out of use, keeping its labels, so it can be restored later."""
    return change(
        topic_id,
        topicfile.retire_topic,
        lambda name, _: f"Retired “{name}”: its labels are kept, and Restore brings it back.",
    )


@bp.post("/<topic_id>/restore")
@access.login_required
def restore(topic_id: str):
    """Put a retired topic back in use with its labels."""
    return change(topic_id, topicfile.restore_topic, lambda name, _: f"Restored “{name}” with its labels.")


def change(topic_id: str, apply, message):
    """Apply `apply(db, labels folder, id)` to a topic and come back to its edit page saying `message(name, result)`;
    a refused change shows the form again with the reason."""
    topic = find_or_404(topic_id)
    try:
        result = apply(get_db(), labels_dir(), topic.id)
    except BadInput as exc:
        return show_form(topic, values_of(topic), str(exc))
    flash(message(topic.name, result))
    return redirect(url_for("taxonomy.edit", topic_id=topic.id), 303)


def labels_dir() -> Path:
    """The corpus's labels folder, which holds taxonomy.toml."""
    return Path(current_app.config["LABELS_DIR"])


def find_or_404(topic_id: str) -> Topic:
    """The topic (in use or retired) from the taxonomy file, or a 404 that says so."""
    try:
        topic = topicfile.find(labels_dir(), topic_id)
    except BadInput as exc:
        abort(409, str(exc))
    if topic is None:
        abort(404, f"There is no topic “{topic_id}” in this corpus.")
    return topic


def posted() -> dict[str, str]:
    """The topic fields of the posted form."""
    return {f: request.form.get(f, "") for f in ("id", *topicfile.FORM_FIELDS)}


def values_of(topic: Topic) -> dict[str, str]:
    """A topic's fields as the form shows them; a default stance wording shows as empty."""
    values = {f: getattr(topic, f) for f in topicfile.TEXT_FIELDS}
    values.update({s: "" if topic.labels[s] == DEFAULT_STANCE_LABELS[s] else topic.labels[s] for s in STANCES})
    return {"id": topic.id, **values}


def show_form(topic: Topic | None, values: dict[str, str], error: str | None = None):
    """The add or edit page (for htmx, its form alone), with every topic listed; 422 when the input is refused."""
    try:
        topics, list_error = topicfile.listing(labels_dir()), None
    except BadInput as exc:
        topics, list_error = [], str(exc)
    html = render(
        "taxonomy/edit.html",
        "topic_form",
        topic=topic,
        values=values,
        error=error or list_error,
        topics=topics,
        in_use=[t.id for t in topics if not t.retired],
        defaults=DEFAULT_STANCE_LABELS,
        stances=STANCES,
        limits=topicfile.MAX_LENGTHS,
    )
    return html, (invalid_status() if error else 200)

