"""`counterpoint publish OUT/`: a static, read-only copy whose every link leads to a file of the site."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from lunr.index import Index
from test_hostile import MARK, PAYLOAD, assert_inert, hostile  # noqa: F401  (hostile is a fixture)

from webapp.analysis import comparison
from webapp.cli import main
from webapp.corpus import taxonomy
from webapp.store.db import connect
from webapp.web import publishing

ORIGINAL = "https://news.example.org/pakistan-returns"


def publish(runner, corpus: Path, out: Path):
    """Invoke `counterpoint --corpus CORPUS publish OUT`."""
    return runner.invoke(main, ["--corpus", str(corpus), "publish", str(out)])


def pages(out: Path) -> dict[Path, BeautifulSoup]:
    """Every published HTML page, parsed."""
    return {p: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in sorted(out.rglob("*.html"))}


def test_publish_writes_every_page_and_every_link_leads_to_a_file(runner, loaded, tmp_path):
    out = tmp_path / "site"
    result = publish(runner, loaded, out)
    assert result.exit_code == 0, result.output
    db = connect(loaded / "instance" / "counterpoint.db")
    topics = [t.id for t in taxonomy.from_db(db).topics]
    documents = [d for (d,) in db.execute("SELECT id FROM documents")]
    version = publishing.data_version(db)
    db.close()
    for topic in topics:
        for name in ("index.html", "holder.html", "source.html", "arguments.html", "brief.html"):
            assert (out / "topics" / topic / name).is_file(), (topic, name)
    for document in documents:
        assert (out / "documents" / f"{publishing.slug(document)}.html").is_file()
    for name in ("index.html", "charts.html", "charts-by-source.html", "search.html", "search-index.js",
                 "static/app.css", "static/vendor/htmx.min.js", "static/vendor/lunr.min.js"):
        assert (out / name).is_file(), name

    site = pages(out)
    checked = 0
    for path, page in site.items():
        where = path.relative_to(out)
        assert not page.select('form[method="post"], form[method="POST"], meta[name="csrf-token"]'), where
        assert not [e for e in page.find_all(True) if any(a.startswith("hx-") and a != "hx-boost" for a in e.attrs)]
        footer = page.select_one("footer.published").get_text(" ", strip=True)
        assert re.fullmatch(rf"Published \d{{4}}-\d\d-\d\d \d\d:\d\d UTC from data version {version} ?\.", footer)
        for element in page.find_all(attrs={"href": True}) + page.find_all(attrs={"src": True}):
            link = urlsplit(element.get("href") or element["src"])
            if link.scheme or link.netloc:
                continue
            assert not link.path.startswith("/"), (where, link)
            target = (path.parent / unquote(link.path)).resolve() if link.path else path
            assert target.is_file() and out in target.parents, (where, link.geturl())
            if link.fragment and target.suffix == ".html":
                assert site[target].find(id=link.fragment), (where, link.geturl())
            checked += 1
    assert checked > 500


def test_topic_pages_offer_every_view_and_say_what_is_not_shown(runner, loaded, tmp_path):
    out = tmp_path / "site"
    assert publish(runner, loaded, out).exit_code == 0
    holder = BeautifulSoup((out / "topics/deportation/holder.html").read_text(), "html.parser")
    views = {a.get_text(strip=True): a["href"] for a in holder.select("nav.views a")}
    assert views == {"Columns by stance": "index.html", "Rows by holder": "holder.html",
                     "Rows by source": "source.html", **{k: "arguments.html" for k in views if "argument" in k.lower()}}
    assert "arguments.html" in views.values()
    assert holder.select_one('nav.views a[aria-current="page"]')["href"] == "holder.html"
    arguments = BeautifulSoup((out / "topics/deportation/arguments.html").read_text(), "html.parser")
    assert arguments.select_one('nav.views a[aria-current="page"]')["href"] == "arguments.html"
    overview = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    cell = overview.select_one('tr[data-topic="deportation"] td.stance-against a')
    assert cell["href"] == "topics/deportation/index.html#col-against"
    topic_page = BeautifulSoup((out / "topics/deportation/index.html").read_text(), "html.parser")
    assert topic_page.select_one(".topic-brief a")["href"] == "brief.html"
    brief = BeautifulSoup((out / "topics/deportation/brief.html").read_text(), "html.parser")
    assert brief.select_one("h1").get_text(strip=True).endswith("Deportation of Afghans")
    # Pages that are not published (labelling, adding, passage details) are not linked to.
    hrefs = {a["href"] for p in pages(out).values() for a in p.find_all("a", href=True)}
    assert not [h for h in hrefs if re.search(r"passages|label|add|login|edit", h.split("#")[0])]


def test_a_long_column_says_how_many_passages_the_copy_leaves_out(runner, loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(comparison, "PAGE", 5)
    out = tmp_path / "site"
    assert publish(runner, loaded, out).exit_code == 0
    page = BeautifulSoup((out / "topics/deportation/index.html").read_text(), "html.parser")
    against = page.select_one("section.column.stance-against")
    assert len(against.select("article.card")) == 5
    assert against.select_one("p.show-more").get_text(" ", strip=True).startswith("12 not shown")
    assert not page.select("a.show-more") and not list(out.rglob("*limit*"))


def test_every_card_links_to_its_original_source(runner, corpus, tmp_path):
    sources = corpus / "seeds" / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    start = text.index('[documents."002_ce58d6deddc87eed.txt"]')
    at = text.index('url = ""', start)
    sources.write_text(text[:at] + f'url = "{ORIGINAL}"' + text[at + len('url = ""'):], encoding="utf-8")
    assert runner.invoke(main, ["--corpus", str(corpus), "load"]).exit_code == 0
    out = tmp_path / "site"
    assert publish(runner, corpus, out).exit_code == 0
    page = BeautifulSoup((out / "topics/deportation/index.html").read_text(), "html.parser")
    cards = page.select("article.card")
    from_report = [c for c in cards if "002_ce58d6deddc87eed" in c.select_one("a.in-document")["href"]]
    assert from_report and all(c.select_one("a.original")["href"] == ORIGINAL for c in from_report)
    assert not [c for c in cards if c not in from_report and c.select_one("a.original")]


def test_search_index_finds_passages_and_links_their_document(runner, loaded, tmp_path):
    out = tmp_path / "site"
    assert publish(runner, loaded, out).exit_code == 0
    script = (out / "search-index.js").read_text(encoding="utf-8")
    assert script.startswith("window.COUNTERPOINT_SEARCH = ") and "<" not in script
    data = json.loads(script.removeprefix("window.COUNTERPOINT_SEARCH = ").rstrip(";\n"))
    hits = Index.load(data["index"]).search("Gallup")
    assert hits
    title, file, position, excerpt = data["passages"][hits[0]["ref"]]
    assert "Gallup" in excerpt and (out / file).is_file()
    assert BeautifulSoup((out / file).read_text(), "html.parser").find(id=f"p-{position}")
    search = BeautifulSoup((out / "search.html").read_text(), "html.parser")
    assert "needs JavaScript" in search.select_one("#search-note").get_text()
    assert [s["src"] for s in search.select("script[src]")][-3:] == [
        "static/vendor/lunr.min.js", "search-index.js", "static/published/search.js"]


def test_hostile_fields_stay_text_on_every_published_page(runner, corpus, hostile, tmp_path):  # noqa: F811
    out = tmp_path / "site"
    result = publish(runner, corpus, out)
    assert result.exit_code == 0, result.output
    site = pages(out)
    assert len(site) > 20
    for path, page in site.items():
        assert_inert(str(page), str(path.relative_to(out)))
    shown = site[out / "documents" / "hostile.html"].get_text()
    assert f'<script id="{MARK}-script">' in shown
    topic = site[out / "topics" / "xss_topic" / "index.html"].get_text()
    assert f'<img id="{MARK}-img"' in topic
    assert PAYLOAD[:40] in (out / "search-index.js").read_text().replace("\\u003c", "<").replace('\\"', '"')


def test_a_folder_that_is_not_a_published_site_is_never_touched(runner, loaded, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work")
    result = publish(runner, loaded, out)
    assert result.exit_code == 1
    assert "not a published site" in result.output and "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]
    (tmp_path / "file").write_text("x")
    assert "is a file" in publish(runner, loaded, tmp_path / "file").output


def test_publishing_again_replaces_the_old_site(runner, loaded, tmp_path):
    out = tmp_path / "site"
    assert publish(runner, loaded, out).exit_code == 0
    (out / "documents" / "gone.html").write_text("stale")
    assert publish(runner, loaded, out).exit_code == 0
    assert not (out / "documents" / "gone.html").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "site"]


def test_a_failed_publish_leaves_the_old_site(runner, loaded, tmp_path, monkeypatch):
    out = tmp_path / "site"
    assert publish(runner, loaded, out).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    written = []

    def full_disk_after_five_pages(*args, **kwargs):
        if len(written) == 5:
            raise OSError(28, "No space left on device")
        written.append(args[1])
        return "<p>half a site</p>"

    monkeypatch.setattr(publishing, "static_page", full_disk_after_five_pages)
    result = publish(runner, loaded, out)
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "site"]


@pytest.mark.parametrize("args", [["publish", "--help"]])
def test_publish_has_help_with_an_example(runner, args):
    result = runner.invoke(main, args)
    assert result.exit_code == 0 and "Example: counterpoint publish" in result.output


def test_an_empty_corpus_is_refused_with_advice(runner, tmp_path):
    assert runner.invoke(main, ["init", str(tmp_path / "empty")]).exit_code == 0
    result = publish(runner, tmp_path / "empty", tmp_path / "site")
    assert result.exit_code == 1 and "counterpoint load" in result.output
    assert not (tmp_path / "site").exists()
