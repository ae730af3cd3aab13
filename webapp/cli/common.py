"""What the commands share: the corpus database, its taxonomy, and errors that list problems."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from webapp.corpus import taxonomy
from webapp.labels import editor
from webapp.store.db import connect


def database(app) -> closing:
    """The corpus database, for a `with` block that closes it however the command ends."""
    return closing(connect(app.config["DATABASE"]))


def loaded_taxonomy(db) -> taxonomy.Taxonomy:
    """The database's taxonomy; refuses with advice when nothing has been loaded yet."""
    tax = taxonomy.from_db(db)
    if not tax.topics:
        raise click.ClickException("the database has no topics yet; run `counterpoint load` first")
    return tax


def problems(heading: str, found: list[str]) -> click.ClickException:
    """A user error listing each problem on its own line under `heading`."""
    return click.ClickException(heading + "\n  " + "\n  ".join(found))


def write_label_files(app, db, documents: set[str]) -> None:
    """Write the changed documents' label files; a failed write is a clear error, not a traceback.

    The labels are already in the database by then, and the message says how to catch the files up.
    """
    try:
        editor.write_files(db, Path(app.config["LABELS_DIR"]), documents)
    except editor.LabelFilesError as exc:
        raise click.ClickException(str(exc)) from None
