"""Verification quality from labelled encodings: genuine/impostor pairs, ROC, best threshold.

Every pair (i < j) of encodings is genuine (same identity) or impostor. A threshold t
accepts a pair when ‖f(i) − f(j)‖ < t; over all t this traces the ROC curve
(TPR = accepted genuine / genuine, FPR = accepted impostor / impostor). The best
threshold maximizes the balanced accuracy (TPR + 1 − FPR) / 2; accuracy at a threshold
is the fraction of all pairs decided correctly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltool_facerec.match import distances


def pair_distances(E: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (genuine distances, impostor distances) over all pairs i < j of E (m, d)."""
    D = distances(E, E)  # (m, m)
    i, j = np.triu_indices(len(E), k=1)
    same = labels[i] == labels[j]
    return D[i, j][same], D[i, j][~same]


def roc(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, np.ndarray]:
    """Return thresholds t and TPR(t), FPR(t) for the rule "accept when d < t"."""
    t = np.unique(np.concatenate([genuine, impostor]))
    t = np.concatenate([[0.0], (t[:-1] + t[1:]) / 2 if len(t) > 1 else t, [t[-1] + 1e-6]])
    tpr = np.mean(genuine[None, :] < t[:, None], axis=1) if len(genuine) else np.zeros_like(t)
    fpr = np.mean(impostor[None, :] < t[:, None], axis=1) if len(impostor) else np.zeros_like(t)
    return {"threshold": t, "tpr": tpr, "fpr": fpr}


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
