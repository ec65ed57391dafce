"""Torch twin of ``triplet.py``: triplet loss and online mining on the chosen device."""

from __future__ import annotations

import torch

ALPHA = 0.2


def triplet_loss(
    A: torch.Tensor, P: torch.Tensor, N: torch.Tensor, alpha: float = ALPHA
) -> torch.Tensor:
    """Return J = Σᵢ max(‖Aᵢ − Pᵢ‖² − ‖Aᵢ − Nᵢ‖² + α, 0) for encodings (m, 128)."""
    pos = (A - P).pow(2).sum(-1)  # (m,)
    neg = (A - N).pow(2).sum(-1)  # (m,)
    return torch.clamp(pos - neg + alpha, min=0.0).sum()


def pairwise_sq_distances(E: torch.Tensor) -> torch.Tensor:
    """Return D with D[i, j] = ‖Eᵢ − Eⱼ‖² for encodings E (m, d)."""
    sq = E.pow(2).sum(1)  # (m,)
    return torch.clamp(sq[:, None] - 2 * E @ E.T + sq[None, :], min=0.0)  # (m, m)


def valid_triplets(labels: torch.Tensor) -> torch.Tensor:
    """Return mask (m, m, m): [a, p, n] with a ≠ p, label a = label p ≠ label n."""
    same = labels[:, None] == labels[None, :]  # (m, m)
    distinct = ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return (same & distinct)[:, :, None] & ~same[:, None, :]


def batch_all_triplet_loss(
    E: torch.Tensor, labels: torch.Tensor, alpha: float = ALPHA
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (mean hinge over active triplets, fraction of valid triplets that are active)."""
    D = pairwise_sq_distances(E)
    losses = torch.clamp(D[:, :, None] - D[:, None, :] + alpha, min=0.0)  # (m, m, m)
    valid = valid_triplets(labels)
    losses = losses * valid
    n_active = (losses > 1e-16).sum()
    n_valid = valid.sum()
    loss = losses.sum() / n_active.clamp(min=1)
    return loss, n_active.to(E.dtype) / n_valid.clamp(min=1).to(E.dtype)


def semi_hard_triplets(E: torch.Tensor, labels: torch.Tensor, alpha: float = ALPHA) -> torch.Tensor:
    """Return (k, 3) indices [a, p, n] chosen as in ``triplet.semi_hard_triplets``."""
    with torch.no_grad():
        D = pairwise_sq_distances(E)  # (m, m)
        m = len(labels)
        same = labels[:, None] == labels[None, :]
        pos = same & ~torch.eye(m, dtype=torch.bool, device=E.device)
        a, p = torch.nonzero(pos, as_tuple=True)  # (k,), (k,)
        neg = ~same[a]  # (k, m)
        d_ap = D[a, p][:, None]  # (k, 1)
        d_an = D[a]  # (k, m)
        semi = neg & (d_an > d_ap) & (d_an < d_ap + alpha)
        inf = torch.tensor(float("inf"), dtype=D.dtype, device=D.device)
        closest = torch.where(semi, d_an, inf).argmin(1)  # (k,)
        farthest = torch.where(neg, d_an, -inf).argmax(1)  # (k,)
        n = torch.where(semi.any(1), closest, farthest)
        keep = neg.any(1)
        return torch.stack([a, p, n], 1)[keep]
