"""Neural style transfer costs in torch, batched, on any device (twins of ``cost``).

Activations are torch's ``(m, n_C, n_H, n_W)``; every cost returns one value per example,
shape ``(m,)``, so a batch of generated images is optimized at once. The formulas are the
notes' (see ``cost``): ``A = a.flatten(2)`` is already ``(m, n_C, n_H*n_W)``, row i = filter i.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from dltool_style.cost import ALPHA, BETA


def content_cost(a_C: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """Return J_content = Σ(a_C − a_G)² / (4 n_H n_W n_C) per example, shape (m,)."""
    _, n_C, n_H, n_W = a_G.shape
    return (a_C - a_G).pow(2).sum(dim=(1, 2, 3)) / (4 * n_H * n_W * n_C)


def gram_matrix(a: torch.Tensor) -> torch.Tensor:
    """Return G = A Aᵀ with A = a unrolled to (m, n_C, n_H*n_W); G is (m, n_C, n_C)."""
    A = a.flatten(2)  # (m, n_C, n_H*n_W)
    return A @ A.transpose(1, 2)  # (m, n_C, n_C)


def layer_style_cost_from_gram(G_S: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """Return J_style^[l] = Σ(G_S − G_G)² / (4 n_C² (n_H n_W)²) per example, shape (m,)."""
    _, n_C, n_H, n_W = a_G.shape
    G_G = gram_matrix(a_G)  # (m, n_C, n_C)
    return (G_S - G_G).pow(2).sum(dim=(1, 2)) / (4 * n_C**2 * (n_H * n_W) ** 2)


def layer_style_cost(a_S: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """Return J_style^[l](S, G) from activations a_S, a_G (m, n_C, n_H, n_W), shape (m,)."""
    return layer_style_cost_from_gram(gram_matrix(a_S), a_G)


def style_cost(
    style_grams: Mapping[str, torch.Tensor],
    generated: Mapping[str, torch.Tensor],
    style_layers: Mapping[str, float],
) -> torch.Tensor:
    """Return J_style = Σ_l λ_l J_style^[l] given the style Gram matrices {layer: G_S}."""
    return sum(
        lam * layer_style_cost_from_gram(style_grams[name], generated[name])
        for name, lam in style_layers.items()
    )


def blended_style_cost(
    styles: Sequence[Mapping[str, torch.Tensor]],
    blend: Sequence[float],
    generated: Mapping[str, torch.Tensor],
    style_layers: Mapping[str, float],
) -> torch.Tensor:
    """Return Σ_k w_k J_style(S_k, G) for style images S_k (their Grams) and weights w_k."""
    pairs = zip(styles, blend, strict=True)
    return sum(w * style_cost(g, generated, style_layers) for g, w in pairs)


def total_cost(
    J_content: torch.Tensor, J_style: torch.Tensor, alpha: float = ALPHA, beta: float = BETA
) -> torch.Tensor:
    """Return J = α J_content + β J_style."""
    return alpha * J_content + beta * J_style


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Return J_tv = (Σ Δ_h² + Σ Δ_w²) / (n_H n_W n_C) per image x (m, n_C, n_H, n_W)."""
    _, n_C, n_H, n_W = x.shape
    dh = x[:, :, 1:, :] - x[:, :, :-1, :]  # (m, n_C, n_H-1, n_W)
    dw = x[:, :, :, 1:] - x[:, :, :, :-1]  # (m, n_C, n_H, n_W-1)
    return (dh.pow(2).sum(dim=(1, 2, 3)) + dw.pow(2).sum(dim=(1, 2, 3))) / (n_H * n_W * n_C)
