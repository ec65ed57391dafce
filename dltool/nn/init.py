"""Parameter initializers for fully connected layers (NumPy), as in the course.

W{l} has shape (n_l, n_{l-1}) and b{l} (n_l, 1); b is always zeros. ``zeros`` sets W to 0
(every unit learns the same thing: symmetry is never broken); ``random`` draws
N(0, 1) × scale; ``he`` draws N(0, 1) × sqrt(2 / n_{l-1}) (for ReLU layers);
``xavier`` draws N(0, 1) × sqrt(1 / n_{l-1}) (for tanh/sigmoid layers).

Draw order (reproducible after ``np.random.seed(s)``): for l = 1 … L in turn, one call
``np.random.randn(n_l, n_{l-1})`` on NumPy's legacy global generator; nothing else is drawn.
``zeros`` draws nothing.
"""

from __future__ import annotations

import numpy as np

METHODS = ("zeros", "random", "he", "xavier")


def layer_scale(method: str, n_prev: int, scale: float = 0.01) -> float:
    """Return the factor multiplying N(0,1) draws: scale, sqrt(2/n_{l-1}) or sqrt(1/n_{l-1})."""
    if method == "random":
        return scale
    if method == "he":
        return float(np.sqrt(2.0 / n_prev))
    if method == "xavier":
        return float(np.sqrt(1.0 / n_prev))
    raise ValueError(f"unknown initialization '{method}'; known: {', '.join(METHODS)}")


def initialize_parameters(
    layer_dims: list[int], method: str = "he", scale: float = 0.01
) -> dict[str, np.ndarray]:
    """Return {W1, b1, …, WL, bL}: W{l} = randn(n_l, n_{l-1}) × factor, b{l} = zeros(n_l, 1)."""
    if method not in METHODS:
        raise ValueError(f"unknown initialization '{method}'; known: {', '.join(METHODS)}")
    params: dict[str, np.ndarray] = {}
    for k in range(1, len(layer_dims)):
        n, n_prev = layer_dims[k], layer_dims[k - 1]
        if method == "zeros":
            params[f"W{k}"] = np.zeros((n, n_prev))
        else:
            params[f"W{k}"] = np.random.randn(n, n_prev) * layer_scale(method, n_prev, scale)
        params[f"b{k}"] = np.zeros((n, 1))
    return params
