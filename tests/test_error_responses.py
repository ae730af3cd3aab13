"""Error answers: a page for the browser, the bare message for htmx, and sizes named for over-limit uploads."""

from __future__ import annotations

import io

import pytest
from bs4 import BeautifulSoup

from webapp.corpus import preview
from webapp.web.errors import format_upload

HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
MB = 1024 * 1024


def csrf(client) -> str:
    """The session's CSRF token."""
    page = BeautifulSoup(client.get("/add").get_data(as_text=True), "html.parser")
    return page.find("meta", attrs={"name": "csrf-token"})["content"]


def upload(client, size: int, headers: dict | None = None):
    """Post a file of `size` bytes to the add-document preview."""
    data = {"csrf_token": csrf(client), "file": (io.BytesIO(b"x" * size), "big.txt")}
    return client.post("/add/preview", data=data, headers=headers or {}, content_type="multipart/form-data")


@pytest.mark.parametrize("headers", [HTMX, BOOSTED])
def test_an_htmx_request_gets_the_message_alone_as_plain_text(client, headers):
    response = client.get("/documents/nothing-here.txt", headers=headers)
    assert response.status_code == 404 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "There is no document “nothing-here.txt”."


def test_a_browser_gets_the_error_as_a_page(client):
    response = client.get("/no/such/page")
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert page.select_one(".error-text").text == "There is nothing at this address."
    assert page.select_one("#request-error[role=alert]").text == ""


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_an_over_limit_upload_names_its_size_and_the_limit(app, client, headers):
    # A small limit, so the refused body stays in memory in the test client (the browser test sends 2.6 MB).
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = upload(client, 70 * 1024, headers)
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    said = "The upload is larger than the limit of 64 KB: it is 71 KB. Upload a smaller file"
    if headers:
        assert text.startswith(said) and response.mimetype == "text/plain"
    else:
        page = BeautifulSoup(text, "html.parser")
        assert page.select_one(".error-text").text.startswith(said)
        assert page.find("h1").text == "Request Entity Too Large"


@pytest.mark.parametrize(("size", "said"), [(2 * MB + 1, "2.1 MB"), (3 * MB, "3 MB"), (1500, "2 KB"),
                                            (600 * 1024 + 1, "601 KB")])
def test_upload_sizes_are_rounded_up_so_they_never_read_as_the_limit(size, said):
    assert format_upload(size) == said


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_server_error_says_the_request_failed_without_the_traceback(app, client, monkeypatch, headers):
    def broken(draft, action):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(preview, "apply", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    form = {"csrf_token": csrf(client), "passage": ["One.", "Two."], "passage_kind": ["content"] * 2,
            "passage_auto": ["content"] * 2, "action": "merge-0"}
    response = client.post("/add/edit", data=form, headers=headers)
    text = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong on the server" in text
    assert "secret detail" not in text and "Traceback" not in text
    assert response.mimetype == ("text/plain" if headers else "text/html")
