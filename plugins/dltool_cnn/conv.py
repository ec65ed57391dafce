"""Convolution and pooling layers in NumPy, forward and backward, in the notes' NHWC layout.

Shapes and signatures follow the course notes ("CNN"): ``conv_forward(A_prev, W, b, stride,
pad)`` returns ``Z`` and ``cache = (A_prev, W, b, hparameters)``;
``A_prev`` is ``(m, n_H_prev, n_W_prev, n_C_prev)``,
``W`` is ``(f, f, n_C_prev, n_C)`` and ``b`` is ``(1, 1, 1, n_C)``. Convolution is
cross-correlation, and every output side is ``n = ⌊(n_prev + 2p − f) / s⌋ + 1``.

Each layer exists twice: the loop version mirrors the notes line by line (the oracle, for
reading) and the vectorized version builds the windows with ``sliding_window_view``, copies
them into im2col rows and contracts those with ``matmul`` (pooling reduces the window axes
with ``max``/``mean``), for speed. Tests hold both against torch autograd.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def output_size(n_prev: int, f: int, stride: int, pad: int) -> int:
    """Return ⌊(n_prev + 2·pad − f) / stride⌋ + 1, the output side of a conv or pool."""
    return (n_prev + 2 * pad - f) // stride + 1


def same_padding(f: int) -> int:
    """Return p = (f − 1) / 2, the "same" padding for stride 1 (f must be odd)."""
    if f % 2 == 0:
        raise ValueError(f"'same' padding needs an odd filter size, got f={f}")
    return (f - 1) // 2


def check_output(n_H_prev: int, n_W_prev: int, f: int, stride: int, pad: int) -> tuple[int, int]:
    """Return (n_H, n_W), raising ValueError when the layer has no output."""
    if f < 1 or stride < 1 or pad < 0:
        raise ValueError(f"need f ≥ 1, stride ≥ 1 and pad ≥ 0, got f={f} s={stride} p={pad}")
    n_H = output_size(n_H_prev, f, stride, pad)
    n_W = output_size(n_W_prev, f, stride, pad)
    if n_H < 1 or n_W < 1 or n_H_prev + 2 * pad < f or n_W_prev + 2 * pad < f:
        raise ValueError(
            f"no output: input {n_H_prev}x{n_W_prev} with pad {pad} is smaller than the filter {f}"
        )
    return n_H, n_W


def zero_pad(X: np.ndarray, pad: int) -> np.ndarray:
    """Return X (m, n_H, n_W, n_C) with ``pad`` zeros around height and width."""
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant")


def conv_single_step(a_slice_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """Return Z = Σ(a_slice_prev ⊙ W) + b for one (f, f, n_C_prev) window and one filter."""
    return float(np.sum(a_slice_prev * W) + float(np.squeeze(b)))


# ---------------------------------------------------------------- loop versions (the notes)


def conv_forward_loop(A_prev, W, b, stride: int, pad: int):
    """Return Z (m, n_H, n_W, n_C) = A_prev ⋆ W + b with loops, and the cache for backward."""
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    hparameters = {"stride": stride, "pad": pad}
    n_H, n_W = check_output(n_H_prev, n_W_prev, f, stride, pad)
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
    return Z, (A_prev, W, b, hparameters)


def conv_backward_loop(dZ, cache):
    """Return dA_prev, dW, db of a conv layer with loops: dA += W·dZ, dW += a_slice·dZ, db += dZ."""
    (A_prev, W, b, hparameters) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev_pad = np.zeros((m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev))
    dW = np.zeros_like(W, dtype=np.float64)
    db = np.zeros_like(b, dtype=np.float64)
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad, da_prev_pad = A_prev_pad[i], dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                vs, hs = h * stride, w * stride
                a_slice = a_prev_pad[vs : vs + f, hs : hs + f, :]
                for c in range(n_C):
                    da_prev_pad[vs : vs + f, hs : hs + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev, :]
    return dA_prev, dW, db


def create_mask_from_window(x: np.ndarray) -> np.ndarray:
    """Return the mask x == max(x): True where the window's maximum is (first one only)."""
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(np.argmax(x), x.shape)] = True
    return mask


def distribute_value(dz: float, shape: tuple[int, int]) -> np.ndarray:
    """Return a (n_H, n_W) array holding dz / (n_H·n_W) everywhere (average-pool backward)."""
    (n_H, n_W) = shape
    return np.full(shape, dz / (n_H * n_W))


MODES = ("max", "average")


def check_mode(mode: str) -> str:
    """Return mode if it is 'max' or 'average', else raise ValueError."""
    if mode not in MODES:
        raise ValueError(f"pooling mode must be 'max' or 'average', got {mode!r}")
    return mode


def pool_forward_loop(A_prev, f: int, stride: int, mode: str = "max"):
    """Return A (m, n_H, n_W, n_C), the max or average of every f×f window, and the cache."""
    check_mode(mode)
    (m, n_H_prev, n_W_prev, n_C) = A_prev.shape
    hparameters = {"f": f, "stride": stride}
    n_H, n_W = check_output(n_H_prev, n_W_prev, f, stride, 0)
    A = np.zeros((m, n_H, n_W, n_C))
    reduce = np.max if mode == "max" else np.mean
    for i in range(m):
        for h in range(n_H):
            vs = h * stride
            for w in range(n_W):
                hs = w * stride
                for c in range(n_C):
                    A[i, h, w, c] = reduce(A_prev[i, vs : vs + f, hs : hs + f, c])
    return A, (A_prev, hparameters)


def pool_backward_loop(dA, cache, mode="max"):
    """Return dA_prev: dA routed to the max (mask) or spread evenly over each window (average)."""
    (A_prev, hparameters) = cache
    f, stride = hparameters["f"], hparameters["stride"]
    (m, n_H, n_W, n_C) = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            vs = h * stride
            for w in range(n_W):
                hs = w * stride
                for c in range(n_C):
                    if mode == "max":
                        window = A_prev[i, vs : vs + f, hs : hs + f, c]
                        mask = create_mask_from_window(window)
                        dA_prev[i, vs : vs + f, hs : hs + f, c] += mask * dA[i, h, w, c]
                    else:
                        spread = distribute_value(dA[i, h, w, c], (f, f))
                        dA_prev[i, vs : vs + f, hs : hs + f, c] += spread
    return dA_prev


# ---------------------------------------------------------------- vectorized versions


def windows(A_pad: np.ndarray, f: int, stride: int, n_H: int, n_W: int) -> np.ndarray:
    """Return the strided view (m, n_H, n_W, n_C, f, f) of every f×f window of A_pad."""
    view = sliding_window_view(A_pad, (f, f), axis=(1, 2))  # (m, H−f+1, W−f+1, n_C, f, f)
    return view[:, : (n_H - 1) * stride + 1 : stride, : (n_W - 1) * stride + 1 : stride]


def im2col(A_prev: np.ndarray, f: int, stride: int, pad: int) -> tuple[np.ndarray, int, int]:
    """Return columns (m·n_H·n_W, f·f·n_C_prev) of every window, in W's (f, f, n_C_prev) order."""
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    n_H, n_W = check_output(n_H_prev, n_W_prev, f, stride, pad)
    win = windows(zero_pad(A_prev, pad), f, stride, n_H, n_W)  # (m, n_H, n_W, n_C_prev, f, f)
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(m * n_H * n_W, f * f * n_C_prev)
    return cols, n_H, n_W


CHUNK_BYTES = 32 * 2**20  # im2col buffer per chunk of examples (reused, so faulted in once)


def _chunks(win: np.ndarray, dtype) -> tuple[np.ndarray, list[slice]]:
    """Return a reusable column buffer and the example slices that fit in CHUNK_BYTES."""
    m, n_H, n_W, n_C_prev, f, _ = win.shape
    per_example = n_H * n_W * f * f * n_C_prev * np.dtype(dtype).itemsize
    k = max(1, min(m, CHUNK_BYTES // max(per_example, 1)))
    buf = np.empty((k, n_H, n_W, f, f, n_C_prev), dtype=dtype)
    return buf, [slice(i, min(i + k, m)) for i in range(0, m, k)]


def _fill(buf: np.ndarray, win: np.ndarray, sl: slice) -> np.ndarray:
    """Copy the windows of examples ``sl`` into buf; return them as columns (rows, f·f·n_C_prev)."""
    n = sl.stop - sl.start
    np.copyto(buf[:n], win[sl].transpose(0, 1, 2, 4, 5, 3))
    return buf[:n].reshape(-1, buf[0, 0, 0].size)


def conv_forward(A_prev, W, b, stride: int, pad: int):
    """Return Z = im2col(A_prev) @ W.reshape(f·f·n_C_prev, n_C) + b, shaped (m, n_H, n_W, n_C).

    The columns are built a chunk of examples at a time in one reused buffer.
    """
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    n_H, n_W = check_output(n_H_prev, n_W_prev, f, stride, pad)
    win = windows(zero_pad(A_prev, pad), f, stride, n_H, n_W)  # (m, n_H, n_W, n_C_prev, f, f)
    dtype = np.result_type(A_prev, W, b)
    W_col = W.reshape(f * f * n_C_prev, n_C).astype(dtype, copy=False)
    Z = np.empty((m, n_H, n_W, n_C), dtype=dtype)
    buf, slices = _chunks(win, dtype)
    for sl in slices:
        np.matmul(_fill(buf, win, sl), W_col, out=Z[sl].reshape(-1, n_C))  # (rows, n_C)
    Z += b.reshape(1, 1, 1, n_C)
    return Z, (A_prev, W, b, {"stride": stride, "pad": pad})


def col2im(dcols, A_shape, f, stride, pad, n_H, n_W) -> np.ndarray:
    """Return dA_prev (m, n_H_prev, n_W_prev, n_C): the sum of window gradients dcols."""
    m, n_H_prev, n_W_prev, n_C = A_shape
    dA_pad = np.zeros((m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C), dtype=dcols.dtype)
    _add_windows(dA_pad, dcols, f, stride, n_H, n_W)
    return dA_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev]


def _add_windows(dA_pad, dcols, f, stride, n_H, n_W) -> None:
    """Add window gradients dcols (m, n_H, n_W, f, f, n_C) into dA_pad at their positions."""
    for a in range(f):  # f² strided adds instead of m·n_H·n_W·n_C loop steps
        for c in range(f):
            dA_pad[:, a : a + stride * n_H : stride, c : c + stride * n_W : stride] += dcols[
                :, :, :, a, c
            ]


def conv_backward(dZ, cache):
    """Return dA_prev = col2im(dZ Wᵀ), dW = colsᵀ dZ, db = Σ dZ for a conv layer (chunked)."""
    (A_prev, W, b, hparameters) = cache
    f, _, n_C_prev, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H, n_W, _ = dZ.shape
    win = windows(zero_pad(A_prev, pad), f, stride, n_H, n_W)  # (m, n_H, n_W, n_C_prev, f, f)
    dtype = np.result_type(A_prev, W, dZ)
    W_col = W.reshape(f * f * n_C_prev, n_C).astype(dtype, copy=False)
    _, n_H_prev, n_W_prev, _ = A_prev.shape
    dA_pad = np.zeros((m, n_H_prev + 2 * pad, n_W_prev + 2 * pad, n_C_prev), dtype=dtype)
    dW_col = np.zeros((f * f * n_C_prev, n_C), dtype=dtype)
    buf, slices = _chunks(win, dtype)
    dbuf = np.empty_like(buf)
    for sl in slices:
        n = sl.stop - sl.start
        cols = _fill(buf, win, sl)  # (rows, f·f·n_C_prev)
        dZ_rows = dZ[sl].reshape(-1, n_C)  # (rows, n_C)
        dW_col += cols.T @ dZ_rows
        dcols = dbuf[:n]
        np.matmul(dZ_rows, W_col.T, out=dcols.reshape(-1, f * f * n_C_prev))
        _add_windows(dA_pad[sl], dcols, f, stride, n_H, n_W)
    dA_prev = dA_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev]
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
    return dA_prev, dW_col.reshape(f, f, n_C_prev, n_C), db


def pool_forward(A_prev, f: int, stride: int, mode: str = "max"):
    """Return A = max or mean over each f×f window (vectorized), and the cache."""
    check_mode(mode)
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    hparameters = {"f": f, "stride": stride}
    n_H, n_W = check_output(n_H_prev, n_W_prev, f, stride, 0)
    win = windows(A_prev, f, stride, n_H, n_W)  # (m, n_H, n_W, n_C, f, f)
    A = win.max(axis=(4, 5)) if mode == "max" else win.mean(axis=(4, 5))
    return A, (A_prev, hparameters)


def pool_backward(dA, cache, mode="max"):
    """Return dA_prev: dA at each window's (first) max, or dA / f² spread over the window."""
    (A_prev, hparameters) = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    if mode == "max":
        win = windows(A_prev, f, stride, n_H, n_W).reshape(m, n_H, n_W, n_C, f * f)
        first = win.argmax(axis=-1)  # (m, n_H, n_W, n_C), first max like the loop's mask
        mask = np.arange(f * f) == first[..., None]  # (m, n_H, n_W, n_C, f·f)
        dwin = mask * dA[..., None]
    else:
        dwin = np.broadcast_to(dA[..., None] / (f * f), (m, n_H, n_W, n_C, f * f))
    dcols = dwin.reshape(m, n_H, n_W, n_C, f, f).transpose(0, 1, 2, 4, 5, 3)
    return col2im(np.ascontiguousarray(dcols), A_prev.shape, f, stride, 0, n_H, n_W)


# ---------------------------------------------------------------- batch normalization

BN_EPSILON = 1e-3  # Keras' BatchNormalization default, the one the course's ResNet uses


def batchnorm_forward(Z, gamma, beta, mean=None, var=None, epsilon: float = BN_EPSILON):
    """Return γ (Z − μ) / √(σ² + ε) + β per channel of Z (m, n_H, n_W, n_C).

    μ and σ² are the batch's mean and biased variance over (m, n_H, n_W) when ``mean`` and
    ``var`` are None (training), else the given running statistics (inference).
    """
    if mean is None or var is None:
        mean = Z.mean(axis=(0, 1, 2))  # (n_C,)
        var = Z.var(axis=(0, 1, 2))
    scale = np.reshape(gamma, -1) / np.sqrt(np.reshape(var, -1) + epsilon)  # (n_C,)
    return (Z - np.reshape(mean, -1)) * scale + np.reshape(beta, -1)
