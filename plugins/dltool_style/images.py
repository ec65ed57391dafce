"""Images for style transfer: size, convert to tensors and back, keep the content's colors.

Files and sample photos are read and written by the core (``dltool.data.images``). Pixels
travel as uint8 arrays (H, W, 3) on disk and as float tensors (1, 3, H, W) in [0, 1]
during optimization. ``preserve_colors`` is the luminance-only transfer of Gatys et al.
(2016, "Preserving color in neural artistic style transfer"): the result's luma Y with the
content's chroma Cb, Cr (ITU-R BT.601, full range).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fit_size(height: int, width: int, size: int) -> tuple[int, int]:
    """Return (h, w) with the longer side at most ``size``, keeping the aspect ratio."""
    scale = min(1.0, size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return ``img`` (H, W, 3) resized to ``shape`` = (h, w) with Lanczos filtering."""
    from PIL import Image

    if img.shape[:2] == tuple(shape):
        return img
    return np.asarray(Image.fromarray(img).resize((shape[1], shape[0]), Image.LANCZOS))


def cover(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return ``img`` scaled to cover ``shape`` = (h, w), then center-cropped to it."""
    h, w = shape
    scale = max(h / img.shape[0], w / img.shape[1])
    sh, sw = max(h, round(img.shape[0] * scale)), max(w, round(img.shape[1] * scale))
    big = resize(img, (sh, sw))
    top, left = (sh - h) // 2, (sw - w) // 2
    return big[top : top + h, left : left + w]


def to_tensor(img: np.ndarray, device: Any = None) -> Any:
    """Return uint8 (H, W, 3) as a float tensor (1, 3, H, W) in [0, 1] on ``device``."""
    import torch

    x = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 255.0
    x = x.contiguous()  # (1, 3, H, W)
    return x.to(device) if device is not None else x


def to_uint8(x: Any) -> np.ndarray:
    """Return a tensor (1, 3, H, W) in [0, 1] as uint8 pixels (H, W, 3)."""
    arr = x.detach()[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy()  # (H, W, 3)
    return (arr * 255.0 + 0.5).astype(np.uint8)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Return Y, Cb, Cr (BT.601 full range) of float RGB in [0, 255], shape (..., 3)."""
    m = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
    return rgb @ m.T + np.array([0.0, 128.0, 128.0])


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Return float RGB from Y, Cb, Cr (BT.601 full range), shape (..., 3)."""
    y, cb, cr = ycc[..., 0], ycc[..., 1] - 128.0, ycc[..., 2] - 128.0
    r = y + 1.402 * cr
    g = y - 0.344136 * cb - 0.714136 * cr
    b = y + 1.772 * cb
    return np.stack([r, g, b], axis=-1)


def preserve_colors(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Return the result's luma Y with the content's chroma (Cb, Cr), as uint8 (H, W, 3)."""
    ycc = rgb_to_ycbcr(result.astype(np.float64))
    ycc[..., 1:] = rgb_to_ycbcr(content.astype(np.float64))[..., 1:]
    return np.clip(ycbcr_to_rgb(ycc) + 0.5, 0, 255).astype(np.uint8)
