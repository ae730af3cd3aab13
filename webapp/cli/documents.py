"""`counterpoint documents ...`: add documents to the corpus, as text files or pre-split JSONL."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.cli.common import database, problems
from webapp.corpus import taxonomy, textfiles
from webapp.corpus.sources import CorpusError
from webapp.corpus.taxonomy import TaxonomyError
from webapp.labels import batches, editor


@click.group("documents")
def group() -> None:
    """Add documents to the corpus.

    Each document is saved to seeds/, so that the database can always be rebuilt, and then
    imported into the database.

    \b
    Example: counterpoint documents import article.html
    """


@group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jsonl", is_flag=True, help="FILES hold pre-split passages, one JSON object per line.")
@click.option("--add-topics", is_flag=True, help="With --jsonl: add topics the taxonomy lacks to labels/taxonomy.toml.")
@click.option("--annotator", help="Who made labels that name no annotator (default: the ANNOTATOR setting).")
@click.option("--name", help="Document name to save one text file under, ending in .txt or .md; a bare name gets"
              " .txt (default: from its file name).")
@click.option("--title", help="Title of the document(s).")
@click.option("--author", help="Author of the document(s).")
@click.option("--outlet", help="Outlet: newspaper, site or publisher.")
@click.option("--date", help="Publication date: 2024-03-09, 2024-03 or 2024.")
@click.option("--kind", help="Kind of document: op-ed, news report, interview...")
@click.option("--url", help="URL of the original.")
@click.pass_obj
def import_command(app, files: tuple[Path, ...], jsonl: bool, add_topics: bool, annotator: str | None,
                   name: str | None, **options: str | None) -> None:
    """Add documents to seeds/ and the database: text, Markdown or HTML files, or pre-split JSONL.

    A text file's metadata comes from the options, else from a sidecar FILE.toml beside it
    (title = "...", outlet = "...", as in seeds/sources.toml), else from what an HTML page
    declares. With --jsonl each line is {"document", "text", "title"?, "outlet"?, "date"?,
    "labels"?: [{"topic", "stance", "holder"?, "annotator"?, "topic_target"?}]}: passages are
    kept exactly as given, and labels are stored like hand labels. Nothing changes if any input
    is bad, and importing the same file again changes nothing.

    \b
    Example: counterpoint documents import article.html --outlet "Le Soir" --date 2024-01-28
    """
    if name and (jsonl or len(files) > 1):
        raise click.UsageError("--name works with one text file only")
    try:
        with database(app) as db:
            if jsonl:
                _import_jsonl(app, db, files, add_topics, annotator or app.config["ANNOTATOR"])
            else:
                _import_texts(app, db, files, {k: v for k, v in options.items() if v}, name)
            # A bulk import shifts the statistics SQLite's planner uses to pick the covering indexes.
            db.analyze()
    except textfiles.BadInput as exc:
        raise problems("nothing was imported:", exc.problems) from None
    except (TaxonomyError, CorpusError) as exc:
        raise click.ClickException(f"nothing was imported: {exc}") from None


def _import_texts(app, db, files: tuple[Path, ...], options: dict[str, str], name: str | None) -> None:
    """Read and check every file before saving any, so that one bad file stops the import."""
    limit = app.config.get("MAX_CONTENT_LENGTH")
    with click.progressbar(files, label="Reading", show_pos=True) as bar:
        prepared = [textfiles.read_text_file(path, options, limit, name) for path in bar]
    seeds = Path(app.config["SEEDS_DIR"])
    textfiles.check_new_names(db, seeds, prepared)
    with click.progressbar(prepared, label="Importing", show_pos=True) as bar:
        saved = [textfiles.save_text(db, seeds, p.name, p.text, p.metadata) for p in bar]
    for s in saved:
        state = "unchanged" if s.result.unchanged else f"{s.result.passages} passages"
        click.echo(f"seeds/{s.name}: {state}")


def _import_jsonl(app, db, files: tuple[Path, ...], add_topics: bool, annotator: str) -> None:
    """Parse every file first; each file is then saved in one transaction."""
    labels_dir = Path(app.config["LABELS_DIR"])
    path = labels_dir / "taxonomy.toml"
    # A new corpus may start from a batch: --add-topics then writes the taxonomy file itself.
    topics = () if add_topics and not path.exists() else taxonomy.load(path).ids
    updated = editor.now()
    parsed = []
    for path in files:
        lines = batches.read_lines(path)
        with click.progressbar(length=len(lines), label=f"Reading {path.name}") as bar:
            try:
                parsed.append(batches.parse_jsonl(_counted(lines, bar), topics, annotator, updated, add_topics))
            except textfiles.BadInput as exc:
                raise textfiles.BadInput(str(exc), [f"{path.name} {p}" for p in exc.problems]) from None
        # A later file may use the topics an earlier one adds.
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
        if saved.without_target:
            click.secho(
                f"No target proposition given for: {', '.join(saved.without_target)}. Pages show them as"
                " “target missing” until you state one (Topics → Edit, or labels/taxonomy.toml).",
                fg="yellow",
            )


def _counted(lines: list[str], bar, step: int = 1000):
    """Yield lines, moving the progress bar in steps so that drawing it costs nothing."""
    for number, line in enumerate(lines, start=1):
        if number % step == 0:
            bar.update(step)
        yield line
    bar.update(len(lines) % step)
