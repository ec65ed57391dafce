"""Cosine similarity, nearest words, analogies and the odd one out (NumPy reference).

From the course notes (NLP, Word2Vec): ``CosineSimilarity(u, v) = u·v / (‖u‖₂ ‖v‖₂)``.
Analogies ``a : b :: c : ?`` follow Levy & Goldberg (2014): 3CosAdd ranks every word x by
``cos(x, b) − cos(x, a) + cos(x, c)`` and 3CosMul by ``cos'(x, b)·cos'(x, c) / (cos'(x, a) + ε)``
with ``cos' = (cos + 1)/2``; the three input words are never an answer. Vocabulary matrices are
``(V, d)``: one row per word; ``unit`` means the rows are scaled to length 1. A zero row has no
direction: callers pass such rows in ``exclude`` so they are never an answer.

One query is a memory-bound matrix-vector product: extra threads only contend, so the caller
passes the width (``threads``: dltool's small-step policy, one unless the user fixed
``--threads``; None leaves the pools as they are).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dltool.device import thread_limit

EPS_MUL = 1e-3


def cosine_similarity(u: np.ndarray, v: np.ndarray) -> float:
    """Return u·v / (‖u‖₂ ‖v‖₂)."""
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


def normalize_rows(E: np.ndarray) -> np.ndarray:
    """Return E with every row divided by its length ‖e‖₂ (zero rows stay zero)."""
    norms = np.linalg.norm(E, axis=1, keepdims=True)  # (V, 1)
    return E / np.where(norms > 0, norms, 1).astype(E.dtype)


def top_n(scores: np.ndarray, n: int, exclude: Iterable[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Return (rows, scores) of the ``n`` largest ``scores``, best first, skipping ``exclude``
    (``scores`` is overwritten there with −inf)."""
    exclude = np.unique(np.asarray(list(exclude), dtype=np.int64))
    scores[exclude] = -np.inf
    n = min(n, scores.size - exclude.size)
    if n < 1:
        return np.empty(0, dtype=np.int64), scores[:0]
    if scores.size >= 256 * n:  # the n-th best of every 64th score bounds the n-th best
        sample = scores[::64]
        cand = np.flatnonzero(scores >= np.partition(sample, sample.size - n)[sample.size - n])
    else:
        cand = np.arange(scores.size)
    rows = cand[np.argsort(-scores[cand], kind="stable")[:n]]
    return rows, scores[rows]


def similarities(unit: np.ndarray, v: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Return cos(e_x, v) for every row x of ``unit`` (V, d), shape (V,); ``v`` is not zero."""
    with thread_limit(threads):
        return unit @ (v / np.linalg.norm(v))  # (V,)


def most_similar(
    unit: np.ndarray, row: int, n: int = 10, exclude: Iterable[int] = (), threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return (rows, cosines) of the ``n`` words nearest to word ``row``, excluding itself and
    the rows in ``exclude``."""
    return top_n(similarities(unit, unit[row], threads), n, exclude=(row, *exclude))


def analogy_scores(
    unit: np.ndarray, a: int, b: int, c: int, method: str = "add", threads: int | None = None
) -> np.ndarray:
    """Return the 3CosAdd or 3CosMul score of every word x as the answer to a : b :: c : x."""
    with thread_limit(threads):
        cos_a, cos_b, cos_c = (unit @ unit[i] for i in (a, b, c))  # (V,) each
    if method == "add":
        return cos_b - cos_a + cos_c
    if method == "mul":
        return (cos_b + 1) / 2 * (cos_c + 1) / 2 / ((cos_a + 1) / 2 + EPS_MUL)
    raise ValueError(f"unknown analogy method {method!r}")


def analogy(
    unit: np.ndarray,
    a: int,
    b: int,
    c: int,
    n: int = 5,
    method: str = "add",
    exclude: Iterable[int] = (),
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (rows, scores) of the ``n`` best answers to a : b :: c : ?, the inputs and the
    rows in ``exclude`` left out."""
    scores = analogy_scores(unit, a, b, c, method, threads)
    return top_n(scores, n, exclude=(a, b, c, *exclude))


def doesnt_match(unit_rows: np.ndarray) -> tuple[int, np.ndarray]:
    """Return (position of the odd word, cosines to the mean): the word least similar to the
    normalized mean of the unit vectors."""
    mean = unit_rows.mean(axis=0)  # (d,)
    cos = unit_rows @ (mean / np.linalg.norm(mean))  # (k,)
    return int(np.argmin(cos)), cos


def analogy_batch(
    unit: np.ndarray, questions: np.ndarray, method: str = "add", batch: int = 512
) -> np.ndarray:
    """Return the predicted row for each question (a, b, c) of ``questions`` (Q, 3), answers
    searched among all rows of ``unit`` (R, d) and the three inputs excluded."""
    preds = np.empty(len(questions), dtype=np.int64)
    for start in range(0, len(questions), batch):
        q = questions[start : start + batch]  # (B, 3)
        if method == "add":  # Σ of cosines = one product with ê_b − ê_a + ê_c
            scores = (unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]) @ unit.T  # (B, R)
        else:
            cos_a, cos_b, cos_c = (unit[q[:, k]] @ unit.T for k in range(3))  # (B, R) each
            scores = (cos_b + 1) / 2 * (cos_c + 1) / 2 / ((cos_a + 1) / 2 + EPS_MUL)
        np.put_along_axis(scores, q, -np.inf, axis=1)
        preds[start : start + batch] = scores.argmax(axis=1)
    return preds
