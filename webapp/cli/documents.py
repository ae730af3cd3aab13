"""`counterpoint documents ...`: add documents to the corpus, as text files, links or pre-split JSONL."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import click

from webapp.cli.common import database, problems
from webapp.corpus import feeds, fetching, linked, sources, taxonomy, textfiles
from webapp.corpus.sources import CorpusError
from webapp.corpus.taxonomy import TaxonomyError
from webapp.labels import batches, chunked, consensus, editor


@click.group("documents")
def group() -> None:
    """Add documents to the corpus.

    Each document is saved to seeds/, so that the database can always be rebuilt, and then
    imported into the database.

    \b
    Example: counterpoint documents import article.html
    """


class FileOrLink(click.ParamType):
    """An http:// or https:// link, kept as text, or else the path of an existing file."""

    name = "file_or_link"
    _file = click.Path(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        """The link as given, or the file's Path; a missing file is refused as click refuses one."""
        if isinstance(value, str) and re.match(r"(?i)https?://", value):
            return value
        return self._file.convert(value, param, ctx)


@group.command("import")
@click.argument("files", nargs=-1, required=True, type=FileOrLink())
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
def import_command(app, files: tuple[Path | str, ...], jsonl: bool, add_topics: bool, annotator: str | None,
                   name: str | None, **options: str | None) -> None:
    """Add documents to seeds/ and the database: text, Markdown or HTML files, links, or pre-split JSONL.

    A text file's metadata comes from the options, else from a sidecar FILE.toml beside it
    (title = "...", outlet = "...", as in seeds/sources.toml), else from what an HTML page
    declares. A link (http:// or https://) is fetched, and its metadata comes from the options,
    else from the page; a link or text already in the corpus is skipped, naming that document.
    With --jsonl each line is {"document", "text", "title"?, "outlet"?, "date"?,
    "labels"?: [{"topic", "stance", "holder"?, "annotator"?, "topic_target"?}]}: passages are
    kept exactly as given, and labels are stored like hand labels. Nothing changes if any input
    is bad, and importing the same file again changes nothing. A feed's link is the exception:
    it imports the feed's newest entries not in the corpus yet, a batch a run, each on its own.

    \b
    Example: counterpoint documents import article.html --outlet "Le Soir" --date 2024-01-28
    Example: counterpoint documents import https://example.org/news/harbour-wall
    """
    if name and (jsonl or len(files) > 1):
        raise click.UsageError("--name works with one text file only")
    if jsonl and any(isinstance(f, str) for f in files):
        raise click.UsageError("--jsonl reads files only, not links")
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


def _import_texts(app, db, inputs: tuple[Path | str, ...], options: dict[str, str], name: str | None) -> None:
    """Read (or fetch) and check every input before saving any, so that one bad input stops the import.

    A document from a link is named after its title, and takes `name-2`... when that is taken;
    a file's name, or one given with --name, is refused when taken, as before. A feed's entries
    are imported last, each on its own (`feeds.import_new`): one failing entry spares the others.
    """
    limit = app.config.get("MAX_CONTENT_LENGTH")
    prepared: list[tuple[textfiles.TextFile, bool]] = []  # (document, may be renamed)
    skipped: list[tuple[str, str]] = []
    found_feeds: list[fetching.Fetched] = []
    with click.progressbar(_unique_links(inputs), label="Reading", show_pos=True) as bar:
        for item in bar:
            read = textfiles.read_text_file(item, options, limit, name) if isinstance(item, Path) else (
                _read_link(app, db, item, options, name))
            if isinstance(read, fetching.Fetched):
                found_feeds.append(read)
            elif isinstance(read, str):
                skipped.append((item, read))
            else:
                prepared.append((read, isinstance(item, str) and name is None))
    seeds = Path(app.config["SEEDS_DIR"])
    textfiles.check_new_names(db, seeds, [p for p, renamable in prepared if not renamable])
    # Fixed names first: a link's document gives way to a file of the same name, never the reverse.
    prepared.sort(key=lambda pair: pair[1])
    with click.progressbar(prepared, label="Importing", show_pos=True) as bar:
        saved = [textfiles.save_text(db, seeds, p.name, p.text, p.metadata, uniquify=renamable,
                                     before_commit=consensus.refresh) for p, renamable in bar]
    for link, known in skipped:
        click.echo(f"{link}: already in the corpus: {known}")
    for one in saved:
        _report(one)
    for fetched in found_feeds:
        outcomes = feeds.import_new(db, seeds, fetched, before_commit=consensus.refresh, **_fetch_options(app))
        for outcome in outcomes:
            if outcome.saved:
                _report(outcome.saved)
        click.secho(f"{fetched.url}: {feeds.summary(outcomes)}", fg="yellow" if any(o.error for o in outcomes) else None)


def _report(saved: textfiles.Saved) -> None:
    state = "unchanged" if saved.result.unchanged else f"{saved.result.passages} passages"
    click.echo(f"seeds/{saved.name}: {state}")


def _unique_links(inputs: tuple[Path | str, ...]) -> list[Path | str]:
    """The inputs without a link given twice (in two spellings of one address, say)."""
    seen: set[str] = set()
    kept = []
    for item in inputs:
        key = fetching.normalise_url(item) if isinstance(item, str) else None
        if key is None or key not in seen:
            kept.append(item)
            seen.add(key)
    return kept


def _fetch_options(app) -> dict:
    """`fetching.fetch` options for the command line, which runs on the user's own machine: private
    addresses allowed."""
    return linked.fetch_options(app.config, allow_private=True)


def _read_link(app, db, link: str, options: dict[str, str], name: str | None):
    """Fetch a link: the TextFile to import, the name of the document it already is, or a feed's Fetched."""
    try:
        opened = linked.open_link(db, link, **_fetch_options(app))
        if opened.known is not None:
            return opened.known
        if opened.feed:
            if name:
                raise textfiles.BadInput("--name names one document, not a feed's entries.")
            # A broken feed stops the import before anything is saved.
            feeds.parse_feed(opened.feed.data, opened.feed.url)
            return opened.feed
        found = opened.found
        metadata = textfiles.check_metadata({f: options.get(f) or found.get(f, "") for f in sources.METADATA_FIELDS})
        chosen = (textfiles.text_document_name(name) if name
                  else fetching.document_name_for(opened.fetched, metadata["title"]))
    except fetching.FetchError:
        # Its message names the address already.
        raise
    except textfiles.BadInput as exc:
        raise textfiles.BadInput(f"{link}: {exc}") from None
    return textfiles.TextFile(chosen, opened.text, metadata)


def _import_jsonl(app, db, files: tuple[Path, ...], add_topics: bool, annotator: str) -> None:
    """Check every file first, streaming; each file is then saved in one transaction, a chunk at a time."""
    labels_dir = Path(app.config["LABELS_DIR"])
    path = labels_dir / "taxonomy.toml"
    # A new corpus may start from a batch: --add-topics then writes the taxonomy file itself.
    topics = () if add_topics and not path.exists() else taxonomy.load(path).ids
    updated = editor.now()
    # The spools hold each file's checked lines until it is saved; next to the database, where a
    # large import has room, not in a small /tmp.
    with tempfile.TemporaryDirectory(dir=Path(app.config["DATABASE"]).parent) as scratch:
        scanned = []
        for number, path in enumerate(files):
            reader, spool = batches.LineReader(topics, annotator, updated, add_topics), Path(scratch) / str(number)
            with click.progressbar(length=path.stat().st_size, label=f"Checking {path.name}") as bar:
                scanned.append((reader, chunked.scan(path, reader, spool, bar.update), spool))
            # A later file may use the topics an earlier one adds.
            topics = topics + tuple(reader.new_topics)
        for path, (reader, metadata, spool) in zip(files, scanned):
            with click.progressbar(length=path.stat().st_size, label=f"Importing {path.name}") as bar:
                saved = chunked.save(db, Path(app.config["SEEDS_DIR"]), labels_dir, path, reader, metadata, spool,
                                     bar.update)
            _report_batch(path, saved)


def _report_batch(path: Path, saved: batches.BatchSaved) -> None:
    """Say what importing one batch file stored, and which topics it added."""
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
