"""Reading images through the core's one vocabulary, and convolving them with the NumPy conv.

The filters (:mod:`dltool_cnn.filters`) are the notes' 3×3 examples (vertical/horizontal
edge detectors) and their relatives (Sobel, Scharr, Laplacian, sharpen, box blur);
``convolve_image`` runs
:func:`dltool_cnn.conv.conv_forward` on the image as a batch of one, channel by channel.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from dltool.data.images import DEMO_HINT, image_source, images_in, open_upright, to_8bit
from dltool.errors import DltoolError
from dltool_cnn.filters import FILTER_NAMES, FILTERS


def one_image(source: str, command: str) -> Path:
    """Return the path of the one image ``source`` names; a folder or a pattern is refused.

    ``command`` (``conv``, ``augment``) names the command in the message.
    """
    path = image_source(source)
    if path.is_dir():
        found = images_in(path)
        raise DltoolError(
            f"cnn {command} takes one image, and {source} is a folder",
            hint=f"give one image file{f', such as {found[0]}' if found else ''}; "
            "for many images, run the command once per file",
        )
    if not path.exists() and glob.has_magic(source):
        found = sorted(m for m in glob.glob(source, recursive=True) if Path(m).is_file())
        raise DltoolError(
            f"cnn {command} takes one image, and {source} is a pattern "
            f"({len(found)} matching file{'' if len(found) == 1 else 's'})",
            hint=f"give one image file{f', such as {found[0]}' if found else ''}; "
            "for many images, run the command once per file",
        )
    return path


def load_image(source: str | Path, mode: str = "RGB", size: int | None = None) -> np.ndarray:
    """Return the image ``source`` names as float32 (H, W, C) in [0, 1]; problems are DltoolErrors.

    ``source`` is a file, ``demo:NAME`` or a sample NAME (core catalogue); 16-bit and float
    images are scaled by their depth.
    """
    from PIL import Image

    path = image_source(source)
    if not path.exists():
        raise DltoolError(f"image {source} does not exist", hint="give an image file; " + DEMO_HINT)
    img = to_8bit(open_upright(path)).convert(mode)
    if size is not None:
        img = img.resize((size, size), Image.BILINEAR)
    array = np.asarray(img, dtype=np.float32) / 255.0
    return array if array.ndim == 3 else array[:, :, None]  # (H, W, C)


def filter_kernel(name: str) -> np.ndarray:
    """Return the (3, 3) kernel called ``name``."""
    if name not in FILTERS:
        raise DltoolError(f"unknown filter '{name}'", hint=f"filters: {', '.join(FILTER_NAMES)}")
    return np.asarray(FILTERS[name], dtype=np.float64)


MAX_CONV_BYTES = 4 << 30  # the NumPy conv of one image: padded input, responses, im2col chunk


def conv_bytes(shape: tuple[int, int, int], stride: int, pad: int, sobel: bool) -> int:
    """Return the bytes ``apply_filter`` needs: float64 padded input and its responses."""
    from dltool_cnn.conv import CHUNK_BYTES

    H, W, C = shape
    n_H, n_W = (H + 2 * pad - 3) // stride + 1, (W + 2 * pad - 3) // stride + 1
    responses = 3 if sobel else 1
    return 8 * C * ((H + 2 * pad) * (W + 2 * pad) + responses * max(n_H, 0) * max(n_W, 0)) + (
        CHUNK_BYTES
    )


def check_conv_size(shape: tuple[int, int, int], stride: int, pad: int, sobel: bool) -> None:
    """Refuse a convolution that would need more than MAX_CONV_BYTES."""
    need = conv_bytes(shape, stride, pad, sobel)
    if need > MAX_CONV_BYTES:
        raise DltoolError(
            f"convolving a {shape[0]}x{shape[1]}x{shape[2]} image with --pad {pad} "
            f"--stride {stride} needs about {need / 2**30:.1f} GiB "
            f"(the limit is {MAX_CONV_BYTES / 2**30:.0f} GiB)",
            hint="use a smaller --pad, a larger --stride, --gray, or a smaller image",
        )


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


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Return image (H, W, C) in [0, 1] as uint8: (H, W) for one channel, else (H, W, C)."""
    pixels = np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
