"""The course's "CNN" assignment functions under their own names, NumPy in, NumPy out.

Convolution and pooling step by step and the residual blocks, with the course's names,
argument order, caches and return values: images are (m, n_H, n_W, n_C), filters
(f, f, n_C_prev, n_C), biases (1, 1, 1, n_C); ``hparameters`` is {"stride", "pad"} for a
convolution and {"f", "stride"} for pooling; conv caches are (A_prev, W, b, hparameters),
pool caches (A_prev, hparameters). Each function is a thin translation onto the project's one
implementation of the math, :mod:`dltool_cnn.conv` (vectorized convolution, pooling and batch
normalization): it only renames and re-lays the arguments. Inputs are checked at the boundary,
in one line naming the function, the argument and the expected layout or range: a wrong shape
raises :class:`ShapeError`, a stride, pad, f or mode out of range :class:`ParameterError`, an
``hparameters`` dict without "stride"/"pad" or "f"/"stride" :class:`MissingKeyError`; all three
are :class:`~dltool.errors.DltoolError` (and ValueError or KeyError) and carry a hint.
"""

from __future__ import annotations

import numpy as np

from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_choice,
    check_keys,
    check_range,
    check_shape,
    check_tuple,
)
from dltool_cnn import conv

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "conv_backward",
    "pool_forward",
    "pool_backward",
    "create_mask_from_window",
    "distribute_value",
    "block_parameters",
    "identity_block",
    "convolutional_block",
]

IMAGES = "(m, n_H, n_W, n_C)"
MODES = ("max", "average")


def _images(func: str, name: str, A, dims: dict | None = None) -> np.ndarray:
    """Return A as an ndarray, raising ShapeError unless it is (m, n_H, n_W, n_C)."""
    check_shape(func, name, A, IMAGES, dims=dims)
    return np.asarray(A)


def _hparameters(func: str, hparameters, A_prev, f: int | None = None) -> tuple[int, int, int]:
    """Return (f, stride, pad) of a conv's {"stride", "pad"} or a pool's {"f", "stride"}.

    Raises MissingKeyError for a missing key, ParameterError for a stride < 1, a pad < 0 or a
    window f larger than the padded input.
    """
    keys = ["stride", "pad"] if f is not None else ["f", "stride"]
    check_keys(func, "hparameters", hparameters, keys)
    pad = check_range(func, "hparameters['pad']", hparameters.get("pad", 0), "[0, inf)", True)
    stride = check_range(func, "hparameters['stride']", hparameters["stride"], "[1, inf)", True)
    if f is None:
        f = check_range(func, "hparameters['f']", hparameters["f"], "[1, inf)", True)
    side = min(np.shape(A_prev)[1:3]) + 2 * pad
    if f > side:
        raise ParameterError(f"{func}: the window f = {f} is larger than the input ({side} wide)")
    return f, stride, pad


def _filters(func: str, filters) -> tuple[int, int, int]:
    """Return (F1, F2, F3), raising ParameterError unless they are three integers ≥ 1."""
    if not isinstance(filters, (list, tuple)) or len(filters) != 3:
        raise ParameterError(f"{func}: filters must be [F1, F2, F3], got {filters!r}")
    return tuple(check_range(func, "filters", F, "[1, inf)", integer=True) for F in filters)


def zero_pad(X, pad: int):
    """Return X (m, n_H, n_W, n_C) padded with ``pad`` zeros around height and width."""
    check_range("zero_pad", "pad", pad, "[0, inf)", integer=True)
    return conv.zero_pad(_images("zero_pad", "X", X), pad)


def conv_single_step(a_slice_prev, W, b):
    """Return Z = Σ (a_slice_prev ⊙ W) + b for one (f, f, n_C_prev) window, as a NumPy float."""
    func = "conv_single_step"
    sizes = check_shape(func, "a_slice_prev", a_slice_prev, "(f, f, n_C_prev)")
    check_shape(func, "W", W, "(f, f, n_C_prev)", dims=sizes)
    if np.size(b) != 1:
        raise ShapeError(f"{func}: b must be (1, 1, 1), got {np.shape(b)}")
    return np.float64(conv.conv_single_step(a_slice_prev, W, b))


def conv_forward(A_prev, W, b, hparameters: dict):
    """Return Z = A_prev ⋆ W + b (m, n_H, n_W, n_C), n = ⌊(n_prev + 2p − f)/s⌋ + 1, and the cache.

    The cache is the course's (A_prev, W, b, hparameters).
    """
    func = "conv_forward"
    n_C_prev = check_shape(func, "A_prev", A_prev, IMAGES)["n_C"]
    sizes = check_shape(func, "W", W, "(f, f, n_C_prev, n_C)", dims={"n_C_prev": n_C_prev})
    check_shape(func, "b", b, "(1, 1, 1, n_C)", dims=sizes)
    _, stride, pad = _hparameters(func, hparameters, A_prev, sizes["f"])
    A_prev = np.asarray(A_prev)
    Z, _ = conv.conv_forward(A_prev, W, b, stride, pad)
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache: tuple):
    """Return dA_prev, dW, db of a conv layer: dA += W dZ, dW += a_slice dZ, db = Σ dZ."""
    func = "conv_backward"
    A_prev, W, _, _ = check_tuple(func, "cache", cache, "(A_prev, W, b, hparameters)")
    sizes = check_shape(func, "cache's W", W, "(f, f, n_C_prev, n_C)")
    sizes = check_shape(
        func, "cache's A_prev", A_prev, "(m, n_H_prev, n_W_prev, n_C_prev)", dims=sizes
    )
    return conv.conv_backward(
        _images(func, "dZ", dZ, {"m": sizes["m"], "n_C": sizes["n_C"]}), cache
    )


def pool_forward(A_prev, hparameters: dict, mode: str = "max"):
    """Return A, the max or mean of every f×f window (stride s), and the cache (A_prev, hparams)."""
    func = "pool_forward"
    A_prev = _images(func, "A_prev", A_prev)
    check_choice(func, "mode", mode, MODES)
    f, stride, _ = _hparameters(func, hparameters, A_prev)
    A, _ = conv.pool_forward(A_prev, f, stride, mode)
    return A, (A_prev, hparameters)


def create_mask_from_window(x):
    """Return the mask x == max(x) of one window (max-pool backward).

    On ties it marks the first maximum only, as :func:`dltool_cnn.conv.pool_backward` routes
    the gradient (the course's ``x == np.max(x)`` marks every tied maximum).
    """
    check_shape("create_mask_from_window", "x", x, "(f, f)")
    return conv.create_mask_from_window(np.asarray(x))


def distribute_value(dz: float, shape: tuple[int, int]):
    """Return an (n_H, n_W) array holding dz / (n_H · n_W) everywhere (average-pool backward)."""
    func = "distribute_value"
    check_range(func, "dz", dz, "(-inf, inf)")
    if not isinstance(shape, (list, tuple)) or len(shape) != 2:
        raise ParameterError(f"{func}: shape must be (n_H, n_W), got {shape!r}")
    for name, n in zip(("n_H", "n_W"), shape, strict=True):
        check_range(func, f"shape's {name}", n, "[1, inf)", integer=True)
    return conv.distribute_value(dz, shape)


def pool_backward(dA, cache: tuple, mode: str = "max"):
    """Return dA_prev: dA routed to each window's max (mode "max") or spread evenly ("average")."""
    func = "pool_backward"
    check_choice(func, "mode", mode, MODES)
    A_prev, _ = check_tuple(func, "cache", cache, "(A_prev, hparameters)")
    sizes = check_shape(func, "cache's A_prev", A_prev, "(m, n_H_prev, n_W_prev, n_C)")
    return conv.pool_backward(
        _images(func, "dA", dA, {"m": sizes["m"], "n_C": sizes["n_C"]}), cache, mode
    )


# ---------------------------------------------------------------- residual blocks


def block_parameters(n_C_prev: int, f: int, filters, shortcut: bool = False, value=None, seed=0):
    """Return the parameters of a residual block: W{l}, b{l}, gamma{l}, beta{l}, mean{l}, var{l}.

    Layers 1–3 are the main path (1×1, f×f, 1×1 with F1, F2, F3 filters), layer 4 the
    convolutional block's 1×1 shortcut (``shortcut=True``). W is ``value`` everywhere (the
    course's ``constant(value)`` initializer) or N(0, 1)/√fan_in drawn from RandomState(seed);
    b = 0, γ = 1, β = 0 and the running statistics μ = 0, σ² = 1, as fresh Keras layers.
    """
    F1, F2, F3 = filters
    shapes = [(1, n_C_prev, F1), (f, F1, F2), (1, F2, F3)] + (
        [(1, n_C_prev, F3)] if shortcut else []
    )
    rng = np.random.RandomState(seed)
    params = {}
    for k, (size, c_in, c_out) in enumerate(shapes, start=1):
        shape = (size, size, c_in, c_out)
        W = np.full(shape, float(value)) if value is not None else rng.randn(*shape)
        params[f"W{k}"] = W if value is not None else W / np.sqrt(size * size * c_in)
        params[f"b{k}"] = np.zeros((1, 1, 1, c_out))
        params[f"gamma{k}"], params[f"beta{k}"] = np.ones(c_out), np.zeros(c_out)
        params[f"mean{k}"], params[f"var{k}"] = np.zeros(c_out), np.ones(c_out)
    return params


def _conv_bn(X, params: dict, k: int, stride: int, training: bool, same: bool = False):
    """Return BN(CONV_k(X)), "valid" or Keras' "same" padding (even f: extra zeros at the end)."""
    W = params[f"W{k}"]
    f = W.shape[0]
    if same:
        top = (f - 1) // 2  # stride 1: f − 1 zeros in all, the larger half after
        X = np.pad(X, ((0, 0), (top, f - 1 - top), (top, f - 1 - top), (0, 0)))
    Z, _ = conv.conv_forward(X, W, params[f"b{k}"], stride, 0)
    stats = (None, None) if training else (params.get(f"mean{k}", 0.0), params.get(f"var{k}", 1.0))
    return conv.batchnorm_forward(Z, params[f"gamma{k}"], params[f"beta{k}"], *stats)


def _main_path(X, params: dict, s: int, training: bool):
    """Return CONV1×1(s)-BN-RELU → CONVf×f("same")-BN-RELU → CONV1×1-BN, the block's main path."""
    A = np.maximum(_conv_bn(X, params, 1, s, training), 0)
    A = np.maximum(_conv_bn(A, params, 2, 1, training, same=True), 0)
    return _conv_bn(A, params, 3, 1, training)


def identity_block(X, f: int, filters, training: bool = True, parameters: dict | None = None):
    """Return A = RELU(main_path(X) + X), the ResNet identity block, (m, n_H, n_W, F3 = n_C).

    ``training`` True normalizes with the batch's statistics (Keras ``training=True``; the
    running statistics are not updated), False with ``mean{l}``/``var{l}``. ``parameters``
    replaces the course's Keras initializer (see :func:`block_parameters`; None draws them).
    """
    func = "identity_block"
    check_range(func, "f", f, "[1, inf)", integer=True)
    X = _images(func, "X", X, {"n_C": _filters(func, filters)[2]})
    if parameters is None:
        parameters = block_parameters(X.shape[3], f, filters)
    return np.maximum(_main_path(X, parameters, 1, training) + X, 0)


def convolutional_block(
    X, f: int, filters, s: int = 2, training: bool = True, parameters: dict | None = None
):
    """Return A = RELU(main_path(X) + BN(CONV1×1,s(X))), the ResNet convolutional block.

    The first 1×1 convolution and the shortcut's use stride s, so the output is
    (m, ⌊(n_H − 1)/s⌋ + 1, ⌊(n_W − 1)/s⌋ + 1, F3). ``training`` and ``parameters`` as in
    :func:`identity_block` (layer 4 is the shortcut).
    """
    func = "convolutional_block"
    check_range(func, "f", f, "[1, inf)", integer=True)
    check_range(func, "s", s, "[1, inf)", integer=True)
    _filters(func, filters)
    X = _images(func, "X", X)
    if parameters is None:
        parameters = block_parameters(X.shape[3], f, filters, shortcut=True)
    shortcut = _conv_bn(X, parameters, 4, s, training)
    return np.maximum(_main_path(X, parameters, s, training) + shortcut, 0)
