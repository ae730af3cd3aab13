"""`counterpoint annotators ...`: the accounts annotators sign in with in shared mode."""

from __future__ import annotations

import click

from webapp.cli.common import database
from webapp.labels import accounts
from webapp.labels.accounts import AuthError


@click.group("annotators")
def group() -> None:
    """Manage the annotator accounts used in shared mode.

    \b
    Example: counterpoint annotators add alice
    """


@group.command("add")
@click.argument("name")
@click.password_option(help="The password (asked for when not given).")
@click.pass_obj
def add_command(app, name: str, password: str) -> None:
    """Create an annotator account; the password is stored hashed.

    \b
    Example: counterpoint annotators add alice
    """
    try:
        with database(app) as db:
            accounts.add_annotator(db, name, password)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Added annotator {name}.")


@group.command("remove")
@click.argument("name")
@click.pass_obj
def remove_command(app, name: str) -> None:
    """Delete an annotator account; their labels and history stay.

    \b
    Example: counterpoint annotators remove alice
    """
    with database(app) as db:
        removed = accounts.remove_annotator(db, name)
    if not removed:
        raise click.ClickException(f"there is no annotator called {name}")
    click.echo(f"Removed annotator {name}.")


@group.command("list")
@click.pass_obj
def list_command(app) -> None:
    """List annotator accounts with when each was added.

    \b
    Example: counterpoint annotators list
    """
    with database(app) as db:
        rows = accounts.annotators(db)
    if not rows:
        click.echo("No annotator accounts yet; add one with `counterpoint annotators add NAME`.")
    for row in rows:
        click.echo(f"{row['name']}\t{row['created']}")
