"""Torch twin of the WEAT statistics in :mod:`dltool_wordvec.evaluate` (Caliskan et al. 2017):
``s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b)`` and the effect size
``(mean_x s(x) − mean_y s(y)) / std_{w ∈ X∪Y} s(w)``; rows are unit vectors."""

from __future__ import annotations

import torch


def weat_s(unit_w: torch.Tensor, unit_A: torch.Tensor, unit_B: torch.Tensor) -> torch.Tensor:
    """Return s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b) for every row w, shape (k,)."""
    return (unit_w @ unit_A.T).mean(dim=1) - (unit_w @ unit_B.T).mean(dim=1)  # (k,)


def weat_effect_size(
    unit_X: torch.Tensor, unit_Y: torch.Tensor, unit_A: torch.Tensor, unit_B: torch.Tensor
) -> torch.Tensor:
    """Return (mean_x s(x) − mean_y s(y)) / std_{w ∈ X∪Y} s(w) (sample std)."""
    s_x, s_y = weat_s(unit_X, unit_A, unit_B), weat_s(unit_Y, unit_A, unit_B)
    return (s_x.mean() - s_y.mean()) / torch.cat([s_x, s_y]).std(correction=1)
