"""The analyst's baseline that tickets are measured against: TF-IDF text similarity and connected components.

What an analyst does in twenty minutes with a spreadsheet of cases and scikit-learn, made exact so that it
can be scored beside gridline on the same cases in the same run:

1. The text of a case is its title, its description and its address, whatever of these it carries
   (an analyst uses every text column the export has; the message board has no address, Boston 311 has no
   description).
2. Within each quarter, cases are vectorised by TF-IDF (scikit-learn's defaults: smoothed idf, l2 norm):
   **character bigrams** for Chinese text (whitespace removed), **word unigrams and bigrams** for other
   text (lower-cased). A case is Chinese when at least a fifth of its characters are CJK ideographs;
   Chinese and other cases of one quarter are vectorised separately.
3. Two cases are linked when the cosine of their vectors is **≥ 0.2**; each connected component of
   **≥ 3 cases** is a ticket.

Components are found in row blocks of the similarity matrix, never materialising it whole: a quarter of a
city's requests has hundreds of millions of pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

COSINE_THRESHOLD = 0.2
MIN_TICKET_CASES = 3
CHINESE_SHARE = 0.2

_CJK = re.compile(r"[\u3400-\u9fff]")
_SPACE = re.compile(r"\s+")
_BLOCK_ROWS = 512
_MAX_PENDING_EDGES = 4_000_000


def is_chinese(text: str) -> bool:
    letters = len(_SPACE.sub("", text))
    return letters > 0 and len(_CJK.findall(text)) >= CHINESE_SHARE * letters


def _vectorizer(chinese: bool) -> TfidfVectorizer:
    if chinese:
        return TfidfVectorizer(analyzer="char", ngram_range=(2, 2), dtype=np.float32)
    return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True, dtype=np.float32)


def _labels(edges_from: np.ndarray, edges_to: np.ndarray, n: int) -> np.ndarray:
    graph = coo_matrix((np.ones(len(edges_from), dtype=np.int8), (edges_from, edges_to)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def similarity_components(texts: list[str], chinese: bool) -> np.ndarray:
    """A component label per text: texts linked by a chain of cosine ≥ COSINE_THRESHOLD share one."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        vectors = _vectorizer(chinese).fit_transform(texts).tocsr()
    except ValueError:  # every text empty or without a single term: nothing can link
        return np.arange(n)
    transposed = vectors.T.tocsc()
    pending_from, pending_to = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for start in range(0, n, _BLOCK_ROWS):
        block = (vectors[start : start + _BLOCK_ROWS] @ transposed).tocoo()
        rows = block.row.astype(np.int64) + start
        keep = (block.data >= COSINE_THRESHOLD) & (rows < block.col)
        pending_from.append(rows[keep])
        pending_to.append(block.col[keep].astype(np.int64))
        if sum(len(edges) for edges in pending_from) > _MAX_PENDING_EDGES:
            # Keep memory bounded: replace the edges seen so far by one edge from each case to the first
            # case of its component, which leaves the components unchanged.
            labels = _labels(np.concatenate(pending_from), np.concatenate(pending_to), n)
            first = np.full(labels.max() + 1, n, dtype=np.int64)
            np.minimum.at(first, labels, np.arange(n))
            pending_from, pending_to = [np.arange(n)], [first[labels]]
    return _labels(np.concatenate(pending_from), np.concatenate(pending_to), n)


def baseline_tickets(cases: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(ticket_id, quarter, case_id) of the baseline's tickets, from every case's (case_id, quarter, text)."""
    groups: dict[tuple[str, bool], list[tuple[str, str]]] = {}
    for case_id, quarter, text in cases:
        text = _SPACE.sub(" ", text or "").strip()
        chinese = is_chinese(text)
        if chinese:
            text = _SPACE.sub("", text)
        groups.setdefault((quarter, chinese), []).append((case_id, text))
    tickets: list[tuple[str, str, str]] = []
    for (quarter, chinese), members in sorted(groups.items()):
        labels = similarity_components([text for _, text in members], chinese)
        sizes = np.bincount(labels)
        language = "zh" if chinese else "words"
        for (case_id, _), label in zip(members, labels, strict=True):
            if sizes[label] >= MIN_TICKET_CASES:
                tickets.append((f"baseline:{quarter}:{language}:{label}", quarter, case_id))
    return tickets
