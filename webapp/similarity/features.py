"""Sparse text features for the related-passage engine (engine.py).

Text is tokenised once into word weights (1 + log tf); prefixes and character n-grams are
linear maps of those weights over the vocabulary, so each derived representation is one sparse
product away. The helpers here build those maps and weigh and normalise their rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    TfidfVectorizer,
)

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_PREFIX_LENGTH = 4
_GRAM_SIZES = (2, 4)
# n-gram statistics are gathered this many passages at a time, to bound build memory.
_CHUNK = 20_000


def fit_words(texts: list[str]) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    """Word weights 1 + log tf; idf and L2 norm come later, per derived representation."""
    vectorizer = TfidfVectorizer(
        lowercase=True,
        strip_accents="unicode",
        token_pattern=TOKEN_PATTERN,
        ngram_range=(1, 1),
        stop_words=None,  # the n-gram stage needs stop words; the prefix map drops them
        sublinear_tf=True,
        use_idf=False,
        norm=None,
        dtype=np.float32,
    )
    if any(re.search(TOKEN_PATTERN, text) for text in texts):
        return vectorizer, vectorizer.fit_transform(texts)
    # Without a single word there is nothing to learn. "!" is never a token, so this vocabulary
    # matches nothing; TfidfVectorizer insists on fitting at least one text.
    vectorizer.set_params(vocabulary=["!"]).fit([""])
    return vectorizer, sp.csr_matrix((len(texts), 1), dtype=np.float32)


def prefix_map(words: np.ndarray) -> sp.csr_matrix:
    """Binary word x prefix matrix; stop words map to no prefix at all."""
    columns: dict[str, int] = {}
    rows, cols = [], []
    for row, word in enumerate(words):
        if word not in ENGLISH_STOP_WORDS:
            rows.append(row)
            cols.append(columns.setdefault(word[:_PREFIX_LENGTH], len(columns)))
    ones = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((ones, (rows, cols)), shape=(len(words), len(columns)))


def gram_map(words: np.ndarray) -> sp.csr_matrix:
    """Word x character n-gram count matrix (n-grams of the space-padded word)."""
    grams = CountVectorizer(
        analyzer="char_wb", ngram_range=_GRAM_SIZES, lowercase=False, dtype=np.float32
    )
    return grams.fit_transform(words)


def compact(matrix: sp.spmatrix) -> sp.spmatrix:
    """The CSR or CSC matrix with float32 values and, while its size allows, int32 indices.

    An entry then takes 8 bytes instead of the 16 of float64 and int64, which scipy may pick
    when it stacks or multiplies matrices; the related index is most of a worker's memory.
    """
    matrix.data = matrix.data.astype(np.float32, copy=False)
    if max(matrix.nnz, *matrix.shape) <= np.iinfo(np.int32).max:
        matrix.indices = matrix.indices.astype(np.int32, copy=False)
        matrix.indptr = matrix.indptr.astype(np.int32, copy=False)
    return matrix


def chunks(matrix: sp.csr_matrix) -> Iterator[sp.csr_matrix]:
    """Row blocks of the matrix; one (maybe empty) block at least."""
    for start in range(0, max(matrix.shape[0], 1), _CHUNK):
        yield matrix[start : start + _CHUNK]


def document_frequency(matrix: sp.csr_matrix) -> np.ndarray:
    """Rows with a nonzero per column (sparse products hold no duplicate entries)."""
    return np.bincount(matrix.tocsr().indices, minlength=matrix.shape[1])


def idf(frequency: np.ndarray, n_documents: int) -> np.ndarray:
    """Smoothed idf, as TfidfVectorizer(smooth_idf=True) computes it."""
    return (np.log((1 + n_documents) / (1 + frequency)) + 1).astype(np.float32)


def weighted(features: sp.csr_matrix, weights: np.ndarray) -> sp.csr_matrix:
    """Feature values times per-column weights (idf)."""
    features = features.tocsr()
    data = features.data * weights[features.indices]
    return sp.csr_matrix((data, features.indices, features.indptr), shape=features.shape)


def row_lengths(matrix: sp.csr_matrix) -> np.ndarray:
    """L2 length of each row, 1 for empty rows so that dividing by it is safe."""
    lengths = np.sqrt(matrix.power(2) @ np.ones(matrix.shape[1], dtype=np.float32))
    return np.where(lengths > 0, lengths, 1).astype(np.float32)


def normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled in place to unit L2 length, like TfidfVectorizer(norm="l2")."""
    # sklearn's normalize rejects matrices without columns (an all-stop-word corpus has no
    # prefixes) and costs more than the product itself on one query row.
    matrix.data /= np.repeat(row_lengths(matrix), np.diff(matrix.indptr))
    return matrix
