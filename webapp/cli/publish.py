"""`counterpoint publish OUT/`: the comparison as a static, read-only site."""

from __future__ import annotations

from pathlib import Path

import click

from webapp.web import publishing


@click.command("publish")
@click.argument("out", metavar="OUT", type=click.Path(path_type=Path))
@click.pass_obj
def command(app, out: Path) -> None:
    """Write a static, read-only copy of the comparison into OUT, for any static file host or a disk.

    The overview, every topic in each view, every document and the charts, each page saying when
    and from which data version it was published, and a search that works offline. OUT must be
    new, empty, or an earlier publish, which is replaced only once the new site is complete.

    \b
    Example: counterpoint publish site/ && python -m http.server -d site/
    """
    # Published pages are what anyone may read: rendered as the local app sees them, never
    # behind a sign-in, whatever mode the corpus is served in.
    app.config.update(SHARED=False, READS_REQUIRE_LOGIN=False)
    try:
        publishing.check_destination(out)
        site, pages = publishing.plan(app)
        with click.progressbar(length=len(pages), label="Publishing pages") as bar:
            publishing.publish(app, out, site, pages, on_page=lambda page: bar.update(1))
    except publishing.PublishError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"could not write the site into {out}: {exc.strerror or exc}") from None
    click.echo(f"Published {len(pages)} pages into {out}; open {out / 'index.html'} in a browser.")
