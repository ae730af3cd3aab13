"""`counterpoint brief TOPIC`: a topic's brief as Markdown, a standalone HTML page or a PDF.

The HTML is the app's own brief page, rendered through a test client with its stylesheets
inlined, so the file opens anywhere; the PDF is that page printed by headless Chromium
(Playwright's `page.pdf`), with the page's print stylesheet.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import click

from webapp import create_app
from webapp.cli.common import database, loaded_taxonomy
from webapp.findings import brief as briefs
from webapp.store.files import atomic_write

FORMATS = {"md": "Markdown", "html": "HTML", "pdf": "PDF"}
# Chromium's background services try the network at start, and root may not sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
# What only works on the server: scripts, the icon, the site's header, the session's CSRF token.
_SERVER_ONLY = [
    re.compile(r'<script src="[^"]*"( defer)?></script>\n?'),
    re.compile(r'<link rel="icon"[^>]*>\n?'),
    re.compile(r'<meta name="csrf-token"[^>]*>\n?'),
    re.compile(r" hx-headers='[^']*'"),
    re.compile(r'<header class="site">.*?</header>\n?', re.DOTALL),
]


@click.command("brief")
@click.argument("topic")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="md", show_default=True,
              help="Markdown, a standalone HTML page, or a PDF printed by headless Chromium.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output; a PDF needs one).")
@click.pass_obj
def command(app, topic: str, fmt: str, output: Path | None) -> None:
    """Write the brief on TOPIC: its proposition, stances by source, key arguments with quoted
    passages as numbered citations, and blind spots.

    The PDF is rendered by the Chromium at the CHROMIUM_PATH setting (default /usr/bin/chromium).

    \b
    Example: counterpoint brief security --format pdf -o security.pdf
    """
    if fmt == "pdf" and output is None:
        raise click.ClickException("a PDF brief goes to a file: add -o FILE, e.g. -o brief.pdf")
    with database(app) as db:
        taxonomy = loaded_taxonomy(db)
        found = taxonomy.get(topic)
        if found is None:
            raise click.ClickException(f"there is no topic {topic!r}; topics are: {', '.join(taxonomy.ids)}")
        text = briefs.to_markdown(briefs.build_brief(db, found)) if fmt == "md" else ""
    if fmt != "md":
        text = standalone_page(app, found.id)
    if fmt == "pdf":
        write_pdf(text, output, str(app.config.get("CHROMIUM_PATH") or ""))
    elif output is None:
        click.echo(text, nl=False)
        return
    else:
        try:
            atomic_write(output, text)
        except OSError as exc:
            raise click.ClickException(f"could not write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote the {FORMATS[fmt]} brief on {found.name} to {output}.", err=True)


def standalone_page(app, topic_id: str) -> str:
    """The app's brief page with its stylesheets inlined and what needs the server taken out."""
    # The command runs beside the files with full access to them, so the page is rendered as for
    # the local user, whatever sign-in or host names the shared site asks for.
    local = create_app({**app.config, "SHARED": False, "READS_REQUIRE_LOGIN": False, "TRUSTED_HOSTS": None},
                       corpus=Path(app.config["CORPUS"]))
    with local.test_request_context():
        path = local.url_for("briefs.brief", topic_id=topic_id)
    response = local.test_client().get(path)
    page = response.get_data(as_text=True)
    if response.status_code != 200:
        raise click.ClickException(f"the brief page answered {response.status}: {page[:200]}")
    for pattern in _SERVER_ONLY:
        page = pattern.sub("", page)
    return _STYLESHEET.sub(lambda found: _inline_style(local, found.group(1)), page)


def _inline_style(app, href: str) -> str:
    """A <style> element holding the stylesheet a static URL names."""
    name = href.split("?", 1)[0].removeprefix(app.static_url_path + "/")
    css = (Path(app.static_folder) / name).read_text(encoding="utf-8")
    return f"<style>\n{css}</style>"


def write_pdf(html: str, output: Path, chromium: str) -> None:
    """Print `html` to a PDF at `output` with headless Chromium: written beside it, then renamed."""
    if not chromium or not Path(chromium).is_file():
        raise click.ClickException(
            f"no Chromium at {chromium!r} to print the PDF with: install it (apt-get install chromium) or set"
            " CHROMIUM_PATH (e.g. COUNTERPOINT_CHROMIUM_PATH=/usr/bin/chromium-browser) to the one you have"
        )
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise click.ClickException("PDF briefs need Playwright: pip install playwright") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_content(html, wait_until="load")
                page.pdf(path=tmp, format="A4", print_background=True)
            finally:
                browser.close()
        os.replace(tmp, output)
    except Error as exc:
        raise click.ClickException(f"Chromium could not print the PDF: {exc.message}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
