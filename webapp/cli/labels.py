"""`counterpoint labels ...`: move labels between the database and Counterpoint's own label files."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.cli.common import database, loaded_taxonomy, problems, write_label_files
from webapp.labels import fileimport, mirror, reconcile
from webapp.labels.records import LabelFileError


@click.group("labels")
def group() -> None:
    """Labels to and from Counterpoint's label files.

    The label files in labels/passages/, one per document, hold every label and can be
    committed. For other tools' formats (CSV, Label Studio, doccano, Prodigy) see
    `counterpoint exchange`.

    \b
    Example: counterpoint labels export
    """


@group.command("export")
@click.pass_obj
def export_command(app) -> None:
    """Write every label in the database to labels/passages/ (deterministic, atomic).

    \b
    Example: counterpoint labels export
    """
    labels_dir = Path(app.config["LABELS_DIR"])
    try:
        with database(app) as db:
            written = reconcile.export_all(db, labels_dir)
    except OSError as exc:
        raise click.ClickException(f"could not write the label files: {exc}") from None
    click.echo(f"Wrote {len(written)} label files to {labels_dir / mirror.PASSAGES_FOLDER}.")


@group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_command(app, files: tuple[Path, ...]) -> None:
    """Load label files into the database: every record, or none if any is wrong.

    Each record is checked (topic, stance, passage exists, passage text unchanged) and every
    problem is listed with its line. Each passage and annotator in the files then gets exactly
    the labels the files give it; changes go into the history and into labels/passages/.

    \b
    Example: counterpoint labels import ~/Downloads/alice.jsonl
    """
    try:
        with database(app) as db:
            topics = loaded_taxonomy(db).ids
            changes = fileimport.import_files(db, list(files), topics)
            write_label_files(app, db, {c.document for c in changes})
    except LabelFileError as exc:
        raise problems("nothing was imported; fix these and run it again:", exc.problems) from None
    click.echo(f"Imported {len(files)} file(s): labels changed on {len(changes)} passage(s).")
