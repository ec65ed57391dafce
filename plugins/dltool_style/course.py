"""The Art Generation assignment's functions under the course's names (NumPy in, NumPy out).

Each function is a thin translation onto dltool's one implementation of the style-transfer
costs in :mod:`dltool_style.cost`: activations are the course's ``(1, n_H, n_W, n_C)``, the
Gram matrix takes the unrolled ``A (n_C, n_H*n_W)``, and :func:`compute_content_cost` /
:func:`compute_style_cost` take the course's lists of layer outputs (the content layer last;
the style layers before it, paired with ``STYLE_LAYERS`` in order). Inputs are checked at the
boundary, in one line naming the function, the argument and the expected layout or range: a
wrong shape raises :class:`ShapeError`, a negative or non-finite weight :class:`ParameterError`;
both are :class:`~dltool.errors.DltoolError` (and ValueError) with a hint.
"""

from __future__ import annotations

from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_range,
    check_shape,
)
from dltool_style import cost as _cost

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "STYLE_LAYERS",
    "compute_content_cost",
    "gram_matrix",
    "compute_layer_style_cost",
    "compute_style_cost",
    "total_cost",
]

STYLE_LAYERS = [
    ("block1_conv1", 0.2),
    ("block2_conv1", 0.2),
    ("block3_conv1", 0.2),
    ("block4_conv1", 0.2),
    ("block5_conv1", 0.2),
]


def compute_content_cost(content_output, generated_output):
    """Return J_content = Σ(a_C − a_G)² / (4 n_H n_W n_C) of the last outputs of the two lists."""
    func = "compute_content_cost"
    a_C, a_G = _outputs(
        func, "content_output", content_output, "generated_output", generated_output, 1
    )
    _pair(func, "a_C", a_C, "a_G", a_G)
    return _cost.compute_content_cost(a_C, a_G)


def gram_matrix(A):
    """Return G_A = A Aᵀ of the unrolled activations A (n_C, n_H*n_W)."""
    check_shape("gram_matrix", "A", A, "(n_C, n_H*n_W)")
    return _cost.gram_matrix(A)


def compute_layer_style_cost(a_S, a_G):
    """Return J_style^[l] = Σ(G_S − G_G)² / (4 n_C² (n_H n_W)²) for (1, n_H, n_W, n_C) inputs."""
    _pair("compute_layer_style_cost", "a_S", a_S, "a_G", a_G)
    return _cost.compute_layer_style_cost(a_S, a_G)


def compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS=STYLE_LAYERS):  # noqa: N803
    """Return J_style = Σ_l λ_l J_style^[l](S, G) over the outputs before the last one.

    As in the course, the i-th style output pairs with the i-th (name, λ) of ``STYLE_LAYERS``.
    """
    func = "compute_style_cost"
    _outputs(
        func,
        "style_image_output",
        style_image_output,
        "generated_image_output",
        generated_image_output,
        2,
    )
    pairs = zip(style_image_output[:-1], generated_image_output[:-1], strict=True)
    for i, (a_S, a_G) in enumerate(pairs):
        _pair(func, f"style_image_output[{i}]", a_S, f"generated_image_output[{i}]", a_G)
    for i, (_, weight) in enumerate(STYLE_LAYERS):  # zipped with the outputs, as the course does
        check_range(func, f"STYLE_LAYERS[{i}]'s weight", weight, "[0, inf)")
    names = [str(i) for i in range(len(style_image_output) - 1)]
    return _cost.compute_style_cost(
        dict(zip(names, style_image_output[:-1], strict=False)),
        dict(zip(names, generated_image_output[:-1], strict=False)),
        {n: weight for n, (_, weight) in zip(names, STYLE_LAYERS, strict=False)},
    )


def total_cost(J_content, J_style, alpha=10, beta=40):  # noqa: N803
    """Return J(G) = α J_content + β J_style."""
    for name, value in (("J_content", J_content), ("J_style", J_style)):
        check_range("total_cost", name, value, "(-inf, inf)")
    for name, value in (("alpha", alpha), ("beta", beta)):
        check_range("total_cost", name, value, "[0, inf)")
    return _cost.total_cost(J_content, J_style, alpha, beta)


ACTIVATION = "(1, n_H, n_W, n_C)"


def _pair(func: str, name_1: str, a_1, name_2: str, a_2) -> None:
    """Raise ShapeError unless a_1 is (1, n_H, n_W, n_C) and a_2 has the same shape."""
    check_shape(func, name_2, a_2, ACTIVATION, dims=check_shape(func, name_1, a_1, ACTIVATION))


def _outputs(func: str, name_1: str, out_1, name_2: str, out_2, least: int) -> tuple:
    """Return the last items of two lists of layer outputs, checked for equal length ≥ ``least``."""
    for name, out in ((name_1, out_1), (name_2, out_2)):
        if not isinstance(out, (list, tuple)) or len(out) < least:
            got = f"{len(out)} items" if isinstance(out, (list, tuple)) else type(out).__name__
            raise ShapeError(f"{func}: {name} must be a list of ≥ {least} layer outputs, got {got}")
    if len(out_1) != len(out_2):
        raise ShapeError(
            f"{func}: {name_2} must have {len(out_1)} outputs as {name_1}, got {len(out_2)}"
        )
    return out_1[-1], out_2[-1]
