"""Torch twin of :mod:`dltool_wordvec.debias`: the same neutralize/equalize formulas (course
notes, Bolukbasi et al. 2016) on tensors, run on the session's device by ``wordvec debias``."""

from __future__ import annotations

import torch

from dltool_wordvec.similarity_torch import normalize_rows


def bias_direction_pca(pairs: torch.Tensor) -> torch.Tensor:
    """Return the unit first principal component of the centred pairs (P, 2, d), signed to
    point from the second word of the pairs to the first."""
    centred = pairs - pairs.mean(dim=1, keepdim=True)  # (P, 2, d)
    _, _, vt = torch.linalg.svd(centred.reshape(-1, pairs.shape[2]), full_matrices=False)
    g = vt[0]  # (d,)
    return g if torch.mean((pairs[:, 0] - pairs[:, 1]) @ g) >= 0 else -g


def project_all(E: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Return the rows' projections (E g / ‖g‖²) gᵀ, shape (V, d)."""
    return torch.outer(E @ g / torch.dot(g, g), g)  # (V, d)


def neutralize_all(E: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Return E − (E g / ‖g‖²) gᵀ: every row neutralized, shape (V, d)."""
    return E - project_all(E, g)


def equalize_all(
    E1: torch.Tensor, E2: torch.Tensor, g: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the notes' equalize applied to every pair (E1[i], E2[i]), each (P, d)."""
    mu = (E1 + E2) / 2  # (P, d)
    mu_B = project_all(mu, g)
    mu_orth = mu - mu_B
    scale = torch.sqrt(torch.abs(1 - (mu_orth * mu_orth).sum(dim=1, keepdim=True)))  # (P, 1)
    out = []
    for E in (E1, E2):
        denom = torch.linalg.vector_norm((E - mu_orth) - mu_B, dim=1, keepdim=True)  # (P, 1)
        denom = torch.where(denom > 0, denom, torch.ones_like(denom))
        out.append(scale * (project_all(E, g) - mu_B) / denom + mu_orth)
    return out[0], out[1]


def cosine_to(E: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Return cos(e, g) for every row e of E (V, d), shape (V,)."""
    norms = torch.linalg.vector_norm(E, dim=1)
    return E @ g / (torch.where(norms > 0, norms, torch.ones_like(norms)) * g.norm())


def hard_debias(
    E: torch.Tensor, g: torch.Tensor, neutral: torch.Tensor, pairs: torch.Tensor
) -> torch.Tensor:
    """Return the hard-debiased vocabulary (see ``debias.hard_debias``): unit rows, ``neutral``
    rows neutralized and rescaled, row pairs (P, 2) equalized, all rescaled."""
    D = normalize_rows(E)  # (V, d)
    D = torch.where(neutral[:, None], normalize_rows(neutralize_all(D, g)), D)  # (V, d)
    if len(pairs):
        D[pairs[:, 0]], D[pairs[:, 1]] = equalize_all(D[pairs[:, 0]], D[pairs[:, 1]], g)
    return normalize_rows(D)
