"""Logistic regression, NumPy reference (course notes: "Logistic regression with sigmoid").

ŷ = a = σ(wᵀx + b); cost J = −(1/m) Σ [y log a + (1−y) log(1−a)]; gradients
dw = (1/m) X (A − Y)ᵀ, db = (1/m) Σ (A − Y); gradient descent w ← w − α dw, b ← b − α db.
Shapes: X (n_x, m), Y (1, m), w (n_x, 1), b a scalar.
"""

from __future__ import annotations

import numpy as np

from dltool.nn import activations as act
from dltool.nn import losses


def initialize_with_zeros(n_x: int) -> tuple[np.ndarray, float]:
    """Return w = zeros (n_x, 1) and b = 0."""
    return np.zeros((n_x, 1)), 0.0


def propagate(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray):
    """Return ({dw, db}, J) for A = σ(wᵀX + b)."""
    m = X.shape[1]
    Z = w.T @ X + b  # (1, m)
    A = act.sigmoid(Z)
    cost = losses.binary_cross_entropy_with_logits(Z, Y)
    dw = X @ (A - Y).T / m  # (n_x, 1)
    db = float(np.sum(A - Y) / m)
    return {"dw": dw, "db": db}, cost


def optimize(w, b, X, Y, num_iterations: int, learning_rate: float, on_step=None):
    """Run gradient descent; return (w, b, costs) with the cost of every iteration.

    ``on_step(i, cost, w, b)`` sees the parameters after step i; a NaN/inf cost (measured
    before the step) raises ``NonFiniteCost(i + 1, cost)``.
    """
    import math

    from dltool.nn.training import NonFiniteCost

    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        if not math.isfinite(cost):
            raise NonFiniteCost(i + 1, cost)
        costs.append(cost)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if on_step is not None:
            on_step(i, cost, w, b)
    return w, b, costs


def predict(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    """Return Ŷ (m,) in {0, 1}: 1 where σ(wᵀX + b) > 0.5."""
    return (act.sigmoid(w.T @ X + b)[0] > 0.5).astype(np.int64)
