"""The `counterpoint` command: verbs about the app itself, and a group per noun for the rest.

`load`, `run` and `serve` act on the whole app. Everything else is a noun then a verb
(`counterpoint labels export`), so that one word never means two different things.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from webapp import create_app
from webapp.cli import annotators, briefs, documents, exchange, labels, publish
from webapp.cli.common import database, problems
from webapp.corpus import starter
from webapp.corpus.sources import CorpusError
from webapp.corpus.taxonomy import TaxonomyError
from webapp.labels import reconcile
from webapp.labels.build import load_corpus
from webapp.labels.records import LabelFileError
from webapp.web import serving
from webapp.web.security import SettingsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    help="Corpus folder holding seeds/ and labels/ (default: the current directory).",
)
@click.pass_context
def main(ctx: click.Context, corpus: Path | None) -> None:
    """Counterpoint: compare viewpoints across articles, topic by topic.

    load, run and serve act on the whole app; the other commands are a noun then a verb,
    as in `counterpoint labels export`.

    \b
    Example: counterpoint --corpus ~/my-corpus run
    """
    if ctx.invoked_subcommand == "init":
        # The app would make instance/ and a secret key in the corpus folder (by default the
        # current one); starting a corpus must write nothing outside the folder it starts.
        return
    try:
        ctx.obj = create_app(corpus=corpus)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


main.add_command(annotators.group)
main.add_command(documents.group)
main.add_command(exchange.group)
main.add_command(labels.group)
main.add_command(publish.command)
main.add_command(briefs.command)


@main.command("init")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
def init_command(folder: Path) -> None:
    """Start an empty corpus in DIR: seeds/, a taxonomy with no topics yet and a codebook template.

    DIR may be new, empty or hold other files; one that already holds a corpus is left unchanged.

    \b
    Example: counterpoint init ~/my-corpus
    """
    try:
        created = starter.create(folder)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Started an empty corpus in {folder}:")
    for path in created:
        click.echo(f"  {path}{'/' if path.is_dir() else ''}")
    click.echo(
        "\nNext, serve it:\n"
        f"  counterpoint --corpus {shlex.quote(str(folder))} run\n"
        "then open http://127.0.0.1:5000/ in a browser, add your first topic and your first document,\n"
        "and describe each topic in labels/GUIDELINES.md so that every annotator labels alike."
    )


@main.command("load")
@click.pass_obj
def load_command(app) -> None:
    """Build or update the database from seeds/ and labels/ (safe to run again).

    \b
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

    \b
    Example: counterpoint run --port 5001
    """
    _build(app)
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: config WORKERS, 2).")
@click.option("--shared", is_flag=True, help="Several annotators: each signs in to write (needs a secret key).")
@click.pass_obj
def serve_command(app, host: str, port: int, workers: int | None, shared: bool) -> None:
    """Serve the corpus with waitress in several processes, for a team or a long-running install.

    The database is loaded from seeds/ and labels/ first when it is empty; otherwise it is
    served as it is (run `counterpoint load` after editing files by hand). Without --shared,
    labels are saved as the configured ANNOTATOR and nobody signs in. With --shared, writes
    need an annotator account (see `counterpoint annotators`), and the app refuses to start
    without an explicit COUNTERPOINT_SECRET_KEY.

    \b
    Example: COUNTERPOINT_SECRET_KEY=... counterpoint serve --shared --workers 4
    """
    if shared and not app.config["SHARED"]:
        try:
            app = create_app({"SHARED": True}, corpus=Path(app.config["CORPUS"]))
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
    with database(app) as db:
        empty = db["documents"].count == 0
    if empty:
        _build(app)
    else:
        # Lagging files are repaired before serving; the full comparison of every file runs
        # once the workers are up, so that a large corpus does not delay the first page.
        _reconcile(app)
    workers = workers or int(app.config["WORKERS"])
    mode = "shared: annotators sign in" if app.config["SHARED"] else f"local: labelling as {app.config['ANNOTATOR']}"
    click.echo(f"Serving {app.config['DATABASE']} on http://{host}:{port}/ with {workers} workers ({mode}).")
    try:
        serving.serve(app, host, port, workers, on_ready=None if empty else lambda: _report_differing(app))
    except serving.CannotListen as exc:
        raise click.ClickException(str(exc)) from None


def _build(app) -> None:
    """Build the database from the corpus folder, turning file problems into clear CLI errors."""
    config = app.config
    try:
        with database(app) as db:
            report, repaired = load_corpus(db, Path(config["SEEDS_DIR"]), Path(config["LABELS_DIR"]))
    except LabelFileError as exc:
        raise problems("label files have problems:", exc.problems) from None
    except (TaxonomyError, CorpusError) as exc:
        raise click.ClickException(str(exc)) from None
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
    with database(app) as db:
        repaired = reconcile.reconcile(db, Path(app.config["LABELS_DIR"]), Path(app.config["SEEDS_DIR"]))
    _say_reconciled(repaired)


def _report_differing(app) -> None:
    """Say which label files differ from the database (every file is read: seconds at 100k labels)."""
    with database(app) as db:
        report = reconcile.Report(differing=reconcile.differing(db, Path(app.config["LABELS_DIR"])))
    _say_reconciled(report)


def _say_reconciled(report: reconcile.Report) -> None:
    for line in report.messages():
        click.secho(line, fg="yellow")
