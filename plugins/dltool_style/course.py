"""The Art Generation assignment's functions under the course's names (NumPy in, NumPy out).

Each function is a thin translation onto dltool's one implementation of the style-transfer
costs in :mod:`dltool_style.cost`: activations are the course's ``(1, n_H, n_W, n_C)``, the
Gram matrix takes the unrolled ``A (n_C, n_H*n_W)``, and :func:`compute_content_cost` /
:func:`compute_style_cost` take the course's lists of layer outputs (the content layer last;
the style layers before it, paired with ``STYLE_LAYERS`` in order).
"""

from __future__ import annotations

from dltool_style import cost as _cost

STYLE_LAYERS = [
    ("block1_conv1", 0.2),
    ("block2_conv1", 0.2),
    ("block3_conv1", 0.2),
    ("block4_conv1", 0.2),
    ("block5_conv1", 0.2),
]


def compute_content_cost(content_output, generated_output):
    """Return J_content = Σ(a_C − a_G)² / (4 n_H n_W n_C) of the last outputs of the two lists."""
    return _cost.compute_content_cost(content_output[-1], generated_output[-1])


def gram_matrix(A):
    """Return G_A = A Aᵀ of the unrolled activations A (n_C, n_H*n_W)."""
    return _cost.gram_matrix(A)


def compute_layer_style_cost(a_S, a_G):
    """Return J_style^[l] = Σ(G_S − G_G)² / (4 n_C² (n_H n_W)²) for (1, n_H, n_W, n_C) inputs."""
    return _cost.compute_layer_style_cost(a_S, a_G)


def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):  # noqa: N803
    """Return J_style = Σ_l λ_l J_style^[l](S, G) over the outputs before the last one.

    As in the course, the i-th style output pairs with the i-th (name, λ) of ``STYLE_LAYERS``.
    """
    names = [str(i) for i in range(len(style_image_output) - 1)]
    return _cost.compute_style_cost(
        dict(zip(names, style_image_output[:-1], strict=False)),
        dict(zip(names, generated_image_output[:-1], strict=False)),
        {n: weight for n, (_, weight) in zip(names, STYLE_LAYERS, strict=False)},
    )


def total_cost(J_content, J_style, alpha=10, beta=40):  # noqa: N803
    """Return J(G) = α J_content + β J_style."""
    return _cost.total_cost(J_content, J_style, alpha, beta)
