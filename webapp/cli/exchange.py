"""`counterpoint exchange ...`: labels to and from other tools (CSV, Label Studio, doccano, Prodigy)."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.cli.common import database, loaded_taxonomy, problems, write_label_files
from webapp.corpus import taxonomy
from webapp.interchange import formats, transfer
from webapp.store.files import atomic_write

EXPORT_FORMATS = [*formats.FORMATS, "labelstudio-config"]


@click.group("exchange")
def group() -> None:
    """Labels to and from other annotation tools.

    CSV for spreadsheets, pandas and R; Label Studio, doccano and Prodigy files for those
    tools. For Counterpoint's own label files in labels/passages/ see `counterpoint labels`.

    \b
    Example: counterpoint exchange export --format csv --output labels.csv
    """


@group.command("export")
@click.option("--format", "format_name", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True,
              help="csv: one row per label; labelstudio, doccano, prodigy: files those tools import; "
                   "labelstudio-config: the Label Studio labeling interface for the labelstudio file.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.pass_obj
def export_command(app, format_name: str, output: Path | None) -> None:
    """Export every current label of a content passage, for spreadsheets or annotation tools.

    \b
    Example: counterpoint exchange export --format labelstudio --output tasks.json
    """
    with database(app) as db:
        tax = taxonomy.from_db(db)
        if format_name == "labelstudio-config":
            text = formats.labelstudio_config(tax)
        else:
            text = formats.FORMATS[format_name].export(transfer.label_rows(db), tax)
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)
        click.echo(f"Wrote {output}.", err=True)


@group.command("import")
@click.option("--format", "format_name", type=click.Choice(list(formats.FORMATS)), required=True,
              help="The format of FILE, as `counterpoint exchange export` writes it.")
@click.option("--annotator", help="Whose labels these are when the file does not say (default: ANNOTATOR).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_command(app, format_name: str, annotator: str | None, file: Path) -> None:
    """Import labels from CSV, Label Studio, doccano or Prodigy: all of them, or none if any is wrong.

    Each passage is found by its document and position (or, failing those, by its exact text),
    and each passage and annotator in the file gets exactly the labels the file gives it.
    Problems are listed with their line or task number; changes go into the history and into
    labels/passages/.

    \b
    Example: counterpoint exchange import --format labelstudio ~/Downloads/project-1-at-2026.json
    """
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file.name}: not UTF-8 (byte {exc.start}: {exc.reason})") from None
    try:
        with database(app) as db:
            tax = loaded_taxonomy(db)
            items = formats.FORMATS[format_name].parse(text, tax, annotator or app.config["ANNOTATOR"])
            changes = transfer.import_items(db, items, f"Imported from {file.name}")
            write_label_files(app, db, {c.document for c in changes})
    except transfer.ExchangeError as exc:
        raise problems(f"nothing was imported from {file.name}; fix these and run it again:", exc.problems) from None
    click.echo(f"Imported {len(items)} annotations from {file.name}: labels changed on {len(changes)} of them.")
