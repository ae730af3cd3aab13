"""The JSON API under /api: what the screens show, for scripts and notebooks; see /api/openapi.json.

Writes follow the site's rules: the session's CSRF token in the X-CSRFToken header (from
GET /api/session), and in shared mode a signed-in annotator.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, NotFound, Unauthorized

from webapp.analysis import catalog
from webapp.corpus import taxonomy
from webapp.findings import arguments
from webapp.labels import editor, links
from webapp.labels.validation import LabelError
from webapp.similarity import index
from webapp.store import jsonlines
from webapp.web import access, caching, errors
from webapp.web.database import MAX_ID, get_db, get_taxonomy, related_index, similarity_enabled
from webapp.web.security import csrf_token

bp = Blueprint("api", __name__, url_prefix=errors.API)

SPEC = Path(__file__).with_name("openapi.json")
# The related-passages feature registers a function (db, passage_id, k, mode) -> list of
# {"id", "score", "document", "text", "labels"} here; until it does, no passage has any.
RELATED_MODES = index.MODES


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    return current_app.response_class(SPEC.read_text(encoding="utf-8"), mimetype="application/json")


@bp.get("/session")
def session_info():
    """Who the API acts as, and the CSRF token that writes must send."""
    return {"annotator": access.current_annotator(), "shared": access.shared(), "csrf_token": csrf_token()}


@bp.get("/topics")
def topics():
    """Every topic with its passage counts per stance."""
    return jsonify(catalog.topics(get_db()))


@bp.get("/topics/<topic_id>/arguments")
def topic_arguments(topic_id: str):
    """A topic's key arguments per stance, as the Arguments view groups them."""
    if get_taxonomy().get(topic_id) is None:
        raise NotFound(f"There is no topic “{topic_id}” in this corpus.")
    sides = arguments.topic_arguments(get_db(), topic_id)
    return {"topic": topic_id, "sides": {
        stance: [
            {"key": a.key, "name": a.name, "sentence": a.sentence, "passages": [c.id for c in a.cards],
             "sources": a.sources, "holders": a.holders, "corrected": a.corrected}
            for a in found
        ]
        for stance, found in sides.items()
    }}


@bp.get("/passages")
def passages():
    """Content passages filtered like the comparison page, each with its labels."""
    args = request.args
    stance = args.get("stance", "")
    if stance and stance not in taxonomy.STANCES:
        raise BadRequest(f"stance must be one of {', '.join(taxonomy.STANCES)}")
    filters = catalog.PassageFilters(
        document=args.get("document", ""), topic=args.get("topic", ""), stance=stance,
        holder=args.get("holder", ""), q=" ".join(args.get("q", "").split())[:200],
        limit=_int_arg("limit", 500, 1, catalog.MAX_LIMIT), offset=_int_arg("offset", 0, 0, 10**9),
    )
    return jsonify(catalog.passages(get_db(), filters))


@bp.get("/passages/<int:passage_id>")
def passage(passage_id: int):
    """One passage with its labels, label history, links and related passages."""
    db = get_db()
    found = catalog.passage(db, passage_id)
    if found is None:
        raise NotFound(f"There is no passage number {passage_id}.")
    return {**found, "related": _related(db, passage_id, 5, "all")}


@bp.get("/passages/<int:passage_id>/related")
def related(passage_id: int):
    """Passages like this one from other documents, best first."""
    mode = request.args.get("mode", "all")
    if mode not in RELATED_MODES:
        raise BadRequest(f"mode must be one of {', '.join(RELATED_MODES)}")
    k = _int_arg("k", 10, 1, 100)
    db = get_db()
    _passage_or_404(db, passage_id)
    return jsonify(_related(db, passage_id, k, mode))


@bp.errorhandler(index.Preparing)
def preparing(exc: index.Preparing):
    """503 while this worker builds its first related-passages index, with when to ask again."""
    caching.of_the_moment()
    message = (f"Related passages are being prepared: the similarity index of {exc.passages:,} passages takes"
               f" about {exc.seconds} s to build. Try again in {exc.remaining} s.")
    return jsonify(error=message), 503, {"Retry-After": str(exc.remaining)}


def _related(db, passage_id: int, k: int, mode: str) -> list[dict]:
    if not similarity_enabled():
        return []
    found = index.suggestions(db, related_index(db), passage_id, mode, k)
    labels = catalog.labels_of(db, [f["id"] for f in found])
    return [
        {"id": f["id"], "score": f["score"], "document": f["document"], "text": f["text"],
         "terms": f["terms"], "labels": labels[f["id"]]}
        for f in found
    ]


@bp.put("/passages/<int:passage_id>/labels")
def put_labels(passage_id: int):
    """Set the signed-in annotator's labels on a passage; an empty list means no topic applies."""
    db = get_db()
    _passage_or_404(db, passage_id)
    body = _json_object()
    raw, note = body.get("labels"), body.get("note")
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise BadRequest('"labels" must be a list of {"topic", "stance", "holder"} objects')
    if note is not None and not isinstance(note, str):
        raise BadRequest('"note" must be text')
    try:
        # Values go to the check as sent, so a wrong type gets the same message as from a file.
        choices = [editor.Choice(c.get("topic"), c.get("stance"), c.get("holder")) for c in raw]
        choices = editor.check_choices(choices, get_taxonomy().ids)
        change = editor.save(db, passage_id, _annotator(), choices, note)
    except (LabelError, editor.EditError) as exc:
        raise BadRequest(str(exc)) from None
    if change:
        editor.write_files(db, Path(current_app.config["LABELS_DIR"]), [change.document])
    return {"changed": change is not None, "change": change.id if change else None,
            "labels": catalog.labels_of(db, [passage_id])[passage_id]}


@bp.post("/passages/<int:passage_id>/links")
def post_link(passage_id: int):
    """Link a passage to another with a relation (or dismiss the pair), as the signed-in annotator."""
    db = get_db()
    _passage_or_404(db, passage_id)
    body = _json_object()
    target, relation, note = body.get("target"), body.get("relation"), body.get("note", "")
    if not isinstance(target, int) or isinstance(target, bool):
        raise BadRequest('"target" must be a passage id')
    if not isinstance(relation, str) or not isinstance(note, str):
        raise BadRequest('"relation" and "note" must be text')
    _passage_or_404(db, target)
    try:
        link = links.record(db, passage_id, target, relation, _annotator(), note)
    except links.LinkError as exc:
        raise BadRequest(str(exc)) from None
    links.export(db, Path(current_app.config["LABELS_DIR"]))
    return _link_of(db, passage_id, target, link.annotator), 201


@bp.delete("/passages/<int:passage_id>/links/<int:target>")
def delete_link(passage_id: int, target: int):
    """Withdraw the signed-in annotator's link or dismissal between two passages."""
    db = get_db()
    _passage_or_404(db, passage_id)
    _passage_or_404(db, target)
    if not links.remove(db, passage_id, target, _annotator()):
        raise NotFound("You have no link between these passages.")
    links.export(db, Path(current_app.config["LABELS_DIR"]))
    return "", 204


def _link_of(db, passage_id: int, target: int, annotator: str) -> dict:
    found = catalog.passage(db, passage_id)["links"]
    return next(link for link in found if link["id"] == target and link["annotator"] == annotator)


def _passage_or_404(db, passage_id: int) -> None:
    if not 0 < passage_id <= MAX_ID or not db["passages"].count_where("id = ?", [passage_id]):
        raise NotFound(f"There is no passage number {passage_id}.")


def _annotator() -> str:
    annotator = access.current_annotator()
    if annotator is None:
        raise Unauthorized("Sign in first.")
    return annotator


def _json_object() -> dict:
    # Parsed here rather than by request.get_json, which lets the parser's RecursionError on deep
    # nesting through as a 500. JSON between systems is UTF-8 (RFC 8259), so other bytes are refused.
    try:
        text = request.get_data().decode("utf-8-sig") if request.is_json else ""
        jsonlines.check_json(text)
        body = json.loads(text)
    except jsonlines.JsonTextError as exc:
        raise BadRequest(str(exc)) from None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value
