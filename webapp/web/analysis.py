"""The analysis screens: annotator agreement, disagreements to adjudicate, and viewpoint charts."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from webapp.analysis import agreement, charts
from webapp.corpus import taxonomy
from webapp.labels import editor, validation
from webapp.web import access
from webapp.web.database import get_db, get_taxonomy
from webapp.web.rendering import render, wants_fragment

bp = Blueprint("analysis", __name__)

SHOW = ("open", "all")

NOT_ADJUDICATOR = (
    "Only an adjudicator can record or withdraw an adjudication, and {name} is not one. Ask whoever runs"
    " Counterpoint to grant the role: counterpoint annotators grant {name}"
)


@bp.get("/agreement")
def agreement_page():
    """Cohen's kappa per annotator pair and Krippendorff's alpha per topic, with their item counts."""
    db = get_db()
    tax = get_taxonomy()
    data = agreement.annotations(db)
    reviewed, shared_items = agreement.reviewed_counts(data)
    return render_template(
        "analysis/agreement.html",
        topics=tax.topics,
        results={t.id: agreement.topic_agreement(data, t.id) for t in tax.topics},
        reviewed=reviewed,
        shared_items=shared_items,
        open_count=sum(1 for d in agreement.disagreements(db) if d.adjudication is None),
    )


@bp.get("/disagreements")
def disagreements():
    """Passages annotators labelled differently, side by side, each with an adjudication form."""
    db = get_db()
    show = request.args.get("show", "open")
    show = show if show in SHOW else "open"
    items = agreement.disagreements(db)
    return render(
        "analysis/disagreements.html",
        "list",
        items=[d for d in items if show == "all" or d.adjudication is None],
        adjudicated=sum(1 for d in items if d.adjudication is not None),
        total=len(items),
        show=show,
        taxonomy=get_taxonomy(),
        stances=taxonomy.STANCES,
    )


@bp.post("/disagreements/<int:passage_id>")
@access.login_required
def adjudicate(passage_id: int):
    """Record (or withdraw) the adjudicated labels of a passage, then show it again."""
    if not access.may_adjudicate():
        abort(403, NOT_ADJUDICATOR.format(name=access.current_annotator()))
    db = get_db()
    tax = get_taxonomy()
    show = request.form.get("show") if request.form.get("show") in SHOW else "all"
    withdrawing = request.form.get("action") == "withdraw"
    by, note = access.current_annotator(), request.form.get("note")
    try:
        if withdrawing:
            change = agreement.withdraw(db, passage_id, by, note)
        else:
            choices = editor.check_choices(_choices(tax), tax.ids)
            change = agreement.adjudicate(db, passage_id, choices, by, note)
    except (validation.LabelError, editor.EditError) as exc:
        abort(400, str(exc))
    if change:
        editor.write_files(db, Path(current_app.config["LABELS_DIR"]), [change.document])
    message = ("Adjudication withdrawn." if withdrawing else "Adjudication saved.") if change else "Adjudication unchanged."
    if not wants_fragment():
        flash(message)
        return redirect(url_for("analysis.disagreements", show=show, _anchor=f"passage-{passage_id}"), 303)
    found = agreement.disagreements(db, passage_id)
    if not found:
        return render_template("analysis/_resolved.html", passage_id=passage_id, message=message)
    return render_template(
        "analysis/_disagreement.html", d=found[0], taxonomy=tax, stances=taxonomy.STANCES, show=show, saved=message,
    )


def _choices(tax) -> list[editor.Choice]:
    """The form's decision for each topic it offered; every offered topic needs one."""
    choices = []
    for topic_id in request.form.getlist("topic"):
        topic = tax.get(validation.check_topic(topic_id, tax.ids))
        stance = request.form.get(f"stance-{topic_id}")
        if stance is None:
            raise editor.EditError(f"Choose a stance, or “Not about it”, for {topic.name}.")
        if stance:
            choices.append(editor.Choice(topic_id, stance, request.form.get(f"holder-{topic_id}")))
    return choices


@bp.get("/charts")
def charts_page():
    """The viewpoint matrix, stance by source and over time, and the blind spots."""
    db = get_db()
    tax = get_taxonomy()
    by = request.args.get("by", "holder")
    by = by if by in charts.GROUPINGS else "holder"
    per_source = charts.tallies(db, tax.ids, "source")
    sources = charts.matrix(per_source)
    timeline, by_month, undated = charts.timeline(per_source)
    return render(
        "analysis/charts.html",
        "matrix",
        topics=tax.topics,
        taxonomy=tax,
        by=by,
        rows=sources if by == "source" else charts.matrix(charts.tallies(db, tax.ids, by)),
        distribution=charts.by_topic(sources, tax.ids),
        timeline=timeline,
        by_month=by_month,
        undated=undated,
        corpus_gaps=charts.corpus_gaps(sources, tax.ids),
        source_gaps=charts.group_gaps(sources, tax.ids),
        phrase=charts.stance_phrase,
        stances=taxonomy.STANCES,
    )
