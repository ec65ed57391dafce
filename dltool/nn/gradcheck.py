"""Gradient checking with two-sided differences, as in the course notes.

For parameters θ flattened into one vector, ``gradapprox_i = (J(θ + ε e_i) − J(θ − ε e_i)) / 2ε``
with ε = 1e-7, and the check reports ``difference = ‖g − g_approx‖ / (‖g‖ + ‖g_approx‖)``:
below 1e-7 the backward pass is right, above 1e-3 it is almost surely wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPSILON = 1e-7
BANDS = ((1e-7, "excellent"), (1e-5, "ok"), (1e-3, "suspicious"))

Layout = list[tuple[str, tuple[int, ...]]]


def dictionary_to_vector(params: dict[str, np.ndarray], keys: list[str] | None = None):
    """Return θ of shape (n, 1) stacking ``params[k].ravel()`` for k in ``keys``, and the layout."""
    keys = list(params) if keys is None else keys
    layout: Layout = [(k, np.shape(params[k])) for k in keys]
    theta = np.concatenate([np.asarray(params[k], dtype=np.float64).reshape(-1) for k in keys])
    return theta.reshape(-1, 1), layout


def vector_to_dictionary(theta: np.ndarray, layout: Layout) -> dict[str, np.ndarray]:
    """Return the dict of arrays that ``theta`` (n, 1) flattens, following ``layout``."""
    out, start = {}, 0
    flat = np.asarray(theta).reshape(-1)
    for key, shape in layout:
        size = int(np.prod(shape)) if shape else 1
        out[key] = flat[start : start + size].reshape(shape)
        start += size
    return out


def relative_difference(grad: np.ndarray, gradapprox: np.ndarray) -> float:
    """Return ‖g − g_approx‖₂ / (‖g‖₂ + ‖g_approx‖₂) (0 when both are zero)."""
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return 0.0 if denominator == 0 else float(numerator / denominator)


def band(difference: float) -> str:
    """Return the band: excellent < 1e-7 ≤ ok < 1e-5 ≤ suspicious < 1e-3 ≤ wrong."""
    for limit, name in BANDS:
        if difference < limit:
            return name
    return "wrong"


@dataclass
class GradCheckResult:
    """Overall and per-parameter differences of a gradient check."""

    difference: float
    per_parameter: dict[str, float]
    gradapprox: dict[str, np.ndarray]

    @property
    def verdict(self) -> str:
        """Return the band of the overall difference."""
        return band(self.difference)


def numerical_gradient(
    cost: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    keys: list[str] | None = None,
    epsilon: float = EPSILON,
) -> dict[str, np.ndarray]:
    """Return (J(θ + ε e_i) − J(θ − ε e_i)) / 2ε for every entry of ``params[keys]``."""
    theta, layout = dictionary_to_vector(params, keys)
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        theta_plus, theta_minus = theta.copy(), theta.copy()
        theta_plus[i, 0] += epsilon
        theta_minus[i, 0] -= epsilon
        j_plus = cost({**params, **vector_to_dictionary(theta_plus, layout)})
        j_minus = cost({**params, **vector_to_dictionary(theta_minus, layout)})
        approx[i, 0] = (j_plus - j_minus) / (2 * epsilon)
    return vector_to_dictionary(approx, layout)


def gradient_check(
    cost: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    grad_key: Callable[[str], str] = lambda k: "d" + k,
    keys: list[str] | None = None,
    epsilon: float = EPSILON,
) -> GradCheckResult:
    """Compare analytic ``grads[grad_key(k)]`` with two-sided differences of ``cost``."""
    keys = list(params) if keys is None else keys
    approx = numerical_gradient(cost, params, keys, epsilon)
    g, _ = dictionary_to_vector({k: grads[grad_key(k)] for k in keys})
    ga, _ = dictionary_to_vector(approx, keys)
    per = {k: relative_difference(np.asarray(grads[grad_key(k)]), approx[k]) for k in keys}
    return GradCheckResult(relative_difference(g, ga), per, approx)
