"""Where images come from: paths, directories and globs given by the user, or the demo photos.

The demo photos are real photographs that installed registry packages ship as data
files (scikit-image, matplotlib, scikit-learn); they are located with
``importlib.util.find_spec`` without importing the packages. No torch/numpy here.
"""

from __future__ import annotations

from pathlib import Path

from dltool.data.images import find_images, package_file
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
    return list(find_images(sources))
