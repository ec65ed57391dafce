"""Where ``detect`` takes its images: the user's sources, or the ``--demo`` photos.

Sources are the core's one input vocabulary (files, folders, globs, ``demo:NAME``:
:func:`dltool.data.images.find_images`). ``--demo`` is a fixed list of names from the
core's sample catalogue: photos with objects YOLOv3-tiny's COCO classes cover. No
torch/numpy here.
"""

from __future__ import annotations

from pathlib import Path

from dltool.data.images import SAMPLES, find_images, sample_path
from dltool.errors import DltoolError

DEMO_PHOTOS = (
    "grace_hopper",
    "astronaut",
    "camera",
    "chelsea",
    "coffee",
    "motorcycle_left",
    "china",
)


def demo_photos() -> list[Path]:
    """Return the files of the demo photos that the installed packages provide."""
    found = []
    for name in DEMO_PHOTOS:
        try:
            found.append(sample_path(name))
        except DltoolError:  # its package is not installed
            continue
    if not found:
        packages = sorted({SAMPLES[name][0] for name in DEMO_PHOTOS})
        raise DltoolError(
            f"no demo photos found: they come with {', '.join(packages)}",
            hint="pip install 'dltool[yolo]'",
        )
    return found


def images(sources: list[str] | None, demo: bool) -> list[Path]:
    """Return the demo photos (with ``demo``) and then every image file ``sources`` name."""
    if not sources and not demo:
        raise DltoolError(
            "give images, folders, globs or demo:NAME to detect on", hint="or try --demo"
        )
    return (demo_photos() if demo else []) + list(find_images(list(sources or [])))
