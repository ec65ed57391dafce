"""dltool yolo: Darknet YOLO detectors in PyTorch, the YOLO math of the notes, anchors, mAP."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy(
        "yolo",
        "dltool_yolo.cli:app",
        help="Detect objects with YOLO (real COCO model), NMS/IoU math, anchors, train, mAP.",
    )


@dltool.hookimpl
def register_models(models):
    models.add(
        "yolov3-tiny",
        "dltool_yolo.darknet:yolov3_tiny",
        description="YOLOv3-tiny (Darknet cfg), 80 COCO classes",
        input_size=(3, 416, 416),
    )


@dltool.hookimpl
def register_artifacts(artifacts):
    from dltool_yolo.weights import YOLOV3_TINY

    artifacts.add(YOLOV3_TINY)
