"""Publishing: a static, read-only copy of the comparison, rendered by the app itself.

Every page is the app's own answer to a GET (through the test client, so the escaping is exactly
the app's), then made static: write controls go, links to published pages become relative paths
to their files (file:// has no index resolution, so a folder is never a link target), links to
pages that are not published become text, and every page says when and from which data it was
published. Search runs in the browser over an index built here (search-index.js, a script rather
than JSON because browsers refuse fetch() from file://).
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from bs4 import BeautifulSoup, NavigableString
from lunr import lunr

from webapp.corpus.display import display_title
from webapp.store.db import connect
from webapp.store.db import data_version as db_version
from webapp.web import topics
from webapp.web.database import get_taxonomy

# A topic page in each of the app's views, one file each; `view=arguments` is the key arguments.
VIEWS = {"stance": "index.html", "holder": "holder.html", "source": "source.html", "arguments": "arguments.html"}
VIEW_NAMES = {"stance": "Columns by stance", "holder": "Rows by holder", "source": "Rows by source",
              "arguments": "Key arguments"}
# Left in OUT by a publish, so that a later one knows the folder is its own to replace.
MARKER = ".counterpoint-publish"
STATIC = Path(__file__).resolve().parent / "static"
LUNR = STATIC / "vendor" / "lunr.min.js"
EXCERPT = 300


class PublishError(Exception):
    """A site that cannot be published: its message says why and what to do."""


@dataclass(frozen=True)
class Page:
    """One page of the site: the app URL rendered and the file it becomes."""

    url: str
    path: str


def slug(value: str) -> str:
    """A file name for an id: its safe characters, plus a short hash when any were not safe."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", value)[:100]
    if safe != value or safe.startswith(".") or not safe:
        safe += "-" + hashlib.blake2b(value.encode(), digest_size=4).hexdigest()
    return safe


def data_version(db) -> str:
    """The data version: a hash of the counters that every write bumps (the one ETags use too)."""
    return hashlib.blake2b(db_version(db).encode(), digest_size=6).hexdigest()


class Site:
    """Which app URLs are published, and as which file."""

    def __init__(self, topic_ids: list[str], document_ids: list[str], extras: dict[str, str]):
        self.topics = set(topic_ids)
        self.documents = set(document_ids)
        self.extras = extras

    def file_for(self, url: str) -> str | None:
        """The site file (with any #fragment) an internal URL is published as, or None if it is not."""
        parts = urlsplit(url)
        args = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        path = unquote(parts.path)
        if path.startswith("/static/") and not args:
            return path.lstrip("/")
        if path.startswith("/topics/") and path[len("/topics/"):] in self.topics:
            found, fragment = self._topic_file(args, fragment)
            return found and f"topics/{slug(path[len('/topics/'):])}/{found}{fragment}"
        if path.startswith("/documents/") and path[len("/documents/"):] in self.documents and not args:
            return f"documents/{slug(path[len('/documents/'):])}.html{fragment}"
        key = path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(args.items())) if args else "")
        return self.extras[key] + fragment if key in self.extras else None

    @staticmethod
    def _topic_file(args: dict[str, str], fragment: str) -> tuple[str | None, str]:
        """A topic page's file for its arguments: a filtered view shows as the view it narrows."""
        view = args.pop("view", "stance")
        stance = args.pop("stance", "") or args.pop("col", "")
        if args.pop("holder", ""):
            view = "holder"
        if args.pop("document", ""):
            view = "source"
        if args or view not in VIEWS:
            return None, fragment
        if view == "stance" and stance and not fragment:
            fragment = f"#col-{stance}"
        return VIEWS[view], fragment


def plan(app) -> tuple[Site, list[Page]]:
    """Every page to publish: the overview, each topic in every view and its brief, each document, the charts,
    search."""
    with app.app_context():
        topic_ids = [t.id for t in get_taxonomy().topics]
    db = connect(app.config["DATABASE"])
    try:
        document_ids = [d for (d,) in db.execute("SELECT id FROM documents ORDER BY id")]
    finally:
        db.close()
    if not document_ids:
        raise PublishError("The database holds no documents: run `counterpoint load` first.")
    extras = {"/": "index.html", "/charts": "charts.html", "/charts?by=holder": "charts.html",
              "/charts?by=source": "charts-by-source.html", "/search": "search.html"}
    if len(topic_ids) > topics.HOME_TOPICS:
        extras["/?all=topics"] = "all-topics.html"
    if len(document_ids) > topics.HOME_DOCUMENTS:
        extras["/?all=documents"] = "all-documents.html"
    # Each topic's brief, to print or share; its Markdown download belongs to the running app.
    extras.update({f"/topics/{topic_id}/brief": f"topics/{slug(topic_id)}/brief.html" for topic_id in topic_ids})
    site = Site(topic_ids, document_ids, extras)
    urls = [url for url in extras if url != "/charts?by=holder"]
    urls += [f"/topics/{quote(topic_id)}?view={view}" for topic_id in topic_ids for view in VIEWS]
    urls += [f"/documents/{quote(document_id)}" for document_id in document_ids]
    return site, [Page(url, site.file_for(url)) for url in urls]


def check_destination(out: Path) -> None:
    """Refuse an OUT that is neither absent, nor empty, nor an earlier publish: never delete a user's folder."""
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} is a file; give a folder to publish into.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise PublishError(
            f"{out} already holds files that are not a published site; publish into a new or empty folder."
        )


def publish(app, out: Path, site: Site, pages: list[Page], on_page=lambda page: None) -> None:
    """Write the site into a folder beside `out`, then put it in place of `out` (a failure leaves the old site)."""
    check_destination(out)
    if not LUNR.is_file():
        raise PublishError(f"{LUNR} is missing: run `make setup` (it copies lunr.js from npm).")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        # mkdtemp makes a private folder; a site is for a web server (another user) to read.
        staging.chmod(0o755)
        db = connect(app.config["DATABASE"])
        try:
            stamp = {"published": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "version": data_version(db)}
            (staging / "search-index.js").write_text(search_index(db, site), encoding="utf-8")
        finally:
            db.close()
        shutil.copytree(STATIC, staging / "static")
        client = app.test_client()
        for page in pages:
            reply = client.get(page.url)
            if reply.status_code != 200:
                raise PublishError(f"{page.url} answered {reply.status_code}; nothing was published.")
            html = static_page(reply.get_data(as_text=True), page, site, stamp)
            target = staging / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
            on_page(page)
        (staging / MARKER).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, out: Path) -> None:
    """Put the new site at `out`; an earlier one moves aside first and is deleted once the new one is there."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        out.rename(old / "site")
    staging.rename(out)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def static_page(html: str, page: Page, site: Site, stamp: dict) -> str:
    """An app page made static: no writes, relative links to published files, a publication footer."""
    soup = BeautifulSoup(html, "html.parser")
    here = posixpath.dirname(page.path)

    def relative(target: str) -> str:
        path, _, fragment = target.partition("#")
        return quote(posixpath.relpath(path, here or ".")) + (f"#{fragment}" if fragment else "")

    # The CSRF token, who labels, the label downloads and every form belong to the running app.
    for element in soup.select('meta[name="csrf-token"], .who, #downloads, [form]'):
        element.decompose()
    for form in soup.find_all("form"):
        if (form.get("method") or "get").lower() == "dialog":
            continue
        if form.get("id") == "filters":
            form.replace_with(_view_links(soup, form, page, site, relative))
        else:
            form.decompose()
    for element in soup.find_all(True):
        for name in [a for a in element.attrs if a.startswith("hx-") and a != "hx-boost"]:
            del element[name]
    _relink(soup, site, relative)
    soup.head.append(soup.new_tag("script", src=relative("static/published/site.js"), defer=None))
    footer = soup.new_tag("footer", attrs={"class": "published"})
    footer.append(f"Published {stamp['published']} from data version ")
    footer.append(soup.new_tag("code", string=stamp["version"]))
    footer.append(".")
    soup.body.append(footer)
    if page.path == "search.html":
        _search_form(soup, relative)
    return str(soup)


def _relink(soup, site: Site, relative) -> None:
    """Point links and assets at the site's files; what is not published is dropped."""
    for element in soup.find_all(["link", "script", "img"]):
        attr = "href" if element.name == "link" else "src"
        if "icon" in (element.get("rel") or []):
            # htmx's boosted links keep the <head>, whose relative paths would then point from the wrong
            # folder; the stylesheet and scripts are loaded once, but a browser fetches the icon again.
            element[attr] = _data_uri(STATIC / element[attr].removeprefix("/static/"))
        elif element.get(attr) and not _external(element[attr]):
            target = site.file_for(element[attr])
            if target:
                element[attr] = relative(target)
            else:
                element.decompose()
    for link in soup.find_all("a", href=True):
        if _external(link["href"]):
            continue
        target = site.file_for(link["href"])
        if target:
            link["href"] = relative(target)
            if target.startswith("search.html"):
                # A boosted link swaps the body only; the search page needs its own scripts loaded.
                link["hx-boost"] = "false"
        else:
            _drop_link(soup, link)


def _external(href: str) -> bool:
    """True for a link the site leaves alone: another site's, an anchor, or one already made relative here."""
    parts = urlsplit(href)
    return bool(parts.scheme or parts.netloc) or not parts.path.startswith("/")


def _data_uri(path: Path) -> str:
    """A small file as a data: URI, which needs no path."""
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode()


def _drop_link(soup, link) -> None:
    """A link to an unpublished page: text within a sentence, gone from a list of links."""
    parent = link.parent
    own_text = any(isinstance(c, NavigableString) and c.strip() for c in parent.children)
    if link.get("class") and "show-more" in link["class"]:
        note = soup.new_tag("p", attrs={"class": "show-more"})
        counted = re.search(r"\(([^)]*)\)", link.get_text(" ", strip=True))
        note.string = f"{counted.group(1) if counted else 'More'}: this published copy shows the first ones only."
        link.replace_with(note)
    elif own_text and parent.name != "nav":
        link.unwrap()
    else:
        link.decompose()
        if parent.name in ("p", "li") and not parent.get_text(strip=True):
            parent.decompose()


def _view_links(soup, form, page: Page, site: Site, relative):
    """The topic page's view chooser as links to each view's file, in place of its filter form."""
    names = {r["value"]: r.parent.get_text(" ", strip=True) for r in form.select('input[name="view"]')}
    nav = soup.new_tag("nav", attrs={"class": "views", "aria-label": "Views"})
    topic_url = page.url.partition("?")[0]
    for view in VIEWS:
        link = soup.new_tag("a", href=relative(site.file_for(f"{topic_url}?view={view}")))
        link.string = names.get(view) or VIEW_NAMES[view]
        if page.url.endswith(f"view={view}"):
            link["aria-current"] = "page"
        nav.append(link)
        nav.append(" ")
    return nav


def _search_form(soup, relative) -> None:
    """The search page's form and results, answered in the browser by static/published/search.js."""
    # Not boosted: htmx would fetch the page again rather than let search.js answer.
    form = soup.new_tag("form", id="search", attrs={"class": "filters search-form", "method": "get",
                                                    "action": "search.html", "role": "search", "hx-boost": "false"})
    label = soup.new_tag("label", attrs={"class": "words"})
    label.append("Words ")
    label.append(soup.new_tag("input", attrs={"type": "search", "name": "q", "id": "q", "maxlength": "200",
                                              "autocomplete": "off", "placeholder": "e.g. Taliban deportation"}))
    form.append(label)
    form.append(soup.new_tag("button", type="submit", string="Search"))
    results = soup.new_tag("section", id="results", attrs={"class": "results search-results", "aria-live": "polite"})
    note = soup.new_tag("p", id="search-note", attrs={"class": "empty"})
    note.append("Search in this published copy needs JavaScript, which is off or blocked here. Browse the ")
    note.append(soup.new_tag("a", href=relative("index.html") + "#topics", string="topics"))
    note.append(" and their documents instead.")
    results.append(note)
    results.append(soup.new_tag("p", id="search-count", attrs={"class": "count"}, hidden=None))
    results.append(soup.new_tag("ol", id="search-hits", attrs={"class": "hits"}))
    main = soup.find("main")
    for old in main.select("#search, #results"):
        old.decompose()
    main.append(form)
    main.append(results)
    for src in ("static/vendor/lunr.min.js", "search-index.js", "static/published/search.js"):
        soup.head.append(soup.new_tag("script", src=relative(src), defer=None))


def search_index(db, site: Site) -> str:
    """A script setting window.COUNTERPOINT_SEARCH: a lunr.js index of every content passage, and what a hit shows."""
    rows = db.execute(
        """SELECT p.id, p.document, p.position, p.text, d.title, d.kind, d.outlet, d.date,
        (SELECT group_concat(DISTINCT c.holder) FROM consensus c WHERE c.passage = p.id AND c.holder != '')
        FROM passages p JOIN documents d ON d.id = p.document WHERE p.kind = 'content'
        ORDER BY p.document, p.position"""
    ).fetchall()
    documents, shown = [], {}
    for pid, document, position, text, title, kind, outlet, date, holders in rows:
        name = display_title(title, kind, outlet, date)
        documents.append({"id": str(pid), "text": text, "title": name, "holder": holders or ""})
        excerpt = text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + "…"
        shown[str(pid)] = [name, site.file_for(f"/documents/{quote(document)}"), position, excerpt]
    fields = [{"field_name": "text"}, {"field_name": "title", "boost": 2}, {"field_name": "holder", "boost": 2}]
    index = lunr(ref="id", fields=fields, documents=documents)
    data = json.dumps({"index": index.serialize(), "passages": shown}, ensure_ascii=True, separators=(",", ":"))
    # A script, not HTML, but "<" is escaped all the same so that no reader of the file mistakes it for markup.
    return "window.COUNTERPOINT_SEARCH = " + data.replace("<", "\\u003c") + ";\n"
