"""Gradient clipping against exploding gradients (course notes, RNN "clip").

By value: g ← clip(g, −maxValue, maxValue) element-wise for every gradient.
By norm: with the global norm ‖g‖ = sqrt(Σ_k ‖g_k‖²) over all gradients,
g ← g · max_norm / ‖g‖ when ‖g‖ > max_norm (direction kept), else unchanged.
Works on NumPy arrays and torch tensors alike.
"""

from __future__ import annotations

from typing import Any


def clip_by_value(gradients: dict[str, Any], max_value: float) -> dict[str, Any]:
    """Return {k: clip(g_k, −max_value, max_value)}."""
    if max_value <= 0:
        raise ValueError(f"max_value must be positive, got {max_value}")
    return {k: g.clip(-max_value, max_value) for k, g in gradients.items()}


def global_norm(gradients: dict[str, Any]) -> float:
    """Return sqrt(Σ_k Σ g_k²) over every gradient."""
    return float(sum(float((g * g).sum()) for g in gradients.values())) ** 0.5


def clip_by_norm(gradients: dict[str, Any], max_norm: float) -> tuple[dict[str, Any], float]:
    """Return (g · min(1, max_norm/‖g‖), ‖g‖) with ‖g‖ the global norm before clipping."""
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    norm = global_norm(gradients)
    scale = min(1.0, max_norm / (norm + 1e-12))
    return {k: g * scale for k, g in gradients.items()}, norm
