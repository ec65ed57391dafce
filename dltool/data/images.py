"""Image files for every plugin: the one input vocabulary, reading images upright, writing them.

Wherever images are read, a source is a file, a folder (its files with an image suffix), a
glob, or ``demo:NAME``: a sample photo from the one catalogue of photos that installed
packages ship (:data:`SAMPLES`; a bare ``NAME`` works too when no such file exists).
``read_rgb`` applies the EXIF orientation (a phone photo stored sideways comes out the way
viewers show it), scales 16-bit and float images by their depth, and turns each way of
failing into an :class:`ImageReadError` whose ``reason`` names the failure without the path.
numpy and PIL are imported on use.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
READ_HINT = "give a JPEG, PNG, BMP, GIF, TIFF or WebP file"
# What image outputs may be: the formats Pillow writes without loss of colours (GIF is left
# out: it would quantize a photo to 256 colours; a .gif input gets a .png output).
IMAGE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".ppm": "PPM",
}
LOSSY = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}  # save options by format
DEMO_PREFIX = "demo:"
# NAME: (package, file inside it); packages are located, never imported.
SAMPLES = {
    "astronaut": ("skimage", "data/astronaut.png"),
    "brick": ("skimage", "data/brick.png"),
    "camera": ("skimage", "data/camera.png"),
    "cat": ("skimage", "data/chelsea.png"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "china": ("sklearn", "datasets/images/china.jpg"),
    "clock": ("skimage", "data/clock_motion.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "coins": ("skimage", "data/coins.png"),
    "colorwheel": ("skimage", "data/color.png"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    "grass": ("skimage", "data/grass.png"),
    "gravel": ("skimage", "data/gravel.png"),
    "hubble_deep_field": ("skimage", "data/hubble_deep_field.jpg"),
    "immunohistochemistry": ("skimage", "data/ihc.png"),
    "moon": ("skimage", "data/moon.png"),
    "motorcycle_left": ("skimage", "data/motorcycle_left.png"),
    "page": ("skimage", "data/page.png"),
    "retina": ("skimage", "data/retina.jpg"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "text": ("skimage", "data/text.png"),
}
DEMO_HINT = "demo images (demo:NAME): " + ", ".join(SAMPLES)


def complete_image(incomplete: str) -> list[str]:
    """Return the ``demo:NAME`` completions of an image argument (TAB; nothing imported).

    Any other word gets no candidates: the shell then completes file names. (Bash breaks
    words at ``:``; the completion script joins ``demo:NAME`` again before asking.)
    """
    if not incomplete.startswith(DEMO_PREFIX):
        return []
    return [DEMO_PREFIX + name for name in SAMPLES if (DEMO_PREFIX + name).startswith(incomplete)]


class ImageReadError(DltoolError):
    """An image file that cannot be read; ``reason`` says why without the path."""

    def __init__(self, path: Path, reason: str, message: str) -> None:
        super().__init__(message, hint=READ_HINT)
        self.path, self.reason = path, reason


def is_image_name(path: Path) -> bool:
    """Return whether ``path`` ends in one of IMAGE_SUFFIXES (any case)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def images_in(folder: Path) -> list[Path]:
    """Return the image files below ``folder`` (recursively), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p))


def package_file(package: str, relpath: str) -> Path | None:
    """Return ``relpath`` inside installed ``package`` (not imported), or None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relpath
    return path if path.is_file() else None


def sample_path(name: str) -> Path:
    """Return the file of sample photo ``name`` from the catalogue; a DltoolError if absent."""
    if name not in SAMPLES:
        raise DltoolError(f"no demo image '{name}'", hint=DEMO_HINT)
    path = package_file(*SAMPLES[name])
    if path is None:
        raise DltoolError(
            f"demo image '{name}' comes with {SAMPLES[name][0]}, which is not installed",
            hint="pip install 'dltool[all]'",
        )
    return path


def image_source(src: str | os.PathLike) -> Path:
    """Return the path ``src`` names: ``demo:NAME``, a file, or a sample NAME (no such file)."""
    text = os.fspath(src)
    if text.startswith(DEMO_PREFIX):
        return sample_path(text[len(DEMO_PREFIX) :])
    path = Path(text).expanduser()
    if not path.exists() and text in SAMPLES:
        return sample_path(text)
    return path


def find_images(sources: list[str]) -> Iterator[Path]:
    """Yield files as given, demo:NAME samples, the images in folders and glob matches, in order."""
    for src in sources:
        path = image_source(src)
        if path.is_dir():
            files = images_in(path)
            if not files:
                raise DltoolError(
                    f"directory {src} holds no image files",
                    hint=f"images are taken by suffix: {', '.join(IMAGE_SUFFIXES)}",
                )
            yield from files
        elif path.exists():
            yield path
        elif glob.has_magic(src):
            matches = sorted(Path(m) for m in glob.glob(src, recursive=True) if Path(m).is_file())
            if not matches:
                raise DltoolError(
                    f"no file matches {src}", hint="check the pattern; quote it for the shell"
                )
            yield from matches
        else:
            raise DltoolError(
                f"image not found: {src}",
                hint="give image files, folders, globs or demo:NAME; " + DEMO_HINT,
            )


def open_upright(path: Path) -> Any:
    """Return the loaded PIL image at ``path`` turned by its EXIF orientation."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise ImageReadError(path, "does not exist", f"image {path} does not exist")
    if path.is_dir():
        raise ImageReadError(path, "is a directory", f"{path} is a directory, not an image")
    try:
        with Image.open(path) as img:
            img.load()
            return ImageOps.exif_transpose(img)
    except UnidentifiedImageError:
        raise ImageReadError(
            path, "not an image", f"{path} is not an image Pillow can read"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(path, "too many pixels", f"{path} is refused: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ImageReadError(path, reason, f"{path} is not a readable image ({reason})") from None


def check_headers(paths: Any) -> None:
    """Refuse, before any work, a file whose header Pillow cannot read (pixels are not read)."""
    from PIL import Image, UnidentifiedImageError

    for path in paths:
        try:
            with Image.open(path):
                pass
        except UnidentifiedImageError:
            raise ImageReadError(
                path, "not an image", f"{path} is not an image Pillow can read"
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ImageReadError(
                path, reason, f"{path} is not a readable image ({reason})"
            ) from None


def to_8bit(img: Any) -> Any:
    """Return a PIL image of 16-bit or float pixels as 8-bit 'L', scaled by its depth."""
    import numpy as np
    from PIL import Image

    if img.mode not in ("I", "I;16", "I;16B", "I;16L", "F"):
        return img
    pixels = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        top = 1.0 if pixels.size and np.nanmax(pixels) <= 1.0 else 255.0
    else:
        top = 65535.0 if img.mode.startswith("I;16") or pixels.max(initial=0) > 255 else 255.0
    scaled = np.clip(np.nan_to_num(pixels) * (255.0 / top), 0, 255)  # 0..top -> 0..255
    return Image.fromarray(np.rint(scaled).astype(np.uint8), mode="L")


def read_rgb(path: Path) -> Any:
    """Return the image at ``path`` as C-contiguous RGB uint8 (H, W, 3), upright."""
    import numpy as np

    img = to_8bit(open_upright(path)).convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def check_image_output(path: str | os.PathLike) -> str:
    """Return PIL's format for an image output path, or refuse a suffix it cannot be."""
    from dltool.report import output_format

    return output_format(path, IMAGE_FORMATS)


def output_name(path: str | os.PathLike, taken: set[str] | None = None, tag: str = "") -> str:
    """Return the file name of the image output made from input ``path``: ``<stem><tag><suffix>``.

    The input's stem and suffix are kept, case included, when the suffix is one of
    IMAGE_FORMATS; otherwise the output is ``<stem><tag>.png``. ``taken`` holds the stems
    already given out in this run (casefolded) and gets the new one: a stem already taken
    becomes ``<stem>_2``, ``<stem>_3``…, so two inputs of one name (from two folders, or
    ``a.png`` and ``A.jpg``) never overwrite each other's outputs, nor any file named
    after the stem (labels, crops, figures).
    """
    path = Path(path)
    suffix = path.suffix if path.suffix.lower() in IMAGE_FORMATS else ".png"
    base = path.stem
    stem, n = base + tag, 1
    taken = set() if taken is None else taken
    while stem.casefold() in taken:
        n += 1
        stem = f"{base}{tag}_{n}"
    taken.add(stem.casefold())
    return stem + suffix


def write_image(pixels: Any, path: str | os.PathLike) -> Path:
    """Write an RGB or grey image atomically in the format the suffix names.

    ``pixels`` is uint8 (H, W[, 3]) or a PIL image; JPEG and WebP are written at quality 95.
    """
    from PIL import Image

    from dltool import atomic

    fmt = check_image_output(path)
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    with atomic.atomic_path(path) as tmp:
        image.save(tmp, format=fmt, **LOSSY.get(fmt, {}))
    return Path(path)
