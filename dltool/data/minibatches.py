"""Mini-batches as in the course notes: shuffle the columns once, then cut.

``random_mini_batches`` draws one permutation of the m columns from
``np.random.RandomState(seed)`` (the same permutation as the notes' ``np.random.seed(seed);
np.random.permutation(m)``, without touching the global generator), applies it to X and Y
alike, and cuts ⌊m/size⌋ full batches plus a last one of m mod size columns. Size 1 is
stochastic gradient descent, size m is batch gradient descent.
"""

from __future__ import annotations

import numpy as np


def partition_sizes(m: int, size: int) -> list[int]:
    """Return the batch sizes: ⌊m/size⌋ times ``size``, then m mod size if non-zero."""
    if m < 1 or size < 1:
        raise ValueError(f"m and the mini-batch size must be ≥ 1, got m={m}, size={size}")
    full, rest = divmod(m, size)
    return [size] * full + ([rest] if rest else [])


def permutation(m: int, seed: int) -> np.ndarray:
    """Return the column order (m,) used for ``seed``."""
    return np.random.RandomState(seed).permutation(m)


def batch_indices(m: int, size: int, seed: int | None) -> list[np.ndarray]:
    """Return the column indices of each mini-batch (in order when ``seed`` is None)."""
    order = np.arange(m) if seed is None else permutation(m, seed)
    edges = np.cumsum([0] + partition_sizes(m, size))
    return [order[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def random_mini_batches(
    X: np.ndarray, Y: np.ndarray, size: int = 64, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return [(X_b (n_x, size), Y_b (n_y, size)), …] of one shuffle of the columns."""
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X has {X.shape[1]} columns but Y has {Y.shape[1]}")
    return [(X[:, idx], Y[:, idx]) for idx in batch_indices(X.shape[1], size, seed)]
