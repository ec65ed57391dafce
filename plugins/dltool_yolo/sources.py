"""Where ``detect`` takes its images: the user's sources, or the ``--demo`` photos.

Sources are the core's one input vocabulary (files, folders, globs, ``demo:NAME``:
:func:`dltool.data.images.find_images`), plus video files (a folder gives its videos
too, ``dltool_yolo.video.VIDEO_SUFFIXES``) and ``http(s)://`` URLs, kept as strings to be
fetched when their turn comes. ``--demo`` is a fixed list of names from the
core's sample catalogue: photos with objects YOLOv3-tiny's COCO classes cover. No
torch/numpy here.
"""

from __future__ import annotations

from pathlib import Path

from dltool.data.images import (
    IMAGE_SUFFIXES,
    SAMPLES,
    find_images,
    image_source,
    is_image_name,
    sample_path,
)
from dltool.data.urls import is_url
from dltool.errors import DltoolError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")  # dltool_yolo.video's, no av here

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


def media_in(folder: Path, src: str) -> list[Path]:
    """Return the image and video files below ``folder`` (recursively), sorted."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and (is_image_name(p) or p.suffix.lower() in VIDEO_SUFFIXES)
    )
    if not files:
        suffixes = ", ".join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)
        raise DltoolError(
            f"directory {src} holds no image or video files",
            hint=f"files are taken by suffix: {suffixes}",
        )
    return files


def images(sources: list[str] | None, demo: bool) -> list[Path | str]:
    """Return the demo photos (with ``demo``), then every image, video and URL ``sources`` name."""
    if not sources and not demo:
        raise DltoolError(
            "give images, folders, globs or demo:NAME to detect on (videos and URLs too)",
            hint="or try --demo",
        )
    found: list[Path | str] = list(demo_photos()) if demo else []
    for src in sources or []:
        if is_url(src):
            found.append(src)
        elif (path := image_source(src)).is_dir():
            found.extend(media_in(path, src))
        else:
            found.extend(find_images([src]))
    return found
