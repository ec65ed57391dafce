"""The torch twin of :mod:`dltool_cnn.conv`: the same NHWC layers on any device, via autograd.

``A_prev`` (m, n_H_prev, n_W_prev, n_C_prev), ``W`` (f, f, n_C_prev, n_C), ``b`` (1, 1, 1, n_C)
as in the notes; inside, tensors are moved to torch's NCHW layout for ``conv2d``/pooling and
back. Backward passes come from autograd; the tests hold them against the NumPy versions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_nchw(x: torch.Tensor) -> torch.Tensor:
    """Return x (m, H, W, C) as (m, C, H, W)."""
    return x.permute(0, 3, 1, 2)


def to_nhwc(x: torch.Tensor) -> torch.Tensor:
    """Return x (m, C, H, W) as (m, H, W, C)."""
    return x.permute(0, 2, 3, 1)


def conv_forward(A_prev: torch.Tensor, W: torch.Tensor, b: torch.Tensor, stride: int, pad: int):
    """Return Z (m, n_H, n_W, n_C) = A_prev ⋆ W + b, cross-correlation with zero padding."""
    weight = W.permute(3, 2, 0, 1)  # (n_C, n_C_prev, f, f)
    Z = F.conv2d(to_nchw(A_prev), weight, b.reshape(-1), stride=stride, padding=pad)
    return to_nhwc(Z)


def pool_forward(A_prev: torch.Tensor, f: int, stride: int, mode: str = "max") -> torch.Tensor:
    """Return A (m, n_H, n_W, n_C), the max or average of every f×f window."""
    if mode not in ("max", "average"):
        raise ValueError(f"pooling mode must be 'max' or 'average', got {mode!r}")
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return to_nhwc(pool(to_nchw(A_prev), kernel_size=f, stride=stride))
