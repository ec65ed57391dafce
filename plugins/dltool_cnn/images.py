"""Reading images safely, the classic edge filters, and convolving an image with the NumPy conv.

The filters are the notes' 3×3 examples (vertical/horizontal edge detectors) and their
relatives (Sobel, Scharr, Laplacian, sharpen, box blur); ``convolve_image`` runs
:func:`dltool_cnn.conv.conv_forward` on the image as a batch of one, channel by channel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool.data.images import open_upright
from dltool.errors import DltoolError

FILTERS = {
    "vertical-edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal-edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "sobel-x": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "sobel-y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "scharr-x": [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
    "scharr-y": [[3, 10, 3], [0, 0, 0], [-3, -10, -3]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "blur": [[1 / 9] * 3] * 3,
}
FILTER_NAMES = (*FILTERS, "sobel")  # sobel = √(sobel-x² + sobel-y²)
# scikit-image's bundled photographs, usable wherever an IMAGE path is expected.
SAMPLES = ("astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins",
           "colorwheel", "grass", "gravel", "hubble_deep_field", "immunohistochemistry",
           "moon", "page", "retina", "rocket", "text")  # fmt: skip


DEMO_PREFIX = "demo:"  # demo:NAME always means the sample, as in `dltool style`


def _open(path: Path):
    """Return the upright PIL image at ``path`` or scikit-image's sample demo:NAME or NAME."""
    from PIL import Image

    name = str(path)
    name = name[len(DEMO_PREFIX) :] if name.startswith(DEMO_PREFIX) else name
    if (name != str(path) or not path.exists()) and name in SAMPLES:
        from skimage import data

        return Image.fromarray(getattr(data, name)())
    if name != str(path):
        raise DltoolError(f"no demo image '{name}'", hint=f"demo images: {', '.join(SAMPLES)}")
    if not path.exists():
        raise DltoolError(
            f"image {path} does not exist",
            hint=f"or name a demo image as NAME or demo:NAME: {', '.join(SAMPLES)}",
        )
    return open_upright(path)


def load_image(path: str | Path, mode: str = "RGB", size: int | None = None) -> np.ndarray:
    """Return the image at ``path`` as float32 (H, W, C) in [0, 1]; any problem is a DltoolError."""
    from PIL import Image

    img = _open(Path(path)).convert(mode)
    if size is not None:
        img = img.resize((size, size), Image.BILINEAR)
    array = np.asarray(img, dtype=np.float32) / 255.0
    return array if array.ndim == 3 else array[:, :, None]  # (H, W, C)


def filter_kernel(name: str) -> np.ndarray:
    """Return the (3, 3) kernel called ``name``."""
    if name not in FILTERS:
        raise DltoolError(f"unknown filter '{name}'", hint=f"filters: {', '.join(FILTER_NAMES)}")
    return np.asarray(FILTERS[name], dtype=np.float64)


def convolve_image(image: np.ndarray, kernel: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Return Z (n_H, n_W, C): each channel of image (H, W, C) cross-correlated with kernel."""
    from dltool_cnn.conv import conv_forward

    H, W, C = image.shape
    A_prev = image.transpose(2, 0, 1)[:, :, :, None].astype(np.float64)  # (C, H, W, 1)
    Wk = kernel[:, :, None, None]  # (f, f, 1, 1)
    try:
        Z, _ = conv_forward(A_prev, Wk, np.zeros((1, 1, 1, 1)), stride, pad)
    except ValueError as exc:
        raise DltoolError(str(exc), hint="use a smaller stride or more padding") from None
    return Z[:, :, :, 0].transpose(1, 2, 0)  # (n_H, n_W, C)


def apply_filter(image: np.ndarray, name: str, stride: int, pad: int) -> np.ndarray:
    """Return the filter response; 'sobel' is the gradient magnitude √(Gx² + Gy²)."""
    if name == "sobel":
        gx = convolve_image(image, filter_kernel("sobel-x"), stride, pad)
        gy = convolve_image(image, filter_kernel("sobel-y"), stride, pad)
        return np.sqrt(gx**2 + gy**2)
    return convolve_image(image, filter_kernel(name), stride, pad)


def to_display(response: np.ndarray, signed: bool) -> np.ndarray:
    """Return the response scaled to [0, 1]: |Z|/max|Z| for edge maps, min-max otherwise."""
    if signed:
        peak = np.abs(response).max()
        return np.abs(response) / peak if peak > 0 else np.zeros_like(response)
    low, high = response.min(), response.max()
    return (response - low) / (high - low) if high > low else np.zeros_like(response)
