"""Verification quality from labelled encodings: genuine/impostor pairs, ROC, best threshold.

Every pair (i < j) of encodings is genuine (same identity) or impostor. A threshold t
accepts a pair when ‖f(i) − f(j)‖ < t; over all t this traces the ROC curve
(TPR = accepted genuine / genuine, FPR = accepted impostor / impostor). The best
threshold maximizes the balanced accuracy (TPR + 1 − FPR) / 2; accuracy at a threshold
is the fraction of all pairs decided correctly.

Memory: m encodings make m(m − 1)/2 pairs; ``pair_bytes(m)`` estimates the peak of
``threshold_report`` (the (m, m) distance matrix, then a few arrays per pair), so that
``facerec evaluate`` can refuse a folder whose pairs would not fit before encoding it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltool_facerec.match import distances

# Peak memory of evaluate for m encodings, measured ≈ 25·m² bytes for the report and ≈ 50·m²
# with its ROC plot; the estimate, 24·m² + 96 per pair (72·m²), errs on the large side.
MATRIX_BYTES = 24  # per entry of the (m, m) distance matrix: float64 and two temporaries
PAIR_BYTES = 96  # per pair i < j: indices, distance, label, sorted copies, ROC curve, plot


def pair_bytes(m: int) -> int:
    """Return the estimated peak memory (bytes) of ``threshold_report`` for m encodings."""
    return MATRIX_BYTES * m * m + PAIR_BYTES * (m * (m - 1) // 2)


def pair_distances(E: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (genuine distances, impostor distances) over all pairs i < j of E (m, d)."""
    D = distances(E, E)  # (m, m)
    i, j = np.triu_indices(len(E), k=1)
    d = D[i, j]
    del D
    same = labels[i] == labels[j]
    return d[same], d[~same]


def _below(values: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Return, for each t[k], the fraction of ``values`` below it (0 for no values)."""
    if not len(values):
        return np.zeros_like(t)
    return np.searchsorted(np.sort(values), t, side="left") / len(values)


def roc(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, np.ndarray]:
    """Return thresholds t and TPR(t), FPR(t) for the rule "accept when d < t".

    By sorting (O(n log n) time, O(n) memory for n pairs), not an (n, n) comparison.
    """
    t = np.unique(np.concatenate([genuine, impostor]))
    t = np.concatenate([[0.0], (t[:-1] + t[1:]) / 2 if len(t) > 1 else t, [t[-1] + 1e-6]])
    return {"threshold": t, "tpr": _below(genuine, t), "fpr": _below(impostor, t)}


def auc(curve: dict[str, np.ndarray]) -> float:
    """Return the area under the ROC curve by the trapezoid rule."""
    fpr, tpr = curve["fpr"], curve["tpr"]
    return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))


def best_threshold(curve: dict[str, np.ndarray]) -> tuple[float, float]:
    """Return (t maximizing (TPR + 1 − FPR)/2, that balanced accuracy)."""
    balanced = (curve["tpr"] + 1 - curve["fpr"]) / 2
    k = int(np.argmax(balanced))
    return float(curve["threshold"][k]), float(balanced[k])


def accuracy(genuine: np.ndarray, impostor: np.ndarray, t: float) -> dict[str, float]:
    """Return accuracy over all pairs, TPR and FPR of the rule d < t."""
    correct = np.sum(genuine < t) + np.sum(impostor >= t)
    return {
        "accuracy": float(correct / max(len(genuine) + len(impostor), 1)),
        "tpr": float(np.mean(genuine < t)) if len(genuine) else float("nan"),
        "fpr": float(np.mean(impostor < t)) if len(impostor) else float("nan"),
    }


def threshold_report(E: np.ndarray, labels: np.ndarray, t: float | None) -> dict[str, Any]:
    """Return pair distances, ROC, AUC, best threshold and accuracy at ``t`` (or the best)."""
    genuine, impostor = pair_distances(E, labels)
    curve = roc(genuine, impostor)
    best, balanced = best_threshold(curve)
    chosen = best if t is None else t
    return {
        "genuine": genuine,
        "impostor": impostor,
        "curve": curve,
        "auc": auc(curve),
        "best_threshold": best,
        "best_balanced_accuracy": balanced,
        "threshold": chosen,
        **accuracy(genuine, impostor, chosen),
    }
