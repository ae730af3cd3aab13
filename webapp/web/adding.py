"""The add-document screens: paste, upload or fetch a text by link, preview and fix its split, save it."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from webapp.corpus import feeds, fetching, linked, preview, sources, textfiles
from webapp.corpus.display import display_title
from webapp.corpus.splitting import CONTENT
from webapp.corpus.textfiles import EDITABLE_FIELDS, BadInput
from webapp.labels import consensus
from webapp.web.database import get_db
from webapp.web.rendering import invalid_status, render, size_limit

bp = Blueprint("adding", __name__, url_prefix="/add")


@bp.get("")
def new():
    """The form to paste a text or upload a file, with the document's metadata."""
    return render_template("adding/new.html", values={}, limit=size_limit())


@bp.post("/preview")
def start_preview():
    """Read the pasted or uploaded text and show how it splits into passages."""
    values = {f: request.form.get(f, "") for f in (*EDITABLE_FIELDS, "source_text")}
    upload = request.files.get("file")
    try:
        if upload and upload.filename:
            text, found = textfiles.read_source(upload.filename, upload.read())
            # What the person typed wins over what the page declares about itself.
            values.update({f: values[f] or found.get(f, "") for f in EDITABLE_FIELDS})
            suffix = ".md" if upload.filename.lower().endswith(".md") else ".txt"
            name = textfiles.document_name(upload.filename, suffix)
        else:
            text = textfiles.check_text(values["source_text"])
            # Without a title, the first words of the first line name the document.
            name = textfiles.document_name(values["title"] or " ".join(text.strip().split("\n")[0].split()[:8]))
        textfiles.check_metadata(values)
    except BadInput as exc:
        return form_with_error(values, exc)
    return show_preview(preview.from_text(text), values, name)


@bp.post("/link")
def from_link():
    """Fetch a page, PDF or Word file by link and show how it splits, filled in from its metadata.

    A link or text already in the corpus is offered as that document instead; a feed goes to the
    feed page.
    """
    link = request.form.get("link", "").strip()
    try:
        if not link:
            raise BadInput("Type or paste the link of a web page, PDF or Word file.")
        opened = linked.open_link(get_db(), link, **fetch_settings())
        if opened.feed:
            return to_feed(opened.feed.url)
        values = textfiles.check_metadata(opened.found) if opened.known is None else {}
    except BadInput as exc:
        return form_with_error({}, exc, link)
    if opened.known is not None:
        document = get_db()["documents"].get(opened.known)
        return render_template("adding/new.html", values={}, link=link, known=document, limit=size_limit())
    name = fetching.document_name_for(opened.fetched, values["title"])
    return show_preview(preview.from_text(opened.text), {f: values[f] for f in EDITABLE_FIELDS}, name)


def fetch_settings() -> dict:
    """The `fetching.fetch` options the settings give; private addresses are allowed in local mode only,
    unless FETCH_PRIVATE_ADDRESSES says otherwise."""
    config = current_app.config
    allowed = config.get("FETCH_PRIVATE_ADDRESSES")
    return linked.fetch_options(config, not config.get("SHARED") if allowed is None else bool(allowed))


def to_feed(url: str):
    """Send the browser to the feed page for `url`: htmx navigates there, a plain form post is redirected."""
    target = url_for("adding.feed", url=url)
    if request.headers.get("HX-Request") == "true":
        return "", 200, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/edit")
def edit():
    """Merge, split or re-mark passages of the preview; htmx gets the preview alone."""
    values, name = posted_fields()
    try:
        draft = draft_from_form()
    except BadInput as exc:
        return form_with_error(values, exc)
    try:
        return show_preview(preview.apply(draft, request.form.get("action", "")), values, name)
    except BadInput as exc:
        return show_preview(preview.refresh(draft), values, name, str(exc))


@bp.post("/save")
def save():
    """Save the previewed document to seeds/ and the database, then show it, ready to label."""
    values, name = posted_fields()
    try:
        draft = draft_from_form()
    except BadInput as exc:
        return form_with_error(values, exc)
    try:
        if not draft:
            raise BadInput("Every passage is empty: there is nothing to save.")
        metadata = textfiles.check_metadata(values)
        saved = textfiles.save_text(
            get_db(),
            Path(current_app.config["SEEDS_DIR"]),
            save_name(name, metadata),
            preview.text_of(draft),
            metadata,
            preview.overrides(draft),
            uniquify=True,
            before_commit=consensus.refresh,
        )
    except (BadInput, sources.CorpusError) as exc:
        return show_preview(preview.refresh(draft), values, name, str(exc))
    title = display_title(metadata["title"], metadata["kind"], metadata["outlet"], metadata["date"])
    content = sum(p.kind == CONTENT for p in draft)
    flash(f"Saved “{title}”: {content} of its {len(draft)} passages are content, ready to label.")
    return redirect(url_for("documents.show", name=saved.name), 303)


def posted_fields() -> tuple[dict[str, str], str]:
    """The metadata fields and document name a preview form carries along."""
    return {f: request.form.get(f, "") for f in EDITABLE_FIELDS}, request.form.get("name", "")


def form_with_error(values: dict[str, str], exc: BadInput, link: str = ""):
    """The add-document form again, filled in, saying what is wrong."""
    page = render_template("adding/new.html", values=values, link=link, error=str(exc), limit=size_limit())
    return page, invalid_status()


def draft_from_form() -> list[preview.DraftPassage]:
    """The draft the preview form carries."""
    form = request.form
    return preview.from_form(form.getlist("passage"), form.getlist("passage_kind"), form.getlist("passage_auto"))


def save_name(requested: str, metadata: dict[str, str]) -> str:
    """A safe file name from what the person typed, or from the title."""
    suffix = ".md" if requested.strip().lower().endswith(".md") else ".txt"
    return textfiles.document_name(requested or metadata["title"] or "pasted", suffix)


def show_preview(draft, values: dict, name: str, error: str | None = None):
    """Render the preview (the whole page, or its block for htmx) with where it will be saved."""
    metadata = {f: values.get(f, "") for f in sources.METADATA_FIELDS}
    name = save_name(name, metadata)
    chosen, same = name, False
    if draft:
        sidecar = sources.format_sidecar(name, metadata, preview.overrides(draft))
        try:
            # Said at once, not only on saving: a merge can make a passage over the size limit.
            textfiles.check_text(preview.text_of(draft))
            chosen, same = textfiles.choose_name(
                get_db(), Path(current_app.config["SEEDS_DIR"]), name, preview.text_of(draft), sidecar, True
            )
        except BadInput as exc:
            error = error or str(exc)
    html = render(
        "adding/preview.html",
        "preview",
        draft=draft,
        values=values,
        name=name,
        chosen=chosen,
        same=same,
        error=error,
        content=sum(p.kind == CONTENT for p in draft),
    )
    return html, (invalid_status() if error else 200)



@bp.get("/feed")
def feed():
    """A feed's entries, each with a box to tick; the ones already in the corpus are marked and linked."""
    url = request.args.get("url", "").strip()
    if not url:
        return feed_page(url)
    try:
        fetched = fetching.fetch(url, accept=fetching.FEED_TYPES, **fetch_settings())
        listed = feeds.mark_known(get_db(), feeds.parse_feed(fetched.data, fetched.url))
    except BadInput as exc:
        return feed_page(url, error=str(exc)), invalid_status()
    return feed_page(url, feed=listed)


@bp.post("/feed")
def import_feed():
    """Fetch and save the ticked entries of a feed, then list what was saved and what failed, and why."""
    form = request.form
    listed = feeds.Feed(form.get("feed_title", ""), [
        feeds.Entry(title, link, date, author) for link, title, date, author in zip(
            form.getlist("entry_url"), form.getlist("entry_title"), form.getlist("entry_date"),
            form.getlist("entry_author"))])
    ticked = set(form.getlist("entry"))
    chosen = [e for e in listed.entries if e.url and e.url in ticked]
    try:
        if not chosen:
            raise BadInput("No entry is ticked: tick the entries to import.")
        outcomes = feeds.import_entries(get_db(), Path(current_app.config["SEEDS_DIR"]), chosen, listed.title,
                                        before_commit=consensus.refresh, **fetch_settings())
    except BadInput as exc:
        return feed_page(form.get("url", ""), feed=feeds.mark_known(get_db(), listed), error=str(exc)), invalid_status()
    return feed_page(form.get("url", ""), feed=feeds.mark_known(get_db(), listed), outcomes=outcomes,
                     message=feeds.summary(outcomes))


def feed_page(url: str, **context) -> str:
    """The feed page, or its entries block alone for htmx."""
    return render("adding/feed.html", "entries", url=url, max_import=feeds.MAX_IMPORT,
                  **{"feed": None, "error": None, "outcomes": None, **context})
