"""Reading images for face work: RGB uint8 arrays (H, W, 3), file hashes, folder expansion."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def expand(sources: list[str]) -> list[Path]:
    """Return the files of ``sources``: files as given, image files inside directories."""
    files: list[Path] = []
    for src in sources:
        path = Path(src).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise DltoolError(f"directory {src} holds no image files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DltoolError(f"image not found: {src}", hint="give image files or folders")
    return files


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of the bytes of ``path``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_rgb(path: Path) -> Any:
    """Return the image at ``path`` as a C-contiguous uint8 array (H, W, 3), EXIF-rotated."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DltoolError(
            f"{path} is not a readable image ({type(exc).__name__})",
            hint="give JPEG, PNG or another image file Pillow can read",
        ) from None
