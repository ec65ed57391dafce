"""Adam for the character models: the shared update rule of :mod:`dltool.nn.optimizers`.

v = β1 v + (1 − β1) g, s = β2 s + (1 − β2) g², v̂ = v/(1 − β1ᵗ), ŝ = s/(1 − β2ᵗ),
θ ← θ − α v̂ / (√ŝ + ε). Gradients and moments are keyed by the parameter names (prefix
""), on NumPy arrays or torch tensors; the state (t, v, s) is plain arrays so checkpoints
can hold it.
"""

from __future__ import annotations

from dltool.nn.optimizers import Optimizer


def Adam(lr: float = 2e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):  # noqa: N802
    """Return the shared Adam optimizer keyed by parameter names (t, v, s start empty)."""
    return Optimizer("adam", lr, beta1, beta2, eps, prefix="")
