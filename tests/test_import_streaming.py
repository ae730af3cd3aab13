"""`documents import --jsonl` streams: a file is checked, then written chunk by chunk, and still all or nothing."""

import json
from pathlib import Path

import pytest
from conftest import import_documents
from test_import_cli import state, write

from webapp.corpus import sources
from webapp.labels import batches, chunked, mirror
from webapp.store.db import connect


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of three passages, so that a handful of lines spans several chunks."""
    monkeypatch.setattr(chunked, "CHUNK_PASSAGES", 3)


def line(document: str, n: int, **extra) -> str:
    """One JSONL line: passage `n` of `document`, labelled against recognition."""
    return json.dumps({"document": document, "text": f"Passage {n} of {document}.",
                       "labels": [{"topic": "recognition", "stance": "favour", "holder": f"Holder {n}"}], **extra}) + "\n"


def many(documents: int = 6, passages: int = 4) -> str:
    """A batch whose documents each span passages lines in a row."""
    return "".join(line(f"doc-{d}", n) for d in range(documents) for n in range(passages))


def passages(corpus: Path) -> list[tuple]:
    """Every imported passage: document, position, text."""
    db = connect(corpus / "instance" / "counterpoint.db")
    try:
        return [tuple(r) for r in db.execute(
            "SELECT document, position, text FROM passages WHERE document LIKE 'doc-%' ORDER BY document, position")]
    finally:
        db.close()


def test_a_bad_line_near_the_end_writes_nothing(runner, loaded, tmp_path):
    before = state(loaded)
    content = many() + '{"document": "doc-9", "text": ""}\n' + line("doc-10", 0)
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "big.jsonl", content)))
    assert result.exit_code == 1 and "big.jsonl line 25: missing \"text\"" in result.output
    assert state(loaded) == before


def test_a_failure_after_some_chunks_were_stored_rolls_all_of_them_back(runner, loaded, tmp_path, monkeypatch):
    before = state(loaded)
    stored = []
    real = mirror.store

    def failing_store(db, records):
        real(db, records)
        stored.append(len(records))
        if len(stored) == 3:
            raise OSError("disk full")

    monkeypatch.setattr(mirror, "store", failing_store)
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "big.jsonl", many())))
    assert isinstance(result.exception, OSError) and stored[:2] == [4, 4]
    assert state(loaded) == before


def test_each_chunk_is_stored_through_the_write_functions_whole_documents_at_a_time(runner, loaded, tmp_path, monkeypatch):
    calls = []
    real = sources.store_documents
    monkeypatch.setattr(sources, "store_documents", lambda db, docs: calls.append([d.name for d in docs]) or real(db, docs))
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "big.jsonl", many(documents=3))))
    assert result.exit_code == 0, result.output
    assert calls == [["doc-0"], ["doc-1"], ["doc-2"]]
    assert "3 documents (3 new or changed), 12 passages, 12 labels stored" in result.output


def test_interleaved_documents_come_out_as_the_in_memory_import_makes_them(runner, loaded, tmp_path):
    content = "".join(line(f"doc-{n % 3}", n, title=f"T{n}" if n > 2 else "") for n in range(10))
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "mixed.jsonl", content)))
    assert result.exit_code == 0, result.output
    batch = batches.parse_jsonl(content.split("\n"), ("recognition",), "x", "now")
    assert (loaded / "seeds" / "mixed.jsonl").read_text(encoding="utf-8") == sources.format_presplit(batch.documents)
    assert passages(loaded) == [(d.name, p.position, p.text) for d in sorted(batch.documents, key=lambda d: d.name)
                                for p in d.passages]
    labels = (loaded / "labels" / "passages" / "doc-1.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["position"] for r in labels] == [0, 1, 2]


def test_importing_a_chunked_file_again_changes_nothing(runner, loaded, tmp_path):
    path = write(tmp_path, "big.jsonl", many())
    assert import_documents(runner, loaded, "--jsonl", str(path)).exit_code == 0
    before = state(loaded)
    again = import_documents(runner, loaded, "--jsonl", str(path))
    assert again.exit_code == 0 and "6 documents (0 new or changed), 24 passages, 0 labels stored" in again.output
    assert state(loaded) == before


def test_documents_already_in_the_corpus_are_refused_before_any_chunk_is_written(runner, loaded, tmp_path, monkeypatch):
    assert import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "big.jsonl", many()))).exit_code == 0
    before = state(loaded)
    monkeypatch.setattr(sources, "store_documents", lambda db, docs: pytest.fail("wrote a chunk"))
    result = import_documents(runner, loaded, "--jsonl", str(write(tmp_path, "more.jsonl", many(documents=7))))
    assert result.exit_code == 1 and "Already in the corpus: doc-0" in result.output
    assert state(loaded) == before
