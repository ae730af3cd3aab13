"""The `counterpoint` command: load a corpus, serve it, move labels between files and database."""

from __future__ import annotations

from pathlib import Path

import click

from . import create_app, labels
from .build import build
from .corpus import CorpusError
from .db import connect
from .labelfile import LabelFileError
from .taxonomy import TaxonomyError


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
        report = build(db, Path(config["SEEDS_DIR"]), Path(config["LABELS_DIR"]))
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
        written = labels.export(db, Path(app.config["LABELS_DIR"]))
    finally:
        db.close()
    click.echo(f"Wrote {len(written)} label files to {Path(app.config['LABELS_DIR']) / labels.PASSAGES_FOLDER}.")
