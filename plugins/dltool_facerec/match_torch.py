"""Torch twin of ``match.py``: nearest enrolled encoding on the chosen device."""

from __future__ import annotations

import torch


def distances(Q: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """Return D (q, n) with D[i, j] = ‖Qᵢ − Eⱼ‖."""
    D2 = Q.pow(2).sum(1)[:, None] - 2 * Q @ E.T + E.pow(2).sum(1)[None, :]  # (q, n)
    return D2.clamp(min=0.0).sqrt()


def nearest(Q: torch.Tensor, E: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (index of the nearest Eⱼ, its distance) for each query, both (q,)."""
    d, j = distances(Q, E).min(dim=1)
    return j, d
