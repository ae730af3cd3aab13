"""Group passages that make the same argument: average-link clustering over TF-IDF vectors.

The settings were chosen on Perspectrum's train split by `benchmarks/bench_arguments.py`:
character n-grams (2 to 5, within words) fitted on the passages being grouped, cosine distance,
average linkage, and a cut at distance 0.75. Character n-grams match "deport", "deported" and
"deportation" without a stemmer, which word features miss (0.56 against 0.61 adjusted Rand).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import MiniBatchKMeans
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

THRESHOLD = 0.8
NGRAMS = (3, 5)
_WORD = r"(?u)\b\w+\b"
# Beyond this many passages the full distance matrix grows too large (8 bytes times n^2 / 2), so
# blocks of this size are grouped first and their groups' centres are then grouped the same way.
BLOCK = 2_500
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+")
MAX_SENTENCE = 300


def vectors(texts: Sequence[str]) -> sp.csr_matrix:
    """L2-normalised character n-gram TF-IDF rows, fitted on these texts alone.

    The n-grams are `analyzer="char_wb"`'s, taken of the words the tokenizer finds (so without
    their punctuation) and counted through them: each distinct word is cut into n-grams once, and
    a passage's n-gram counts are its word counts times that map. Splitting every passage into
    n-grams directly costs about 2.5 times as much.
    """
    words = CountVectorizer(lowercase=True, strip_accents="unicode", token_pattern=_WORD, dtype=np.float32)
    try:
        counts = words.fit_transform(texts)
    except ValueError:
        # No word at all: nothing to learn, so no two passages can be alike.
        return sp.csr_matrix((len(texts), 1), dtype=np.float32)
    grams = CountVectorizer(analyzer="char_wb", ngram_range=NGRAMS, lowercase=False, dtype=np.float32)
    gram_counts = (counts @ grams.fit_transform(words.get_feature_names_out())).tocsr()
    transformer = TfidfTransformer(sublinear_tf=True)
    return transformer.fit_transform(gram_counts).astype(np.float32).tocsr()


def group(texts: Sequence[str], threshold: float = THRESHOLD) -> list[int]:
    """An argument number per text (0, 1, ... in order of first appearance)."""
    return group_vectors(vectors(texts), threshold) if texts else []


def group_vectors(matrix: sp.csr_matrix, threshold: float = THRESHOLD) -> list[int]:
    """`group` for rows already made by `vectors`."""
    return _renumber(_cluster(matrix, threshold)) if matrix.shape[0] else []


def _cluster(matrix: sp.csr_matrix, threshold: float) -> np.ndarray:
    n = matrix.shape[0]
    if n <= BLOCK:
        return _average_link(matrix, threshold)
    # Blocks of passages that are alike to begin with: k-means orders them, so that most of the
    # passages one argument holds share a block and meet at the exact level, not only as centres.
    order = _rough_order(matrix)
    matrix = matrix[order]
    labels = np.empty(n, dtype=np.int64)
    centres, offset = [], 0
    for start in range(0, n, BLOCK):
        rows = matrix[start : start + BLOCK]
        block = _average_link(rows, threshold)
        labels[start : start + BLOCK] = block + offset
        # One sparse product averages each group's rows: a (groups x rows) membership matrix, each
        # row 1/size, times the rows. Not normalised: the dot product of two such means is the mean
        # similarity between the groups' passages, which is what average linkage cuts on.
        sizes = np.bincount(block)
        membership = sp.csr_matrix((1.0 / sizes[block], (block, np.arange(len(block)))))
        centres.append(membership @ rows)
        offset += block.max() + 1
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n)
    if offset == n:
        # Nothing in any block was alike: the centres are the passages, and would not shrink.
        return labels[back]
    merged = _cluster(sp.vstack(centres).tocsr(), threshold)
    return merged[labels][back]


def _rough_order(matrix: sp.csr_matrix) -> np.ndarray:
    parts = min(matrix.shape[0], -(-matrix.shape[0] // BLOCK) * 4)
    kmeans = MiniBatchKMeans(n_clusters=parts, random_state=0, n_init=1, batch_size=2048)
    return np.argsort(kmeans.fit_predict(matrix), kind="stable")


def _average_link(matrix: sp.csr_matrix, threshold: float) -> np.ndarray:
    n = matrix.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    similarity = (matrix @ matrix.T).toarray()
    distance = np.clip(1.0 - similarity[np.triu_indices(n, k=1)], 0.0, 2.0).astype(np.float64)
    tree = linkage(distance, method="average")
    return fcluster(tree, threshold, criterion="distance").astype(np.int64) - 1


def _renumber(labels: np.ndarray) -> list[int]:
    seen: dict[int, int] = {}
    return [seen.setdefault(int(label), len(seen)) for label in labels]


def central(matrix: sp.csr_matrix, members: Sequence[int]) -> int:
    """The member most like the others (highest mean cosine similarity): the argument's voice."""
    if len(members) <= 2:
        return members[0]
    rows = matrix[list(members)]
    mean_similarity = np.asarray((rows @ rows.T).sum(axis=1)).ravel()
    return members[int(np.argmax(mean_similarity))]


def sentence(text: str) -> str:
    """The passage's first sentence, shortened at a word to MAX_SENTENCE characters.

    The first sentence of a passage usually states its point; later ones support it.
    """
    first = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(first) <= MAX_SENTENCE:
        return first
    return first[:MAX_SENTENCE].rsplit(" ", 1)[0] + " …"
