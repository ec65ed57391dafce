"""Image files for every plugin: which names count as images, finding them, reading them upright.

``read_rgb`` applies the EXIF orientation (a phone photo stored sideways comes out the way
viewers show it) and turns each way of failing into an :class:`ImageReadError` whose
``reason`` names the failure without the path. numpy and PIL are imported on use.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
READ_HINT = "give a JPEG, PNG, BMP, GIF, TIFF or WebP file"


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


def find_images(sources: list[str], globs: bool = False) -> Iterator[Path]:
    """Yield files as given, the images in folders and (``globs``) glob matches, in order."""
    for src in sources:
        path = Path(src).expanduser()
        if path.is_dir():
            files = images_in(path)
            if not files:
                raise DltoolError(f"directory {src} holds no image files")
            yield from files
        elif path.exists():
            yield path
        elif globs and glob.has_magic(src):
            matches = sorted(Path(m) for m in glob.glob(src, recursive=True) if Path(m).is_file())
            if not matches:
                raise DltoolError(f"no file matches {src}")
            yield from matches
        else:
            where = "image files, folders or globs" if globs else "image files or folders"
            raise DltoolError(f"image not found: {src}", hint=f"give {where}")


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
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ImageReadError(path, reason, f"{path} is not a readable image ({reason})") from None


def read_rgb(path: Path) -> Any:
    """Return the image at ``path`` as C-contiguous RGB uint8 (H, W, 3), upright."""
    import numpy as np

    return np.ascontiguousarray(np.asarray(open_upright(path).convert("RGB"), dtype=np.uint8))
