"""The course's "CNN" assignment functions under their own names, NumPy in, NumPy out.

Convolution and pooling step by step and the residual blocks, with the course's names,
argument order, caches and return values: images are (m, n_H, n_W, n_C), filters
(f, f, n_C_prev, n_C), biases (1, 1, 1, n_C); ``hparameters`` is {"stride", "pad"} for a
convolution and {"f", "stride"} for pooling; conv caches are (A_prev, W, b, hparameters),
pool caches (A_prev, hparameters). Each function is a thin translation onto the project's one
implementation of the math, :mod:`dltool_cnn.conv` (vectorized convolution, pooling and batch
normalization): it only renames and re-lays the arguments. Shapes are checked at the boundary:
a wrong one raises ValueError naming the function, the argument and the expected layout.
"""

from __future__ import annotations

import numpy as np

from dltool_cnn import conv

IMAGES = "(m, n_H, n_W, n_C)"


def _images(func: str, name: str, A) -> np.ndarray:
    """Return A as an ndarray, raising ValueError unless it is (m, n_H, n_W, n_C)."""
    A = np.asarray(A)
    if A.ndim != 4:
        raise ValueError(f"{func}: {name} must be {IMAGES}, got {A.shape}")
    return A


def zero_pad(X, pad: int):
    """Return X (m, n_H, n_W, n_C) padded with ``pad`` zeros around height and width."""
    return conv.zero_pad(_images("zero_pad", "X", X), pad)


def conv_single_step(a_slice_prev, W, b):
    """Return Z = Σ (a_slice_prev ⊙ W) + b for one (f, f, n_C_prev) window, as a NumPy float."""
    return np.float64(conv.conv_single_step(a_slice_prev, W, b))


def conv_forward(A_prev, W, b, hparameters: dict):
    """Return Z = A_prev ⋆ W + b (m, n_H, n_W, n_C), n = ⌊(n_prev + 2p − f)/s⌋ + 1, and the cache.

    The cache is the course's (A_prev, W, b, hparameters).
    """
    A_prev = _images("conv_forward", "A_prev", A_prev)
    if np.ndim(W) != 4:
        raise ValueError(f"conv_forward: W must be (f, f, n_C_prev, n_C), got {np.shape(W)}")
    Z, _ = conv.conv_forward(A_prev, W, b, hparameters["stride"], hparameters["pad"])
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache: tuple):
    """Return dA_prev, dW, db of a conv layer: dA += W dZ, dW += a_slice dZ, db = Σ dZ."""
    return conv.conv_backward(_images("conv_backward", "dZ", dZ), cache)


def pool_forward(A_prev, hparameters: dict, mode: str = "max"):
    """Return A, the max or mean of every f×f window (stride s), and the cache (A_prev, hparams)."""
    A_prev = _images("pool_forward", "A_prev", A_prev)
    A, _ = conv.pool_forward(A_prev, hparameters["f"], hparameters["stride"], mode)
    return A, (A_prev, hparameters)


def create_mask_from_window(x):
    """Return the mask x == max(x) of one window (max-pool backward).

    On ties it marks the first maximum only, as :func:`dltool_cnn.conv.pool_backward` routes
    the gradient (the course's ``x == np.max(x)`` marks every tied maximum).
    """
    return conv.create_mask_from_window(np.asarray(x))


def distribute_value(dz: float, shape: tuple[int, int]):
    """Return an (n_H, n_W) array holding dz / (n_H · n_W) everywhere (average-pool backward)."""
    return conv.distribute_value(dz, shape)


def pool_backward(dA, cache: tuple, mode: str = "max"):
    """Return dA_prev: dA routed to each window's max (mode "max") or spread evenly ("average")."""
    return conv.pool_backward(_images("pool_backward", "dA", dA), cache, mode)


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
    X = _images("identity_block", "X", X)
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
    X = _images("convolutional_block", "X", X)
    if parameters is None:
        parameters = block_parameters(X.shape[3], f, filters, shortcut=True)
    shortcut = _conv_bn(X, parameters, 4, s, training)
    return np.maximum(_main_path(X, parameters, s, training) + shortcut, 0)
