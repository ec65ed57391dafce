"""Reading images for face work: the core's reader, in face-work wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.data.images import ImageReadError, read_rgb
from dltool.errors import DltoolError


def load_rgb(path: Path) -> Any:
    """Return the image at ``path`` as a C-contiguous uint8 array (H, W, 3), EXIF-rotated."""
    try:
        return read_rgb(path)
    except ImageReadError as exc:
        raise DltoolError(f"{path} is not a readable image ({exc.reason})", hint=exc.hint) from None
