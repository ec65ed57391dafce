"""Cross-entropy costs (NumPy), means over the m examples, from the course notes.

Binary: J = −(1/m) Σ [y log a + (1−y) log(1−a)] with a = σ(z); categorical:
J = −(1/m) Σ_examples Σ_classes y log a with a = softmax(z). The ``*_with_logits``
forms take z and never take log(0); their gradient with respect to z is (a − y)/m.
L2: the cost term (λ/2m) Σ_l ‖W_l‖²_F, whose gradient adds (λ/m) W_l to dW_l.
"""

from __future__ import annotations

import numpy as np

from dltool.nn.activations import log_softmax

PROB_EPS = 1e-15


def binary_cross_entropy(A: np.ndarray, Y: np.ndarray) -> float:
    """Return −(1/m) Σ [Y log A + (1−Y) log(1−A)] with A clipped to [ε, 1−ε]; A, Y (1, m)."""
    A = np.clip(A, PROB_EPS, 1 - PROB_EPS)
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)


def binary_cross_entropy_with_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    """Return the binary cross-entropy of A = σ(Z) as (1/m) Σ [max(Z,0) − Z·Y + log(1+e^{−|Z|})]."""
    m = Y.shape[1]
    return float(np.sum(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))) / m)


def categorical_cross_entropy(A: np.ndarray, Y: np.ndarray) -> float:
    """Return −(1/m) Σ Y ⊙ log A with A clipped below at ε; A, Y one-hot (n_y, m)."""
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(np.maximum(A, PROB_EPS))) / m)


def categorical_cross_entropy_with_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    """Return −(1/m) Σ Y ⊙ log softmax(Z), with the log-sum-exp taken after a max shift."""
    m = Y.shape[1]
    return float(-np.sum(Y * log_softmax(Z, axis=0)) / m)


def l2_cost(params: dict[str, np.ndarray], lambd: float, m: int) -> float:
    """Return (λ/2m) Σ_l ‖W_l‖²_F over every key of ``params`` that starts with 'W'."""
    if lambd == 0:
        return 0.0
    total = sum(float(np.sum(np.square(v))) for k, v in params.items() if k.startswith("W"))
    return lambd / (2 * m) * total


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Return the (n_classes, m) one-hot matrix of integer ``labels`` (m,)."""
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    Y = np.zeros((n_classes, labels.shape[0]))
    Y[labels, np.arange(labels.shape[0])] = 1.0
    return Y
