"""Take the README's screenshots: the topic page, /label and /add with its preview, at desktop and phone widths,
and a corpus fresh from `counterpoint init`: its first steps and the form that adds a topic.

Run: .venv/bin/python docs/make_screenshots.py
The seed corpus is copied to a temporary folder and served with `counterpoint serve` on a free
loopback port; Debian's chromium (or $CHROMIUM_PATH) takes the pictures, which are written to
docs/screenshot-<page>-<width>.png.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from helpers_server import HOST, counterpoint, serving  # noqa: E402

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
ARTICLE = (
    "Talks in Kabul\n\n"
    "Officials met in Kabul on Monday to discuss the return of Afghans from neighbouring countries.\n\n"
    "Rights groups said no Afghan could be sent back safely while restrictions on women remain.\n\n"
    "The ministry said returns would continue in phases, with help at the border crossings.\n"
)


def shoot(page, base: str, name: str, path: str, width: str, prepare=None) -> Path:
    """Open `path`, run `prepare(page)` if given, and save the picture as docs/screenshot-<name>-<width>.png."""
    page.goto(base + path)
    if prepare:
        prepare(page)
    target = REPO / "docs" / f"screenshot-{name}-{width}.png"
    page.screenshot(path=str(target))
    return target


def preview(page) -> None:
    """Paste the article into /add and show its preview."""
    page.fill("#source_text", ARTICLE)
    page.get_by_role("button", name="Preview the passages").click()
    page.wait_for_selector("#preview .draft-passage")


def take(folder: Path, shots: list) -> None:
    """Serve a corpus folder and take each (name, path, prepare) shot at every width."""
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    with serving(folder, workers=1, shared=False) as server, sync_playwright() as playwright:
        base = f"http://{HOST}:{server.port}"
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        for width, (w, h) in WIDTHS.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            for name, path, prepare in shots:
                print(shoot(page, base, name, path, width, prepare).relative_to(REPO))
            page.close()
        browser.close()


def main() -> None:
    """Serve a copy of the seed corpus, then a new empty one, and take every screenshot."""
    folder = Path(tempfile.mkdtemp(prefix="cp-shots-"))
    try:
        seeded = folder / "seeded"
        shutil.copytree(REPO / "seeds", seeded / "seeds")
        shutil.copytree(REPO / "labels", seeded / "labels", ignore=shutil.ignore_patterns(".locks"))
        counterpoint(seeded, "load", check=True)
        take(seeded, [("topic", "/topics/deportation", None), ("label", "/label", None), ("add", "/add", preview)])
        fresh = folder / "fresh"
        counterpoint(folder, "init", str(fresh), check=True)
        counterpoint(fresh, "load", check=True)
        take(fresh, [("start", "/", None), ("new-topic", "/topics/new", None)])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
