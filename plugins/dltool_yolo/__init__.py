"""dltool yolo: Darknet YOLO detectors in PyTorch, the YOLO math of the notes, anchors, mAP."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "Detector": "dltool_yolo.detect:Detector",
    "Detection": "dltool_yolo.detect:Detection",
    "default_detector": "dltool_yolo.detect:default_detector",
    "Darknet": "dltool_yolo.darknet:Darknet",
    "yolov3_tiny": "dltool_yolo.darknet:yolov3_tiny",
    "draw": "dltool_yolo.annotate:draw",
    "iou": "dltool_yolo.boxes:iou",
    "non_max_suppression": "dltool_yolo.nms:non_max_suppression",
    "yolo_eval": "dltool_yolo.nms:yolo_eval",
    "course": "dltool_yolo.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool yolo``."""
    commands.add_lazy(
        "yolo",
        "dltool_yolo.cli:app",
        help="Detect objects with YOLO (real COCO model), NMS/IoU math, anchors, train, mAP.",
    )


@dltool.hookimpl
def register_models(models):
    """Register yolo's named model builders."""
    models.add(
        "yolov3-tiny",
        "dltool_yolo.darknet:yolov3_tiny",
        description="YOLOv3-tiny (Darknet cfg), 80 COCO classes",
        input_size=(3, 416, 416),
    )
    models.add(
        "yolov4-tiny",
        "dltool_yolo.darknet:yolov4_tiny",
        description="YOLOv4-tiny (Darknet cfg), 80 classes; bring your own .weights",
        input_size=(3, 416, 416),
    )
    models.add(
        "yolov4",
        "dltool_yolo.darknet:yolov4",
        description="YOLOv4 (Darknet cfg), 80 classes; bring your own .weights",
        input_size=(3, 608, 608),
    )


@dltool.hookimpl
def register_artifacts(artifacts):
    """Declare yolo's checksummed artifact files."""
    from dltool_yolo.weights import YOLOV3_TINY

    artifacts.add(YOLOV3_TINY)
