"""Torch twin of ``match.py``: nearest enrolled encoding on the chosen device."""

from __future__ import annotations

import torch


def distances(Q: torch.Tensor, E: torch.Tensor, E_sq: torch.Tensor | None = None) -> torch.Tensor:
    """Return D (q, n) with D[i, j] = ‖Qᵢ − Eⱼ‖ (E_sq = ‖Eⱼ‖², computed if not given)."""
    if E_sq is None:
        E_sq = E.pow(2).sum(1)  # (n,)
    D2 = Q.pow(2).sum(1)[:, None] - 2 * Q @ E.T + E_sq[None, :]  # (q, n)
    return D2.clamp(min=0.0).sqrt()


def nearest(
    Q: torch.Tensor, E: torch.Tensor, E_sq: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (index of the nearest Eⱼ, its distance) for each query, both (q,)."""
    d, j = distances(Q, E, E_sq).min(dim=1)
    return j, d
