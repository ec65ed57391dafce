"""Verification and recognition by distance between encodings (NumPy reference).

Verification: same person when ‖f(img) − f(identity)‖ < threshold.
Recognition: the nearest enrolled encoding names the face; above the threshold it is
"unknown". Distances are vectorized, ‖q − e‖² = ‖q‖² − 2 q·e + ‖e‖², so one query
against n enrolled encodings costs one (q, d) @ (d, n) product, in the dtype of the
enrolled matrix (float32 halves the memory read per query); the winner's distance is then
recomputed exactly in float64. Torch twin: ``match_torch.py``.
"""

from __future__ import annotations

import numpy as np

UNKNOWN = "unknown"


def distances(Q: np.ndarray, E: np.ndarray, E_sq: np.ndarray | None = None) -> np.ndarray:
    """Return D (q, n) with D[i, j] = ‖Qᵢ − Eⱼ‖ for queries Q (q, d) and encodings E (n, d)."""
    if E_sq is None:
        E_sq = np.sum(E * E, axis=1)  # (n,)
    Q_sq = np.sum(Q * Q, axis=1)  # (q,)
    D2 = Q_sq[:, None] - 2 * (Q @ E.T) + E_sq[None, :]  # (q, n)
    return np.sqrt(np.maximum(D2, 0.0))


def verify(e: np.ndarray, known: np.ndarray, threshold: float) -> tuple[bool, float]:
    """Return (min_k ‖e − known_k‖ < threshold, that distance) for e (d,) and known (k, d)."""
    d = float(np.min(distances(e[None, :], known)))
    return d < threshold, d


def identify(
    Q: np.ndarray,
    E: np.ndarray,
    names: list[str],
    threshold: float,
    E_sq: np.ndarray | None = None,
) -> list[tuple[str, float]]:
    """Return (name of the nearest Eⱼ or "unknown" if ≥ threshold, distance) for each Qᵢ."""
    if len(E) == 0:
        return [(UNKNOWN, float("inf")) for _ in range(len(Q))]
    D = distances(Q.astype(E.dtype), E, E_sq)  # (q, n)
    j = np.argmin(D, axis=1)  # (q,)
    d = np.linalg.norm(Q.astype(np.float64) - E[j].astype(np.float64), axis=1)  # (q,)
    pairs = zip(j, d, strict=True)
    return [(names[jj] if dd < threshold else UNKNOWN, float(dd)) for jj, dd in pairs]
