"""`counterpoint annotators ...`: the accounts annotators sign in with in shared mode."""

from __future__ import annotations

from contextlib import contextmanager

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
@click.option("--adjudicator", is_flag=True, help="Also allow this annotator to record and withdraw adjudications.")
@click.pass_obj
def add_command(app, name: str, password: str, adjudicator: bool) -> None:
    """Create an annotator account; the password is stored hashed.

    \b
    Example: counterpoint annotators add alice --adjudicator
    """
    with _refusing_errors(), database(app) as db:
        accounts.add_annotator(db, name, password, adjudicator)
    click.echo(f"Added {'adjudicator' if adjudicator else 'annotator'} {name}.")


@group.command("grant")
@click.argument("name")
@click.pass_obj
def grant_command(app, name: str) -> None:
    """Let an existing annotator record and withdraw adjudications.

    \b
    Example: counterpoint annotators grant alice
    """
    with _refusing_errors(), database(app) as db:
        changed = accounts.set_adjudicator(db, name, True)
    click.echo(f"{name} may now adjudicate." if changed else f"{name} could already adjudicate.")


@group.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke_command(app, name: str) -> None:
    """Take the adjudicator role away again; adjudications already made stay.

    \b
    Example: counterpoint annotators revoke alice
    """
    with _refusing_errors(), database(app) as db:
        changed = accounts.set_adjudicator(db, name, False)
    click.echo(f"{name} may no longer adjudicate." if changed else f"{name} could not adjudicate anyway.")


@group.command("password")
@click.argument("name")
@click.password_option(help="The new password (asked for twice, hidden, when not given).")
@click.pass_obj
def password_command(app, name: str, password: str) -> None:
    """Change an annotator's password; every session signed in with the old one ends.

    \b
    Example: counterpoint annotators password alice
    """
    with _refusing_errors(), database(app) as db:
        accounts.set_password(db, name, password)
    click.echo(f"Changed the password of {name}; their existing sessions are signed out.")


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
    """List annotator accounts with when each was added and whether it may adjudicate.

    \b
    Example: counterpoint annotators list
    """
    with database(app) as db:
        rows = accounts.annotators(db)
    if not rows:
        click.echo("No annotator accounts yet; add one with `counterpoint annotators add NAME`.")
    for row in rows:
        click.echo(f"{row['name']}\t{row['created']}\t{'adjudicator' if row['adjudicator'] else 'annotator'}")


@contextmanager
def _refusing_errors():
    """Turn an account error into a clean command-line refusal instead of a traceback."""
    try:
        yield
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
