"""Neural style transfer costs, NumPy reference in the course notes' shapes and names.

From "Neural Style transfer" in the notes (Gatys et al., 2015): activations are
``(1, n_H, n_W, n_C)``; the Gram matrix of the unrolled activations ``A`` of shape
``(n_C, n_H*n_W)`` (row i = filter i) is ``G = A Aᵀ``, whose entry ``G_ij`` measures how
correlated filters i and j are, and ``G_ii`` how active filter i is.

    J_content(C, G)   = Σ (a_C − a_G)² / (4 n_H n_W n_C)
    J_style^[l](S, G) = Σ_ij (G_S − G_G)² / (4 n_C² (n_H n_W)²)
    J_style(S, G)     = Σ_l λ_l J_style^[l](S, G)
    J(G)              = α J_content(C, G) + β J_style(S, G)      (α = 10, β = 40)

plus an optional total-variation term (not in the notes) that smooths the result:
``J_tv = (Σ (x[i+1, j] − x[i, j])² + Σ (x[i, j+1] − x[i, j])²) / (n_H n_W n_C)``.
The torch twins for batches are in ``cost_torch``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

ALPHA = 10.0
BETA = 40.0


def compute_content_cost(a_C: np.ndarray, a_G: np.ndarray) -> float:
    """Return J_content = Σ(a_C − a_G)² / (4 n_H n_W n_C) for activations (1, n_H, n_W, n_C)."""
    _, n_H, n_W, n_C = a_G.shape
    return float(np.sum((a_C - a_G) ** 2) / (4 * n_H * n_W * n_C))


def unroll(a: np.ndarray) -> np.ndarray:
    """Return A of shape (n_C, n_H*n_W) from a (1, n_H, n_W, n_C): row i is filter i."""
    _, n_H, n_W, n_C = a.shape
    return a.reshape(n_H * n_W, n_C).T  # (n_C, n_H*n_W)


def gram_matrix(A: np.ndarray) -> np.ndarray:
    """Return the Gram matrix G = A Aᵀ of A (n_C, n_H*n_W); G has shape (n_C, n_C)."""
    return A @ A.T


def compute_layer_style_cost(a_S: np.ndarray, a_G: np.ndarray) -> float:
    """Return J_style^[l] = Σ(G_S − G_G)² / (4 n_C² (n_H n_W)²) for (1, n_H, n_W, n_C) inputs."""
    _, n_H, n_W, n_C = a_G.shape
    GS = gram_matrix(unroll(a_S))
    GG = gram_matrix(unroll(a_G))
    return float(np.sum((GS - GG) ** 2) / (4 * n_C**2 * (n_H * n_W) ** 2))


def compute_style_cost(
    style_activations: Mapping[str, np.ndarray],
    generated_activations: Mapping[str, np.ndarray],
    style_layers: Mapping[str, float],
) -> float:
    """Return J_style = Σ_l λ_l J_style^[l](S, G) over ``style_layers`` {layer: λ_l}."""
    return sum(
        lam * compute_layer_style_cost(style_activations[name], generated_activations[name])
        for name, lam in style_layers.items()
    )


def total_cost(J_content: float, J_style: float, alpha: float = ALPHA, beta: float = BETA) -> float:
    """Return J = α J_content + β J_style."""
    return alpha * J_content + beta * J_style


def total_variation(x: np.ndarray) -> float:
    """Return J_tv = (Σ Δ_h² + Σ Δ_w²) / (n_H n_W n_C) for an image x (1, n_H, n_W, n_C)."""
    _, n_H, n_W, n_C = x.shape
    dh = x[:, 1:, :, :] - x[:, :-1, :, :]  # (1, n_H-1, n_W, n_C)
    dw = x[:, :, 1:, :] - x[:, :, :-1, :]  # (1, n_H, n_W-1, n_C)
    return float((np.sum(dh**2) + np.sum(dw**2)) / (n_H * n_W * n_C))


def content_cost_gradient(a_C: np.ndarray, a_G: np.ndarray) -> np.ndarray:
    """Return dJ_content/da_G = (a_G − a_C) / (2 n_H n_W n_C), shape (1, n_H, n_W, n_C)."""
    _, n_H, n_W, n_C = a_G.shape
    return (a_G - a_C) / (2 * n_H * n_W * n_C)


def layer_style_cost_gradient(a_S: np.ndarray, a_G: np.ndarray) -> np.ndarray:
    """Return dJ_style^[l]/da_G, from dJ/dA_G = −(G_S − G_G) A_G / (n_C² (n_H n_W)²)."""
    _, n_H, n_W, n_C = a_G.shape
    A_G = unroll(a_G)  # (n_C, n_H*n_W)
    GS, GG = gram_matrix(unroll(a_S)), gram_matrix(A_G)
    dA = -(GS - GG) @ A_G / (n_C**2 * (n_H * n_W) ** 2)  # (n_C, n_H*n_W)
    return dA.T.reshape(1, n_H, n_W, n_C)
