"""Adding a document through the web: paste or upload, preview and fix the split, save."""

import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from webapp.labels.build import build
from webapp.store.db import connect

TEXT = (
    "Talks in Kabul raise hopes and fears\n\nBy Jane Doe\n\n"
    "European officials met Taliban representatives in Kabul last week. The talks were technical.\n\n"
    "Rights groups condemned the visit. They said no Afghan could be sent back safely.\n\n"
    "Advertisement\n\n"
    "Diplomats expect a second round of meetings in the spring, although no date has been set.\n"
)
HTML = (
    "<html><head><title>Talks in Kabul</title><meta name='author' content='Jane Doe'></head><body>"
    "<nav><a href='/'>Home</a></nav><article><h1>Talks in Kabul</h1>"
    + "".join(
        f"<p>Paragraph {i}: European officials met Taliban representatives in Kabul to discuss returns,"
        " according to people briefed on the meeting, and rights groups objected strongly.</p>"
        for i in range(4)
    )
    + "</article><footer>Copyright 2024</footer></body></html>"
)


def soup(response) -> BeautifulSoup:
    """Parse a response's HTML."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def token(client) -> str:
    """The session's CSRF token, as a page carries it."""
    return soup(client.get("/add")).find("meta", attrs={"name": "csrf-token"})["content"]


def preview_of(client, token, **data):
    """Post a source to the preview and return the response."""
    return client.post("/add/preview", data={"csrf_token": token, **data}, content_type="multipart/form-data")


def form_data(page: BeautifulSoup) -> dict:
    """Every field of the preview form as a browser would send it (without a button)."""
    form = page.find("form", id="preview")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") != "hidden" or i["name"] == "csrf_token"}
    data["passage"] = [t.text for t in form.find_all("textarea", attrs={"name": "passage"})]
    data["passage_kind"] = [s.find("option", selected=True)["value"] for s in form.find_all("select", attrs={"name": "passage_kind"})]
    data["passage_auto"] = [i["value"] for i in form.find_all("input", attrs={"name": "passage_auto"})]
    return data


def passages(page: BeautifulSoup) -> list[tuple[str, str]]:
    """(kind, text) of every passage in a preview."""
    data = form_data(page)
    return list(zip(data["passage_kind"], data["passage"]))


def seeds_listing(app) -> list[str]:
    """The files of the corpus's seeds folder."""
    return sorted(p.name for p in Path(app.config["SEEDS_DIR"]).iterdir())


def seed_files(app) -> dict[str, bytes]:
    """Every file of the seeds folder with its bytes."""
    return {p.name: p.read_bytes() for p in Path(app.config["SEEDS_DIR"]).iterdir()}


def test_the_add_page_offers_paste_upload_and_metadata(client):
    page = soup(client.get("/add"))
    form = page.find("form", class_="add-form")
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    assert form.find("input", attrs={"name": "csrf_token"})["value"]
    names = {e["name"] for e in form.find_all(["input", "textarea"])}
    assert {"source_text", "file", "title", "author", "outlet", "date", "kind", "url"} <= names
    assert "2 MB" in page.get_text()
    assert soup(client.get("/")).find("a", string="Add document")["href"] == "/add"


def test_pasted_text_is_previewed_with_non_content_marked(client, token):
    response = preview_of(client, token, source_text=TEXT, title="Talks in Kabul")
    assert response.status_code == 200
    page = soup(response)
    assert page.find("html") and page.find("h1").text == "Check the passages"
    assert passages(page) == [
        ("heading", "Talks in Kabul raise hopes and fears"),
        ("byline", "By Jane Doe"),
        ("content", "European officials met Taliban representatives in Kabul last week. The talks were technical."),
        ("content", "Rights groups condemned the visit. They said no Afghan could be sent back safely."),
        ("ad", "Advertisement"),
        ("content", "Diplomats expect a second round of meetings in the spring, although no date has been set."),
    ]
    assert "3 content, 3 not content" in " ".join(page.find(class_="split-summary").text.split())
    assert page.find("input", attrs={"name": "name"})["value"] == "talks-in-kabul.txt"


def test_an_uploaded_html_page_is_reduced_to_its_text_with_its_metadata(client, token, app):
    upload = (io.BytesIO(HTML.encode("utf-8")), "../../Talks in Kabul.html")
    page = soup(preview_of(client, token, file=upload, outlet="The Paper"))
    kinds_texts = passages(page)
    assert [k for k, _ in kinds_texts].count("content") == 4
    assert not any("Copyright" in t or "Home" == t for _, t in kinds_texts)
    data = form_data(page)
    assert (data["title"], data["author"], data["outlet"]) == ("Talks in Kabul", "Jane Doe", "The Paper")
    assert data["name"] == "talks-in-kabul.txt"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source_text": "  \n  "}, "The text is empty"),
        ({"file": (io.BytesIO("Café".encode("latin-1")), "cafe.txt")}, "cafe.txt is not valid UTF-8 text: byte 0xe9"),
        ({"file": (io.BytesIO(b"<html><body><script>x()</script></body></html>"), "p.html")}, "No article text"),
        ({"file": (io.BytesIO(b"%PDF"), "paper.pdf")}, "paper.pdf: This file could not be read as a PDF"),
        ({"file": (io.BytesIO(b"x"), "paper.odt")}, "only .txt, .md, .html, .htm, .pdf, .docx files"),
        ({"source_text": TEXT, "date": "last week"}, "not a date like 2024-03-09"),
        ({"source_text": TEXT, "url": "javascript:alert(1)"}, "must start with http"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, token, app, db, data, message):
    before = seeds_listing(app), db["documents"].count
    response = preview_of(client, token, **data)
    assert response.status_code == 422
    page = soup(response)
    assert message in page.find(class_="error").text
    assert page.find("form", class_="add-form")  # the form again, to fix and retry
    assert (seeds_listing(app), db["documents"].count) == before


def test_an_upload_over_the_size_limit_is_refused_naming_the_limit(client, token, app):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = preview_of(client, token, file=(io.BytesIO(b"x" * 70 * 1024), "big.txt"))
    assert response.status_code == 413
    assert "larger than the limit of 64 KB" in soup(response).find(class_="error").text


def test_edits_return_the_preview_alone_to_htmx_and_the_page_otherwise(client, token):
    data = form_data(soup(preview_of(client, token, source_text=TEXT)))
    fragment = client.post("/add/edit", data={**data, "action": "merge-2"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert not soup(fragment).find("html") and soup(fragment).find("form", id="preview")
    full = client.post("/add/edit", data={**data, "action": "merge-2"})
    assert soup(full).find("html") and soup(full).find("form", id="preview")
    assert passages(soup(full)) == passages(soup(fragment))


def test_preview_merge_split_and_remark_as_plain_form_posts(client, token):
    data = form_data(soup(preview_of(client, token, source_text=TEXT)))
    merged = passages(soup(client.post("/add/edit", data={**data, "action": "merge-2"})))
    assert len(merged) == 5 and merged[2][1].startswith("European") and merged[2][1].endswith("sent back safely.")

    data = form_data(soup(client.post("/add/edit", data={**data, "action": "merge-2"})))
    split = passages(soup(client.post("/add/edit", data={**data, "action": "split-2"})))
    assert [t for _, t in split[2:4]] == [
        "European officials met Taliban representatives in Kabul last week. The talks were technical.",
        "Rights groups condemned the visit. They said no Afghan could be sent back safely.",
    ]

    data["passage_kind"][3] = "content"  # the advertisement marker, re-marked by hand
    page = soup(client.post("/add/edit", data={**data, "action": "update"}))
    item = page.find("li", id="draft-3")
    assert "by-hand" in item["class"] and item.find(class_="hand")


def test_an_edit_that_cannot_be_done_says_why(client, token):
    data = form_data(soup(preview_of(client, token, source_text=TEXT)))
    response = client.post("/add/edit", data={**data, "action": "split-1"})
    assert response.status_code == 422 and "single sentence" in soup(response).find(class_="error").text
    htmx = client.post("/add/edit", data={**data, "action": "split-1"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "single sentence" in soup(htmx).find(class_="error").text


def test_saving_writes_seed_files_imports_and_shows_the_document(client, token, app, db):
    data = form_data(soup(preview_of(client, token, source_text=TEXT, title="Talks in Kabul", outlet="The Paper")))
    data["passage_kind"][5] = "caption"  # mark the last paragraph as not content
    response = client.post("/add/save", data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/documents/talks-in-kabul.txt"

    seeds = Path(app.config["SEEDS_DIR"])
    assert (seeds / "talks-in-kabul.txt").read_text(encoding="utf-8").startswith("Talks in Kabul raise hopes")
    sidecar = (seeds / "talks-in-kabul.txt.toml").read_text(encoding="utf-8")
    assert 'title = "Talks in Kabul"' in sidecar and 'outlet = "The Paper"' in sidecar and '5 = "caption"' in sidecar
    document = db["documents"].get("talks-in-kabul.txt")
    assert (document["title"], document["outlet"]) == ("Talks in Kabul", "The Paper")
    rows = list(db.query("SELECT position, kind FROM passages WHERE document = ? ORDER BY position", ["talks-in-kabul.txt"]))
    assert [r["kind"] for r in rows] == ["heading", "byline", "content", "content", "ad", "caption"]

    page = soup(client.get(response.headers["Location"]))
    last = page.find("li", id="p-5")
    assert "kind-caption" in last["class"] and "Photo caption" in last.find(class_="kind").text


def test_a_saved_document_is_counted_in_the_same_transaction(client, token, db):
    data = form_data(soup(preview_of(client, token, source_text=TEXT, title="Talks in Kabul")))
    client.post("/add/save", data=data)
    # Nothing is left for the next request to catch up: the save recounted its own passages.
    assert db.execute("SELECT count(*) FROM consensus_pending").fetchone()[0] == 0
    counted = db.execute("SELECT content, labelled FROM consensus_documents WHERE document = ?",
                         ["talks-in-kabul.txt"]).fetchone()
    content = db.execute("SELECT count(*) FROM passages WHERE document = ? AND kind = 'content'",
                         ["talks-in-kabul.txt"]).fetchone()[0]
    assert content and counted == (content, 0)


def test_saving_the_same_document_twice_changes_nothing(client, token, app, db):
    data = form_data(soup(preview_of(client, token, source_text=TEXT, title="Talks")))
    first = client.post("/add/save", data=data)
    files = seed_files(app)
    rows = list(db["passages"].rows)
    again = client.post("/add/save", data=data)
    assert again.headers["Location"] == first.headers["Location"] == "/documents/talks.txt"
    assert seed_files(app) == files
    assert list(db["passages"].rows) == rows


def test_a_taken_name_is_made_unique_and_the_preview_says_so(client, token, app):
    client.post("/add/save", data=form_data(soup(preview_of(client, token, source_text=TEXT, title="Talks"))))
    page = soup(preview_of(client, token, source_text="Something else entirely. With two sentences.", title="Talks"))
    assert "will be saved as talks-2.txt" in " ".join(page.find(id="name-note").text.split())
    response = client.post("/add/save", data=form_data(page))
    assert response.headers["Location"] == "/documents/talks-2.txt"
    assert {"talks.txt", "talks-2.txt"} <= set(seeds_listing(app))


def test_a_typed_name_is_made_safe(client, token, app):
    data = form_data(soup(preview_of(client, token, source_text=TEXT)))
    data["name"] = "../../instance/evil.txt"
    response = client.post("/add/save", data=data)
    assert response.headers["Location"] == "/documents/evil.txt"
    assert "evil.txt" in seeds_listing(app)


def test_saving_with_every_passage_emptied_is_refused(client, token, app):
    data = form_data(soup(preview_of(client, token, source_text=TEXT)))
    data["passage"] = ["" for _ in data["passage"]]
    response = client.post("/add/save", data=data)
    assert response.status_code == 422 and "nothing to save" in soup(response).find(class_="error").text


def test_a_rebuild_from_files_reproduces_the_added_document(client, token, app, db, tmp_path):
    data = form_data(soup(preview_of(client, token, source_text=TEXT, title="Talks")))
    data = form_data(soup(client.post("/add/edit", data={**data, "action": "merge-2"})))
    data["passage_kind"][0] = "content"
    client.post("/add/save", data=data)
    rebuilt = connect(tmp_path / "rebuilt.db")
    build(rebuilt, tmp_path / "corpus" / "seeds", tmp_path / "corpus" / "labels")
    sql = "SELECT position, kind, text, text_hash FROM passages WHERE document = 'talks.txt' ORDER BY position"
    assert list(rebuilt.query(sql)) == list(db.query(sql))
    assert [r["kind"] for r in db.query(sql)][:3] == ["content", "byline", "content"]
    assert rebuilt["documents"].get("talks.txt")["title"] == "Talks"


def test_writes_need_the_csrf_token(client):
    response = client.post("/add/preview", data={"source_text": TEXT})
    assert response.status_code == 400
