"""Where images come from: paths, directories and globs given by the user, or the demo photos.

The demo photos are real photographs that installed registry packages ship as data
files (scikit-image, matplotlib, scikit-learn); they are located with
``importlib.util.find_spec`` without importing the packages. No torch/numpy here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dltool.data.images import find_images
from dltool.errors import DltoolError

DEMO_PHOTOS = (
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    ("skimage", "data/astronaut.png"),
    ("skimage", "data/camera.png"),
    ("skimage", "data/chelsea.png"),
    ("skimage", "data/coffee.png"),
    ("skimage", "data/motorcycle_left.png"),
    ("sklearn", "datasets/images/china.jpg"),
)


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


def demo_photos() -> list[Path]:
    """Return the demo photos that the installed packages provide."""
    found = [p for pkg, rel in DEMO_PHOTOS if (p := package_file(pkg, rel)) is not None]
    if not found:
        raise DltoolError(
            "no demo photos found: they come with scikit-image, matplotlib and scikit-learn",
            hint="pip install 'dltool[yolo]'",
        )
    return found


def count(sources: list[str]) -> list[Path]:
    """Return every file of ``sources`` (checks all sources before any work starts)."""
    return list(find_images(sources, globs=True))
