"""A cheap start: scikit-learn loads with the first page that needs it, the related index is
compact, and the page cache is capped by bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import corpus_config, passage_id
from helpers_server import Browser, serving

from webapp.similarity import engine, features
from webapp.web import database

HEAVY = ("sklearn", "scipy")

# Run in a fresh interpreter, so that nothing this test process imported counts.
_CHILD = """
import json, sys
import webapp.cli
from webapp import create_app

config, urls = json.loads(sys.argv[1]), sys.argv[2:]
heavy = lambda: sorted(m for m in ("sklearn", "scipy") if m in sys.modules)
seen = [("import", 200, heavy())]
client = create_app(config).test_client()
for url in urls:
    seen.append((url, client.get(url).status_code, heavy()))
print(json.dumps(seen))
"""


def heavy_after_each(app, urls: list[str], **settings) -> list[tuple[str, int, list[str]]]:
    """For a fresh process: after importing the CLI, then after each page, what heavy modules are loaded."""
    config = {**corpus_config(Path(app.config["CORPUS"])), **settings}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(config), *urls],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return [tuple(step) for step in json.loads(out.stdout)]


@pytest.fixture
def kassou(db) -> int:
    """An op-ed passage with related passages in other documents."""
    return passage_id(db, "000_26419f1f75a7eb13.txt", 9)


def test_the_app_loads_scikit_learn_only_for_a_page_with_related_passages(app, kassou):
    steps = heavy_after_each(app, ["/topics/deportation", f"/passages/{kassou}"])
    assert steps == [
        ("import", 200, []),
        ("/topics/deportation", 200, []),
        (f"/passages/{kassou}", 200, sorted(HEAVY)),
    ]


def test_the_overview_groups_arguments_only_below_its_limit(app):
    # Key arguments need scikit-learn; a corpus above the limit starts without it.
    assert heavy_after_each(app, ["/"])[-1] == ("/", 200, sorted(HEAVY))
    assert heavy_after_each(app, ["/"], OVERVIEW_ARGUMENTS_LIMIT=10)[-1] == ("/", 200, [])


def _worker_libraries(server) -> str:
    """The shared libraries mapped by the server's (only) worker process."""
    main = server.process.pid
    (worker,) = Path(f"/proc/{main}/task/{main}/children").read_text().split()
    return Path(f"/proc/{worker}/maps").read_text()


def test_a_served_worker_answers_its_first_page_before_loading_scikit_learn(corpus, kassou):
    with serving(corpus, workers=1, shared=False) as server:
        browser = Browser(server.port)
        try:
            assert browser.get("/topics/deportation").status == 200
            # Their compiled modules, by folder: numpy's own libscipy_openblas is no sign of scipy.
            assert not any(f"/{name}/" in _worker_libraries(server) for name in HEAVY)
            assert browser.get(f"/passages/{kassou}").status == 200
            assert all(f"/{name}/" in _worker_libraries(server) for name in HEAVY)
        finally:
            browser.close()


def test_the_related_index_keeps_float32_values_and_int32_indices():
    index = engine.build_index([(1, "a", "Deportation splits families."), (2, "b", "Families fear deportation.")])
    index.add([(3, "c", "Borders and families, deportation again.")])
    rows = index._rows
    for matrix in (rows.weights, rows.postings, index._grams, index._prefixes):
        assert matrix.data.dtype == np.float32
        assert matrix.indices.dtype == np.int32 and matrix.indptr.dtype == np.int32
    assert [m.id for m in engine.related(index, 1, k=2)] == [3, 2]


def test_compact_narrows_a_wide_matrix_without_changing_it():
    wide = sp.random(50, 40, density=0.2, format="csr", dtype=np.float64, random_state=0)
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    narrow = features.compact(wide.copy())
    assert (narrow.data.dtype, narrow.indices.dtype, narrow.indptr.dtype) == (np.float32, np.int32, np.int32)
    assert np.allclose(narrow.toarray(), wide.toarray())


def test_approximate_size_grows_with_the_contents():
    small = [{"id": i, "text": f"{i:05} " + "x" * 10} for i in range(100)]
    large = [{"id": i, "text": f"{i:05} " + "x" * 1000} for i in range(100)]
    many = [{"id": i, "text": f"{i:05} " + "x" * 10} for i in range(10_000)]
    assert database.approximate_size(large) > database.approximate_size(small) + 90 * 1000
    assert 80 < database.approximate_size(many) / database.approximate_size(small) < 120


def test_the_page_cache_evicts_the_least_recently_used_results_past_its_byte_cap(app):
    value = "x" * 1000
    size = database.approximate_size(value)
    app.config["PAGE_CACHE_BYTES"] = 3 * size
    computed = []

    def fetch(name: str):
        return database.cached(name, (), lambda: computed.append(name) or value)

    with app.app_context():
        for name in ("a", "b", "c", "a", "d"):  # "d" pushes out "b", the least recently used
            fetch(name)
        assert computed == ["a", "b", "c", "d"]
        fetch("b")
        assert computed[-1] == "b"
        fetch("a")
        fetch("d")
        assert computed == ["a", "b", "c", "d", "b"]
        assert app.extensions["counterpoint_cache"].bytes <= 3 * size


def test_a_result_larger_than_the_cap_is_not_kept(app):
    app.config["PAGE_CACHE_BYTES"] = 500
    computed = []
    with app.app_context():
        for _ in range(2):
            assert database.cached("big", (), lambda: computed.append(1) or "y" * 1000) == "y" * 1000
    assert len(computed) == 2


def test_a_write_drops_the_results_of_the_data_before_it(app, db):
    with app.app_context():
        database.cached("before", (), lambda: "x" * 1000)
        with db.atomic():  # what every write does (store.migrations m080)
            db.execute("UPDATE counters SET value = value + 1 WHERE name = 'data'")
        database.cached("after", (), lambda: "y" * 10)
        kept = app.extensions["counterpoint_cache"]
        assert [key[2] for key in kept.entries] == ["after"]
        assert kept.bytes == database.approximate_size("y" * 10)
