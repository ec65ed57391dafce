"""Detect objects in a photo with the real COCO YOLOv3-tiny detector and draw the boxes.

    python examples/detect_objects.py OUT_DIR [IMAGE] [--size 320]

IMAGE is a file or ``demo:NAME`` (default ``demo:astronaut``); the annotated picture is
written to OUT_DIR/detections.png and one line per object is printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import dltool_yolo
import torch

from dltool.data.images import find_images, read_rgb, write_image


def main() -> None:
    """Detect, print one line per object, save the annotated image."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for detections.png")
    parser.add_argument("image", nargs="?", default="demo:astronaut", help="a file or demo:NAME")
    parser.add_argument("--size", type=int, default=320, help="network input side (32k)")
    args = parser.parse_args()

    path = next(find_images([args.image]))
    image = read_rgb(path)  # (H, W, 3) uint8
    detector = dltool_yolo.default_detector(torch.device("cpu"), size=args.size, quiet=True)
    detections = detector.detect(image)  # list of dltool_yolo.Detection
    for d in detections:
        print(f"{d.name:12s} {d.score:.2f}  box={tuple(round(v) for v in d.box)}")
    args.out.mkdir(parents=True, exist_ok=True)
    saved = write_image(dltool_yolo.draw(image, detections), args.out / "detections.png")
    print(f"{len(detections)} objects, drawn in {saved}")


if __name__ == "__main__":
    main()
