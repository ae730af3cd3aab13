"""The `counterpoint` command: load a corpus, serve it, move labels between files and database."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from webapp import create_app
from webapp.corpus import sources, splitting, taxonomy, textfiles
from webapp.corpus.sources import CorpusError
from webapp.corpus.taxonomy import TaxonomyError
from webapp.interchange import formats, transfer
from webapp.labels import accounts, batches, editor, fileimport, mirror, reconcile
from webapp.labels.accounts import AuthError
from webapp.labels.build import build
from webapp.labels.records import LabelFileError
from webapp.store.db import connect
from webapp.store.files import atomic_write
from webapp.web import serving
from webapp.web.access import SharedModeError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    help="Corpus folder holding seeds/ and labels/ (default: the current directory).",
)
@click.pass_context
def main(ctx: click.Context, corpus: Path | None) -> None:
    """Counterpoint: compare viewpoints across articles, topic by topic.

    Example: counterpoint --corpus ~/my-corpus run
    """
    ctx.obj = create_app(corpus=corpus)


def _build(app) -> None:
    """Build the database from the corpus folder, turning file problems into clear CLI errors."""
    config = app.config
    db = connect(config["DATABASE"])
    try:
        # Files that lag behind committed saves are rewritten first, or the build would read
        # their older labels back over the newer ones.
        repaired = reconcile.reconcile(db, Path(config["LABELS_DIR"]), Path(config["SEEDS_DIR"]))
        report = build(db, Path(config["SEEDS_DIR"]), Path(config["LABELS_DIR"]))
        repaired.differing = reconcile.differing(db, Path(config["LABELS_DIR"]))
    except LabelFileError as exc:
        raise click.ClickException("label files have problems:\n  " + "\n  ".join(exc.problems)) from None
    except (TaxonomyError, CorpusError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.close()
    click.echo(
        f"Loaded {report.documents} documents ({report.passages} passages) and {report.labels} labels"
        f" into {config['DATABASE']}."
    )
    if report.changed_documents:
        click.echo(f"Updated: {', '.join(report.changed_documents)}")
    if report.moved_labels:
        click.echo(f"{report.moved_labels} labels followed their text to a new position.")
    if report.needs_review:
        click.secho(
            f"{report.needs_review} labels need review: their passage text changed or vanished.", fg="yellow"
        )
    _say_reconciled(repaired)


def _reconcile(app) -> None:
    """Rewrite label files that lag behind the database, and say what was repaired."""
    db = connect(app.config["DATABASE"])
    try:
        repaired = reconcile.reconcile(db, Path(app.config["LABELS_DIR"]), Path(app.config["SEEDS_DIR"]))
    finally:
        db.close()
    _say_reconciled(repaired)


def _report_differing(app) -> None:
    """Say which label files differ from the database (every file is read: seconds at 100k labels)."""
    db = connect(app.config["DATABASE"])
    try:
        report = reconcile.Report(differing=reconcile.differing(db, Path(app.config["LABELS_DIR"])))
    finally:
        db.close()
    _say_reconciled(report)


def _say_reconciled(report: reconcile.Report) -> None:
    for line in report.messages():
        click.secho(line, fg="yellow")


@main.command("load")
@click.pass_obj
def load_command(app) -> None:
    """Build or update the database from seeds/ and labels/ (safe to run again).

    Example: counterpoint load
    """
    _build(app)


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--debug/--no-debug", default=False, help="Reload on code changes, show tracebacks.")
@click.pass_obj
def run_command(app, host: str, port: int, debug: bool) -> None:
    """Load the corpus, then serve it with Flask's development server (for one local user).

    Example: counterpoint run --port 5001
    """
    _build(app)
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@main.group("labels")
def labels_group() -> None:
    """Move labels between the database and the label files.

    Example: counterpoint labels export
    """


@labels_group.command("export")
@click.pass_obj
def export_command(app) -> None:
    """Write every label in the database to labels/passages/ (deterministic, atomic).

    Example: counterpoint labels export
    """
    db = connect(app.config["DATABASE"])
    try:
        written = reconcile.export_all(db, Path(app.config["LABELS_DIR"]))
    except OSError as exc:
        raise click.ClickException(f"could not write the label files: {exc}") from None
    finally:
        db.close()
    click.echo(f"Wrote {len(written)} label files to {Path(app.config['LABELS_DIR']) / mirror.PASSAGES_FOLDER}.")


@labels_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_command(app, files: tuple[Path, ...]) -> None:
    """Load label files into the database: every record, or none if any is wrong.

    Each record is checked (topic, stance, passage exists, passage text unchanged) and every
    problem is listed with its line. Each passage and annotator in the files then gets exactly
    the labels the files give it; changes go into the history and into labels/passages/.

    Example: counterpoint labels import ~/Downloads/alice.jsonl
    """
    db = connect(app.config["DATABASE"])
    try:
        topics = taxonomy.from_db(db).ids
        if not topics:
            raise click.ClickException("the database has no topics yet; run `counterpoint load` first")
        changes = fileimport.import_files(db, list(files), topics)
        editor.write_files(db, Path(app.config["LABELS_DIR"]), {c.document for c in changes})
    except LabelFileError as exc:
        raise click.ClickException(
            "nothing was imported; fix these and run it again:\n  " + "\n  ".join(exc.problems)
        ) from None
    finally:
        db.close()
    click.echo(f"Imported {len(files)} file(s): labels changed on {len(changes)} passage(s).")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: config WORKERS, 2).")
@click.option("--shared", is_flag=True, help="Several annotators: each signs in to write (needs a secret key).")
@click.pass_obj
def serve_command(app, host: str, port: int, workers: int | None, shared: bool) -> None:
    """Serve the corpus with gunicorn, for a team or a long-running install.

    The database is loaded from seeds/ and labels/ first when it is empty; otherwise it is
    served as it is (run `counterpoint load` after editing files by hand). Without --shared,
    labels are saved as the configured ANNOTATOR and nobody signs in. With --shared, writes
    need an annotator account (see `counterpoint annotators`), and the app refuses to start
    without an explicit COUNTERPOINT_SECRET_KEY.

    Example: COUNTERPOINT_SECRET_KEY=... counterpoint serve --shared --workers 4
    """
    if shared and not app.config["SHARED"]:
        try:
            app = create_app({"SHARED": True}, corpus=Path(app.config["CORPUS"]))
        except SharedModeError as exc:
            raise click.ClickException(str(exc)) from None
    checked = _is_empty(app)
    if checked:
        _build(app)
    else:
        # Lagging files are repaired before serving; the full comparison of every file runs
        # once the workers are up, so that a large corpus does not delay the first page.
        _reconcile(app)
    workers = workers or int(app.config["WORKERS"])
    mode = "shared: annotators sign in" if app.config["SHARED"] else f"local: labelling as {app.config['ANNOTATOR']}"
    click.echo(f"Serving {app.config['DATABASE']} on http://{host}:{port}/ with {workers} workers ({mode}).")
    serving.serve(app, host, port, workers, on_ready=None if checked else lambda: _report_differing(app))


def _is_empty(app) -> bool:
    db = connect(app.config["DATABASE"])
    try:
        return db["documents"].count == 0
    finally:
        db.close()


@main.group("annotators")
def annotators_group() -> None:
    """Manage the annotator accounts used in shared mode.

    Example: counterpoint annotators add alice
    """


@annotators_group.command("add")
@click.argument("name")
@click.password_option(help="The password (asked for when not given).")
@click.pass_obj
def annotators_add(app, name: str, password: str) -> None:
    """Create an annotator account; the password is stored hashed.

    Example: counterpoint annotators add alice
    """
    db = connect(app.config["DATABASE"])
    try:
        accounts.add_annotator(db, name, password)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.close()
    click.echo(f"Added annotator {name}.")


@annotators_group.command("remove")
@click.argument("name")
@click.pass_obj
def annotators_remove(app, name: str) -> None:
    """Delete an annotator account; their labels and history stay.

    Example: counterpoint annotators remove alice
    """
    db = connect(app.config["DATABASE"])
    try:
        removed = accounts.remove_annotator(db, name)
    finally:
        db.close()
    if not removed:
        raise click.ClickException(f"there is no annotator called {name}")
    click.echo(f"Removed annotator {name}.")


@annotators_group.command("list")
@click.pass_obj
def annotators_list(app) -> None:
    """List annotator accounts with when each was added.

    Example: counterpoint annotators list
    """
    db = connect(app.config["DATABASE"])
    try:
        rows = accounts.annotators(db)
    finally:
        db.close()
    if not rows:
        click.echo("No annotator accounts yet; add one with `counterpoint annotators add NAME`.")
    for row in rows:
        click.echo(f"{row['name']}\t{row['created']}")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jsonl", is_flag=True, help="FILES hold pre-split passages, one JSON object per line.")
@click.option("--add-topics", is_flag=True, help="With --jsonl: add topics the taxonomy lacks to labels/taxonomy.toml.")
@click.option("--annotator", help="Who made labels that name no annotator (default: the ANNOTATOR setting).")
@click.option("--name", help="Document name to save one text file under (default: from its file name).")
@click.option("--title", help="Title of the document(s).")
@click.option("--author", help="Author of the document(s).")
@click.option("--outlet", help="Outlet: newspaper, site or publisher.")
@click.option("--date", help="Publication date: 2024-03-09, 2024-03 or 2024.")
@click.option("--kind", help="Kind of document: op-ed, news report, interview...")
@click.option("--url", help="URL of the original.")
@click.pass_obj
def import_documents_command(app, files: tuple[Path, ...], jsonl: bool, add_topics: bool, annotator: str | None,
                             name: str | None, **options: str | None) -> None:
    """Add documents to seeds/ and the database: text, Markdown or HTML files, or pre-split JSONL.

    A text file's metadata comes from the options, else from a sidecar FILE.toml beside it
    (title = "...", outlet = "...", as in seeds/sources.toml), else from what an HTML page
    declares. With --jsonl each line is {"document", "text", "title"?, "outlet"?, "date"?,
    "labels"?: [{"topic", "stance", "holder"?, "annotator"?, "topic_target"?}]}: passages are
    kept exactly as given, and labels are stored like hand labels. Nothing changes if any input
    is bad, and importing the same file again changes nothing.

    Example: counterpoint import article.html --outlet "Le Soir" --date 2024-01-28
    """
    if name and (jsonl or len(files) > 1):
        raise click.UsageError("--name works with one text file only")
    db = connect(app.config["DATABASE"])
    try:
        if jsonl:
            _import_jsonl(app, db, files, add_topics, annotator or app.config["ANNOTATOR"])
        else:
            _import_texts(app, db, files, {k: v for k, v in options.items() if v}, name)
        db.analyze()
    except textfiles.BadInput as exc:
        raise click.ClickException("nothing was imported:\n  " + "\n  ".join(exc.problems)) from None
    except (TaxonomyError, CorpusError) as exc:
        raise click.ClickException(f"nothing was imported: {exc}") from None
    finally:
        db.close()


def _import_texts(app, db, files: tuple[Path, ...], options: dict[str, str], name: str | None) -> None:
    """Check every file first, so that one bad file stops the import before anything is written."""
    limit = app.config.get("MAX_CONTENT_LENGTH")
    with click.progressbar(files, label="Reading", show_pos=True) as bar:
        prepared = [textfiles.read_text_file(path, options, limit, name) for path in bar]
    names = [p.name for p in prepared]
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise textfiles.BadInput(f"Two files would both be saved as {twice[0]}; import them one at a time with --name.")
    seeds = Path(app.config["SEEDS_DIR"])
    for p in prepared:
        textfiles.choose_name(db, seeds, p.name, splitting.normalise(p.text), sources.format_sidecar(p.name, p.metadata), False)
    with click.progressbar(prepared, label="Importing", show_pos=True) as bar:
        saved = [textfiles.save_text(db, seeds, p.name, p.text, p.metadata) for p in bar]
    for s in saved:
        state = "unchanged" if s.result.unchanged else f"{s.result.passages} passages"
        click.echo(f"seeds/{s.name}: {state}")


def _import_jsonl(app, db, files: tuple[Path, ...], add_topics: bool, annotator: str) -> None:
    """Parse every file first; each file is then saved in one transaction."""
    labels_dir = Path(app.config["LABELS_DIR"])
    topics = taxonomy.load(labels_dir / "taxonomy.toml").ids
    updated = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    parsed = []
    for path in files:
        text = textfiles.decode(path.read_bytes(), path.name)
        lines = text.split("\n")  # not splitlines(): JSON strings may hold U+2028
        with click.progressbar(length=len(lines), label=f"Reading {path.name}") as bar:
            try:
                parsed.append(batches.parse_jsonl(_counted(lines, bar), topics, annotator, updated, add_topics))
            except textfiles.BadInput as exc:
                raise textfiles.BadInput(str(exc), [f"{path.name} {p}" for p in exc.problems]) from None
        topics = topics + tuple(parsed[-1].new_topics)
    for path, batch in zip(files, parsed):
        saved = batches.save_batch(db, Path(app.config["SEEDS_DIR"]), labels_dir, batch, path.name)
        changed = [r for r in saved.results if not r.unchanged]
        click.echo(
            f"{path.name}: {len(saved.results)} documents ({len(changed)} new or changed),"
            f" {sum(r.passages for r in saved.results)} passages, {saved.labels} labels stored,"
            f" in seeds/{saved.seed_file}."
        )
        if saved.topics:
            click.echo(f"Added topics to labels/taxonomy.toml: {', '.join(saved.topics)}. Check their targets.")


def _counted(lines: list[str], bar, step: int = 1000):
    """Yield lines, moving the progress bar in steps so that drawing it costs nothing."""
    for number, line in enumerate(lines, start=1):
        if number % step == 0:
            bar.update(step)
        yield line
    bar.update(len(lines) % step)


EXPORT_FORMATS = [*formats.FORMATS, "labelstudio-config"]


@main.command("export")
@click.option("--format", "format_name", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True,
              help="csv: one row per label; labelstudio, doccano, prodigy: files those tools import; "
                   "labelstudio-config: the Label Studio labeling interface for the labelstudio file.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.pass_obj
def export_labels_command(app, format_name: str, output: Path | None) -> None:
    """Export every current label of a content passage, for spreadsheets or annotation tools.

    Example: counterpoint export --format labelstudio --output tasks.json
    """
    db = connect(app.config["DATABASE"])
    try:
        tax = taxonomy.from_db(db)
        if format_name == "labelstudio-config":
            text = formats.labelstudio_config(tax)
        else:
            text = formats.FORMATS[format_name].export(transfer.label_rows(db), tax)
    finally:
        db.close()
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)
        click.echo(f"Wrote {output}.", err=True)


@main.command("import-labels")
@click.option("--format", "format_name", type=click.Choice(list(formats.FORMATS)), required=True,
              help="The format of FILE, as `counterpoint export` writes it.")
@click.option("--annotator", help="Whose labels these are when the file does not say (default: ANNOTATOR).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_labels_command(app, format_name: str, annotator: str | None, file: Path) -> None:
    """Import labels from CSV, Label Studio, doccano or Prodigy: all of them, or none if any is wrong.

    Each passage is found by its document and position (or, failing those, by its exact text),
    and each passage and annotator in the file gets exactly the labels the file gives it.
    Problems are listed with their line or task number; changes go into the history and into
    labels/passages/.

    Example: counterpoint import-labels --format labelstudio ~/Downloads/project-1-at-2026.json
    """
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file.name}: not UTF-8 (byte {exc.start}: {exc.reason})") from None
    db = connect(app.config["DATABASE"])
    try:
        tax = taxonomy.from_db(db)
        if not tax.topics:
            raise click.ClickException("the database has no topics yet; run `counterpoint load` first")
        items = formats.FORMATS[format_name].parse(text, tax, annotator or app.config["ANNOTATOR"])
        changes = transfer.import_items(db, items, f"Imported from {file.name}")
        editor.write_files(db, Path(app.config["LABELS_DIR"]), {c.document for c in changes})
    except transfer.ExchangeError as exc:
        raise click.ClickException(
            f"nothing was imported from {file.name}; fix these and run it again:\n  " + "\n  ".join(exc.problems)
        ) from None
    finally:
        db.close()
    click.echo(f"Imported {len(items)} annotations from {file.name}: labels changed on {len(changes)} of them.")
