"""Suggest related passages across documents with two-stage TF-IDF similarity.

Stage 1 finds candidates: TF-IDF over the 4-character prefixes of content words (English stop
words dropped), searched through an inverted index so that a query reads only the postings of
its own terms. Prefixes act as a cheap stemmer ("vaccination" meets "vaccinate").
Stage 2 re-ranks the best candidates with TF-IDF over character 2-4-grams of all their words
(stop words included: "not" and "must" carry stance). The score blends the two cosines.

Every representation is a linear map of one matrix of word weights (1 + log tf): word ->
prefix and word -> n-gram counts are sparse matrices over the vocabulary. So text is tokenised
once, and an n-gram cosine needs no n-gram vector of the candidate, only its word weights and
its n-gram vector length, stored at indexing time (n-gram vectors are ~15x word vectors).
The maps and their weighting live in features.py.

`related` finds the most similar passages anywhere; `rank` orders a set chosen elsewhere (the
counterpoints, chosen by their labels) with the same score, keeping candidates that score 0.

On Perspectrum (benchmarks/RESULTS-related.md) this beats every single TF-IDF setting tried,
scikit-learn's char_wb analyzer included, at word-level memory and query cost.

Incremental updates keep the vocabulary and idf of the last full build: words first seen in
added text are ignored and document frequencies drift. `RelatedIndex.stale_fraction` says how
much of the index changed since the build, so callers can rebuild when it grows (say > 0.2).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from webapp.similarity.features import (
    chunks,
    compact,
    document_frequency,
    fit_words,
    gram_map,
    idf,
    normalized,
    prefix_map,
    row_lengths,
    weighted,
)

Passage = tuple[int, str, str]

# Weight of the prefix cosine in the blend, the n-gram cosine gets the rest; tuned on the
# Perspectrum train and dev claims, and flat between 0.2 and 0.4.
_PREFIX_WEIGHT = 0.3
# On Perspectrum no recall figure changed beyond the best 100 candidates; 200 leaves room
# for bigger corpora at ~1 ms a query.
_CANDIDATES = 200
_TERMS_SHOWN = 5


@dataclass(frozen=True)
class Match:
    """One suggested passage: its id, blended similarity in [0, 1] and shared words."""

    id: int
    score: float
    terms: tuple[str, ...]


@dataclass(frozen=True)
class _Rows:
    """Everything stored per row, replaced as a whole so a query never sees half an update."""

    weights: sp.csr_matrix  # word weights, 1 + log tf
    postings: sp.csc_matrix  # L2-normalised prefix TF-IDF by column: the inverted index
    gram_lengths: np.ndarray  # L2 length of each row's n-gram TF-IDF vector
    ids: np.ndarray
    documents: np.ndarray  # document codes
    alive: np.ndarray  # False once the passage is removed or replaced


class RelatedIndex:
    """Searchable TF-IDF index of passages; build it with `build_index`.

    Queries may run while another thread adds or removes passages; writes must be serialised.
    """

    def __init__(self, passages: Iterable[Passage]):
        """Fit the vocabulary and idf weights on the passages, then index them."""
        batch = _unique(passages)
        self._vectorizer, weights = fit_words([text for _, text in batch.values()])
        self._words = self._vectorizer.get_feature_names_out()
        self._prefixes = compact(prefix_map(self._words))
        self._is_content = np.diff(self._prefixes.indptr) > 0
        self._grams = compact(gram_map(self._words))
        n_passages = weights.shape[0]
        self._word_idf = idf(document_frequency(weights), n_passages)
        self._prefix_idf = idf(document_frequency(weights @ self._prefixes), n_passages)
        gram_frequency = sum(document_frequency(c @ self._grams) for c in chunks(weights))
        self._gram_idf = idf(gram_frequency, n_passages)
        self._rows = _Rows(
            weights=sp.csr_matrix((0, len(self._words)), dtype=np.float32),
            postings=sp.csc_matrix((0, self._prefixes.shape[1]), dtype=np.float32),
            gram_lengths=np.zeros(0, dtype=np.float32),
            ids=np.zeros(0, dtype=np.int64),
            documents=np.zeros(0, dtype=np.int32),
            alive=np.zeros(0, dtype=bool),
        )
        self._row_of: dict[int, int] = {}
        self._document_codes: dict[str, int] = {}
        self._append(batch, weights)
        self._changes = 0

    def __len__(self) -> int:
        """Number of passages currently searchable."""
        return len(self._row_of)

    def __contains__(self, passage_id: object) -> bool:
        """True when the passage id is in the index."""
        return passage_id in self._row_of

    @property
    def stale_fraction(self) -> float:
        """Passages added, replaced or removed since the last full build, per indexed passage."""
        return min(1.0, self._changes / max(len(self), 1))

    def add(self, passages: Iterable[Passage]) -> None:
        """Add passages, replacing any with the same id, using the vocabulary of the build."""
        batch = _unique(passages)
        if not batch:
            return
        for passage_id in batch:
            self._forget(passage_id)
        self._append(batch, self._vectorizer.transform([text for _, text in batch.values()]))
        self._changes += len(batch)

    def remove(self, passage_ids: Iterable[int]) -> None:
        """Remove passages by id; ids not in the index are ignored."""
        for passage_id in passage_ids:
            self._changes += self._forget(passage_id)

    def _append(self, batch: dict[int, tuple[str, str]], weights: sp.csr_matrix) -> None:
        old = self._rows
        codes = [self._document_code(document) for document, _ in batch.values()]
        postings = normalized(weighted(weights @ self._prefixes, self._prefix_idf))
        lengths = [self._gram_lengths(chunk) for chunk in chunks(weights)]
        self._rows = _Rows(
            weights=compact(sp.vstack([old.weights, weights], format="csr")),
            postings=compact(sp.vstack([old.postings, postings], format="csc")),
            gram_lengths=np.concatenate([old.gram_lengths, *lengths]),
            ids=np.concatenate([old.ids, np.fromiter(batch, dtype=np.int64)]),
            documents=np.concatenate([old.documents, np.asarray(codes, dtype=np.int32)]),
            alive=np.concatenate([old.alive, np.ones(len(batch), dtype=bool)]),
        )
        # Row numbers are published only after the rows that they point to.
        self._row_of.update(zip(batch, range(len(old.ids), len(self._rows.ids))))

    def _document_code(self, document: str) -> int:
        return self._document_codes.setdefault(document, len(self._document_codes))

    def _forget(self, passage_id: int) -> bool:
        row = self._row_of.pop(passage_id, None)
        if row is None:
            return False
        # The row stays in the matrices until the next build; masking it is O(1).
        self._rows.alive[row] = False
        return True

    def _related(self, passage_id: int, k: int, allowed: Collection[int] | None) -> list[Match]:
        allowed_rows = self._allowed_rows(allowed)
        row = self._row_of[passage_id]
        rows = self._rows  # taken after reading row numbers, so it holds all of them
        query = rows.weights[row : row + 1]
        return self._search(rows, query, k, rows.documents[row], allowed_rows)

    def _related_to_text(
        self, text: str, k: int, exclude_document: str | None, allowed: Collection[int] | None
    ) -> list[Match]:
        allowed_rows = self._allowed_rows(allowed)
        code = self._document_codes.get(exclude_document, -1)
        query = self._vectorizer.transform([text])
        return self._search(self._rows, query, k, code, allowed_rows)

    def _rank(self, passage_id: int, candidates: Collection[int], k: int, offset: int) -> list[Match]:
        ids = np.unique(np.fromiter(candidates, dtype=np.int64, count=len(candidates)))
        row = self._row_of[passage_id]
        found = np.fromiter((self._row_of.get(int(i), -1) for i in ids), dtype=np.int64, count=len(ids))
        rows = self._rows  # taken after reading row numbers, so it holds all of them
        words = rows.weights[row : row + 1]
        indexed = found >= 0
        scores = np.zeros(len(ids), dtype=np.float64)
        if indexed.any():
            # The same blend as `_search`, but for every candidate: the labels chose them, so
            # one that shares no prefix with the passage is still listed, after the similar ones.
            query = normalized(weighted(words @ self._prefixes, self._prefix_idf))
            prefix = _prefix_scores(rows, query)[found[indexed]]
            grams = self._gram_cosines(rows, words, found[indexed])
            scores[indexed] = np.clip(_PREFIX_WEIGHT * prefix + (1 - _PREFIX_WEIGHT) * grams, 0, 1)
        order = np.lexsort((ids, -scores))[max(offset, 0) : max(offset, 0) + max(k, 0)]
        query_words = (words.indices, words.data)
        return [
            Match(
                id=int(ids[i]),
                score=float(scores[i]),
                terms=self._shared_terms(query_words, _row(rows.weights, found[i])) if found[i] >= 0 else (),
            )
            for i in order
        ]

    def _search(
        self,
        rows: _Rows,
        words: sp.csr_matrix,
        k: int,
        exclude_document: int,
        allowed_rows: np.ndarray | None,
    ) -> list[Match]:
        """The k best rows for one row of word weights, skipping a document (by its code)."""
        query = normalized(weighted(words @ self._prefixes, self._prefix_idf))
        scores = _prefix_scores(rows, query)
        scores[rows.documents == exclude_document] = 0
        candidates = _top(scores, allowed_rows, max(_CANDIDATES, k))
        if not len(candidates):
            return []
        grams = self._gram_cosines(rows, words, candidates)
        blended = _PREFIX_WEIGHT * scores[candidates] + (1 - _PREFIX_WEIGHT) * grams
        blended = np.clip(blended, 0, 1)
        order = np.lexsort((rows.ids[candidates], -blended))[: max(k, 0)]
        query_words = (words.indices, words.data)
        return [
            Match(
                id=int(rows.ids[candidates[i]]),
                score=float(blended[i]),
                terms=self._shared_terms(query_words, _row(rows.weights, candidates[i])),
            )
            for i in order
        ]

    def _gram_lengths(self, weights: sp.csr_matrix) -> np.ndarray:
        return row_lengths(weighted(weights @ self._grams, self._gram_idf))

    def _gram_cosines(
        self, rows: _Rows, words: sp.csr_matrix, candidates: np.ndarray
    ) -> np.ndarray:
        query = normalized(weighted(words @ self._grams, self._gram_idf))
        dense = np.zeros(self._grams.shape[1], dtype=np.float32)
        dense[query.indices] = query.data * self._gram_idf[query.indices]
        # (w @ grams * idf) . q == w . (grams @ (idf * q)): one pass over the word -> n-gram
        # map replaces building an n-gram vector for every candidate.
        per_word = self._grams @ dense
        return (rows.weights[candidates] @ per_word) / rows.gram_lengths[candidates]

    def _allowed_rows(self, allowed: Collection[int] | None) -> np.ndarray | None:
        if allowed is None:
            return None
        rows = [self._row_of[i] for i in allowed if i in self._row_of]
        return np.unique(np.asarray(rows, dtype=np.int64))

    def _shared_terms(
        self, a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
    ) -> tuple[str, ...]:
        """Content words of both (columns, weights) rows, largest word-cosine term first."""
        shared, in_a, in_b = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
        content = self._is_content[shared]
        shared, in_a, in_b = shared[content], in_a[content], in_b[content]
        contribution = self._word_idf[shared] ** 2 * a[1][in_a] * b[1][in_b]
        # Vocabulary columns are in alphabetical order, so ties fall back to the word.
        order = np.lexsort((shared, -contribution))[:_TERMS_SHOWN]
        return tuple(str(word) for word in self._words[shared[order]])


def build_index(passages: Iterable[Passage]) -> RelatedIndex:
    """Build an index of (passage_id, document_id, text) tuples, fitting vocabulary and idf."""
    return RelatedIndex(passages)


def related(
    index: RelatedIndex,
    passage_id: int,
    k: int = 10,
    allowed: Collection[int] | None = None,
) -> list[Match]:
    """Up to k passages most similar to an indexed one, never from its own document."""
    return index._related(passage_id, k, allowed)


def related_to_text(
    index: RelatedIndex,
    text: str,
    k: int = 10,
    exclude_document: str | None = None,
    allowed: Collection[int] | None = None,
) -> list[Match]:
    """Up to k indexed passages most similar to a text that is not in the index."""
    return index._related_to_text(text, k, exclude_document, allowed)


def rank(
    index: RelatedIndex,
    passage_id: int,
    candidates: Collection[int],
    k: int = 10,
    offset: int = 0,
) -> list[Match]:
    """Every candidate ranked by similarity to an indexed passage, best first; the k from `offset` on.

    Unlike `related`, nothing is left out: candidates that share no word with the passage, or
    that are not in the index, score 0 and come last. Ties go to the lower id. The caller
    chooses the candidates, so it also decides whether the passage's own document counts.
    """
    return index._rank(passage_id, candidates, k, offset)


def corpus_key(passages: Iterable[Passage]) -> str:
    """Hex digest of the passages, independent of their order, to key a cached index."""
    digest = hashlib.sha256()
    for passage in sorted((int(i), str(d), str(t)) for i, d, t in passages):
        digest.update(json.dumps(passage).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _unique(passages: Iterable[Passage]) -> dict[int, tuple[str, str]]:
    """Passages by id; a later tuple with the same id replaces an earlier one."""
    return {int(i): (document, text) for i, document, text in passages}


def _prefix_scores(rows: _Rows, query: sp.csr_matrix) -> np.ndarray:
    """Prefix cosine of every live row, reading only the postings of the query's terms."""
    postings = rows.postings
    starts, ends = postings.indptr[query.indices], postings.indptr[query.indices + 1]
    positions = _spans(starts, ends)
    contributions = postings.data[positions] * np.repeat(query.data, ends - starts)
    scores = np.bincount(postings.indices[positions], contributions, minlength=len(rows.ids))
    return scores * rows.alive


def _row(matrix: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and values of one CSR row, without the cost of a scipy slice."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _top(scores: np.ndarray, rows: np.ndarray | None, n: int) -> np.ndarray:
    """Rows (all, or the given ones) with a positive score: at most the n best, unordered."""
    # Positive rows first: argpartition degrades badly on a long run of tied zeros.
    rows = np.flatnonzero(scores) if rows is None else rows[scores[rows] > 0]
    if len(rows) <= n:
        return rows
    return rows[np.argpartition(scores[rows], -n)[-n:]]


def _spans(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of the index ranges [start, end), without a Python loop."""
    lengths = ends - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return np.arange(lengths.sum()) + offsets
