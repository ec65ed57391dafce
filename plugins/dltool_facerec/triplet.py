"""The triplet loss of the notes (FaceNet, Schroff et al. 2015), NumPy reference.

For encodings f(A), f(P), f(N) of shape (m, 128) and margin α (0.2 by default):

    J = Σᵢ max(‖f(Aᵢ) − f(Pᵢ)‖² − ‖f(Aᵢ) − f(Nᵢ)‖² + α, 0)

"Make sure the anchor is closer to the positive than to the negative by at least α."
Online mining picks the triplets from a batch of encodings with identity labels:
batch-all (every valid triplet, loss averaged over the active ones) and semi-hard
(per anchor-positive pair the closest negative with d(a,p) < d(a,n) < d(a,p) + α).
The torch twin is ``triplet_torch.py``.
"""

from __future__ import annotations

import numpy as np

ALPHA = 0.2


def triplet_loss(A: np.ndarray, P: np.ndarray, N: np.ndarray, alpha: float = ALPHA) -> float:
    """Return J = Σᵢ max(‖Aᵢ − Pᵢ‖² − ‖Aᵢ − Nᵢ‖² + α, 0) for encodings (m, 128)."""
    pos = np.sum((A - P) ** 2, axis=-1)  # (m,)
    neg = np.sum((A - N) ** 2, axis=-1)  # (m,)
    return float(np.sum(np.maximum(pos - neg + alpha, 0.0)))


def triplet_loss_grads(
    A: np.ndarray, P: np.ndarray, N: np.ndarray, alpha: float = ALPHA
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (dJ/dA, dJ/dP, dJ/dN) = active · (2(N − P), −2(A − P), 2(A − N))."""
    pos = np.sum((A - P) ** 2, axis=-1)
    neg = np.sum((A - N) ** 2, axis=-1)
    active = (pos - neg + alpha > 0).astype(A.dtype)[:, None]  # (m, 1)
    return active * 2 * (N - P), active * -2 * (A - P), active * 2 * (A - N)


def pairwise_sq_distances(E: np.ndarray) -> np.ndarray:
    """Return D with D[i, j] = ‖Eᵢ − Eⱼ‖² for encodings E (m, d)."""
    sq = np.sum(E**2, axis=1)  # (m,)
    D = sq[:, None] - 2 * E @ E.T + sq[None, :]  # (m, m)
    return np.maximum(D, 0.0)


def valid_triplets(labels: np.ndarray) -> np.ndarray:
    """Return mask (m, m, m): [a, p, n] with a ≠ p, label a = label p ≠ label n."""
    same = labels[:, None] == labels[None, :]  # (m, m)
    distinct = ~np.eye(len(labels), dtype=bool)
    return (same & distinct)[:, :, None] & ~same[:, None, :]


def batch_all_triplet_loss(
    E: np.ndarray, labels: np.ndarray, alpha: float = ALPHA
) -> tuple[float, float]:
    """Return (mean of max(d(a,p) − d(a,n) + α, 0) over active triplets, active fraction)."""
    D = pairwise_sq_distances(E)
    losses = D[:, :, None] - D[:, None, :] + alpha  # (m, m, m): [a, p, n]
    valid = valid_triplets(labels)
    losses = np.where(valid, np.maximum(losses, 0.0), 0.0)
    n_active = int(np.sum(losses > 1e-16))
    n_valid = int(np.sum(valid))
    return float(np.sum(losses) / max(n_active, 1)), n_active / max(n_valid, 1)


def semi_hard_triplets(E: np.ndarray, labels: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Return (k, 3) indices [a, p, n]: per pair the closest n with d(a,p) < d(a,n) < d(a,p)+α.

    Pairs without a semi-hard negative take the farthest negative (as TF-Addons does).
    """
    D = pairwise_sq_distances(E)
    out = []
    pairs = (labels[:, None] == labels[None, :]) & ~np.eye(len(E), dtype=bool)  # (m, m)
    for a, p in zip(*np.nonzero(pairs), strict=True):
        negatives = np.nonzero(labels != labels[a])[0]
        if len(negatives) == 0:
            continue
        d_an = D[a, negatives]
        semi = (d_an > D[a, p]) & (d_an < D[a, p] + alpha)
        n = (
            negatives[np.argmin(np.where(semi, d_an, np.inf))]
            if semi.any()
            else negatives[np.argmax(d_an)]
        )
        out.append((a, p, n))
    return np.array(out, dtype=np.int64).reshape(-1, 3)
