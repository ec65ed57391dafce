"""The ``dltool yolo`` sub-app: a real COCO detector, the notes' box math, anchors, training, mAP.

Signatures only: each command builds its options and calls its job in ``jobs.py``
(where torch, numpy and PIL are imported).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dltool.commands import (
    amp_option,
    exist_ok_option,
    nproc_option,
    out_option,
    plugin_app,
    positive_float,
    resume_option,
    sync_bn_option,
    workers_option,
)
from dltool.data.images import complete_image

app = plugin_app("YOLO object detection: a real COCO detector, the notes' box math, anchors, mAP.")

MAX_SIZE = 4096  # network input side: 4096² is already ~1 GB of activations per conv layer
MAX_IMAGES = 100_000  # yolo synth --n
MAX_EPOCHS = 100_000
MAX_BATCH = 1024
MAX_STRIDE = 100_000  # yolo detect --vid-stride
MAX_DOWNLOAD_MB = 4096.0  # yolo detect --max-download-mb: the body is held in memory
MAX_TIMEOUT_S = 3600.0  # yolo detect --download-timeout
BUILTIN_CFGS = ("small", "yolov3-tiny", "yolov4", "yolov4-tiny")  # cfg.BUILTIN_CFGS + DARKNET_CFGS
AUGMENT_OPS = ("flip", "hsv", "scale", "translate", "mosaic")  # augment.OPS, without numpy


class Split(str, Enum):
    """Data split to evaluate (--split)."""

    val = "val"
    train = "train"


def _complete_cfg(incomplete: str) -> list[str]:
    """Return the built-in cfg names and .cfg files that start with ``incomplete``."""
    files = sorted(str(p) for p in Path(".").glob(incomplete + "*.cfg"))
    return [c for c in BUILTIN_CFGS if c.startswith(incomplete)] + files


def _weights_option(default_help: str, onnx: bool = False) -> typer.Option:
    """Return --weights: a .weights file, a run folder (or number) of ``yolo train``[, .onnx]."""
    also = "; or a model.onnx of 'yolo export', run with onnxruntime" if onnx else ""
    return typer.Option(
        None,
        "--weights",
        help="Darknet .weights, or a run folder of 'yolo train' (or its number): its "
        f"best.weights with the run's cfg, names and input size{also} "
        f"[default: {default_help}].",
    )


def _size_option(default_help: str) -> typer.Option:
    """Return --size: the network input side, a multiple of 32."""
    return typer.Option(
        None,
        "--size",
        min=32,
        max=MAX_SIZE,
        help=f"Network input size, a multiple of 32 [default: {default_help}].",
    )


def _complete_ops(incomplete: str) -> list[str]:
    """Complete a comma list of augmentations: the last item after the typed ones."""
    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    ops = AUGMENT_OPS + (() if done else ("all", "none"))
    return [prefix + op for op in ops if op.startswith(last) and op not in done.split(",")]


@app.callback()
def main() -> None:
    """YOLO object detection: a real COCO detector, the notes' box math, anchors, mAP."""


@app.command()
def detect(
    sources: list[str] = typer.Argument(
        None,
        help="Images, videos (.mp4 .avi .mov .mkv .webm), folders, globs, URLs or demo:NAME.",
        show_default=False,
        autocompletion=complete_image,
    ),
    demo: bool = typer.Option(False, "--demo", help="Also run on sample photos from packages."),
    weights: Path = _weights_option("YOLOv3-tiny trained on COCO", onnx=True),
    cfg: Path = typer.Option(
        None, "--cfg", help="Darknet .cfg of --weights [default: model.cfg beside --weights]."
    ),
    names: Path = typer.Option(
        None,
        "--names",
        help="Class names, one per line [default: classes.names beside --weights, else COCO].",
    ),
    size: int = _size_option("the cfg's width for --weights, 416 for COCO, 320 for --demo"),
    score_threshold: float = typer.Option(
        0.25, "--score-threshold", min=0.0, max=1.0, help="Keep box_confidence × class_prob ≥ this."
    ),
    iou_threshold: float = typer.Option(
        0.45, "--iou-threshold", min=0.0, max=1.0, help="NMS IoU threshold."
    ),
    max_boxes: int = typer.Option(
        100, "--max-boxes", min=1, max=10_000, help="At most this many boxes per image."
    ),
    classes: list[str] = typer.Option(
        None,
        "--classes",
        help="Only these classes, names or ids: person,dog or 0,16; repeats add [default: all].",
    ),
    save_txt: bool = typer.Option(False, "--save-txt", help="Write YOLO-format label files."),
    save_conf: bool = typer.Option(
        False, "--save-conf", help="With --save-txt: the score as a sixth label column."
    ),
    save_crops: bool = typer.Option(False, "--save-crops", help="Write each object's crop."),
    line_width: int = typer.Option(
        None, "--line-width", min=1, max=100, help="Box outline in pixels [default: by image size]."
    ),
    hide_labels: bool = typer.Option(
        False, "--hide-labels", help="Draw the boxes without their 'name score' labels."
    ),
    vid_stride: int = typer.Option(
        1, "--vid-stride", min=1, max=MAX_STRIDE, help="Videos: detect every N-th frame."
    ),
    max_download_mb: float = typer.Option(
        50.0,
        "--max-download-mb",
        click_type=positive_float(MAX_DOWNLOAD_MB),
        help="URLs: refuse a body over this many MB.",
    ),
    download_timeout: float = typer.Option(
        30.0,
        "--download-timeout",
        click_type=positive_float(MAX_TIMEOUT_S),
        help="URLs: seconds to wait for the server at each step (4x for the whole body).",
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Detect objects in images, videos and URLs with a Darknet YOLO model (YOLOv3-tiny, COCO)."""
    from dltool_yolo import jobs

    jobs.detect(
        {"sources": sources, "demo": demo, "weights": weights, "cfg": cfg, "names": names,
         "size": size, "score_threshold": score_threshold, "iou_threshold": iou_threshold,
         "max_boxes": max_boxes, "classes": ",".join(classes or []) or None, "save_txt": save_txt,
         "save_conf": save_conf, "save_crops": save_crops, "line_width": line_width,
         "hide_labels": hide_labels, "vid_stride": vid_stride, "max_download_mb": max_download_mb,
         "download_timeout": download_timeout, "out": out, "exist_ok": exist_ok}
    )  # fmt: skip


@app.command()
def anchors(
    labels: Path = typer.Argument(..., help="Folder of YOLO label files, or a data.yaml."),
    k: int = typer.Option(5, "--k", min=1, max=64, help="Anchors to choose (table for 1..k)."),
    size: int = typer.Option(
        416, "--size", min=32, max=MAX_SIZE, help="Network input size: anchors in its pixels."
    ),
    seed: int = typer.Option(0, "--init-seed", min=0, help="Seed of the initial centroids."),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Choose anchor boxes by k-means with distance 1 − IoU (as YOLOv2 did)."""
    from dltool_yolo import jobs

    jobs.anchors(labels, k, size, seed, out, exist_ok)


@app.command()
def synth(
    out: Path = typer.Argument(..., help="Folder to write the dataset into."),
    n: int = typer.Option(
        500, "--n", min=2, max=MAX_IMAGES, help="Number of images (one val image at least)."
    ),
    size: int = typer.Option(256, "--size", min=32, max=MAX_SIZE, help="Image side in pixels."),
    val_fraction: float = typer.Option(
        0.2, "--val-fraction", min=0.0, max=1.0, help="Share of images in val."
    ),
    seed: int = typer.Option(0, "--data-seed", min=0, help="Seed of the generator."),
) -> None:
    """Generate a detection dataset (shapes on textured backgrounds) in YOLO format."""
    from dltool_yolo import jobs

    jobs.synth(out, n, size, val_fraction, seed)


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Option(
        None, "--data", help="data.yaml of a YOLO dataset [default: the run's with --resume]."
    ),
    cfg: str = typer.Option(
        "small",
        "--cfg",
        help="Darknet .cfg, or built-in: small | yolov3-tiny.",
        autocompletion=_complete_cfg,
    ),
    weights: Path = typer.Option(
        None,
        "--weights",
        help="Initial Darknet .weights for --cfg, or a run of 'yolo train' [default: random init].",
    ),
    epochs: int = typer.Option(
        30, "--epochs", min=1, max=MAX_EPOCHS, help="Passes over the training images in total."
    ),
    batch_size: int = typer.Option(
        16,
        "--batch-size",
        min=1,
        max=MAX_BATCH,
        help="Images per step (global: split over --nproc workers).",
    ),
    lr: float = typer.Option(
        2e-3, "--lr", min=0.0, max=10.0, help="Adam learning rate (cosine to 5%)."
    ),
    fit_anchors: bool = typer.Option(
        True, "--fit-anchors/--cfg-anchors", help="Built-in cfgs: anchors by k-means on the labels."
    ),
    size: int = _size_option("the cfg's width: 128 for small, 416 for yolov3-tiny"),
    augment: str = typer.Option(
        "flip",
        "--augment",
        help="Training augmentations: a comma list of flip, hsv, scale, translate, mosaic "
        "(ultralytics' gains); or all, or none.",
        autocompletion=_complete_ops,
    ),
    workers: int = workers_option("images and labels"),
    nproc: int = nproc_option(),
    amp: bool = amp_option(),
    sync_bn: bool = sync_bn_option(),
    resume: str = resume_option(),
    config: Path = typer.Option(
        None, "--config", help="YAML file of these options [default: none]."
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Train a YOLO model with the YOLO loss; checkpoints, curves and mAP each epoch."""
    from dltool.commands import resumed_options
    from dltool.config import resolve_config
    from dltool_yolo import jobs

    params = jobs.plain_options(resolve_config(ctx, config, ("out", "exist_ok", "resume")))
    run = None
    if resume is not None:
        run, params = resumed_options(ctx, params, resume, "yolo", "train", config)
    jobs.train(params, run, out, exist_ok)


@app.command()
def evaluate(
    data: Path = typer.Option(..., "--data", help="data.yaml of a YOLO-format dataset."),
    weights: Path = _weights_option("YOLOv3-tiny trained on COCO"),
    cfg: Path = typer.Option(
        None, "--cfg", help="Darknet .cfg of --weights [default: model.cfg beside --weights]."
    ),
    split: Split = typer.Option(Split.val, "--split", help="Which split to score."),
    size: int = _size_option("the cfg's width; 416 for COCO"),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Score a model on a dataset: mAP@0.5, mAP@0.5:0.95, per-class AP, precision–recall PNG."""
    from dltool_yolo import jobs

    jobs.evaluate(
        {"data": data, "weights": weights, "cfg": cfg, "split": split.value, "size": size,
         "out": out, "exist_ok": exist_ok}
    )  # fmt: skip


app.command("eval", hidden=True, help="The old name of 'evaluate'.")(evaluate)


class ExportFormat(str, Enum):
    """Formats a detector exports to: ONNX (onnxruntime) or TorchScript."""

    onnx = "onnx"
    torchscript = "torchscript"


@app.command()
def export(
    weights: Path = _weights_option("YOLOv3-tiny trained on COCO"),
    cfg: Path = typer.Option(
        None, "--cfg", help="Darknet .cfg of --weights [default: model.cfg beside --weights]."
    ),
    names: Path = typer.Option(
        None,
        "--names",
        help="Class names, one per line [default: classes.names beside --weights, else COCO].",
    ),
    size: int = _size_option("the cfg's width for --weights, 416 for COCO"),
    format: ExportFormat = typer.Option(
        ..., "--format", help="onnx (opset 18, run by onnxruntime) or torchscript."
    ),
    dynamic: bool = typer.Option(
        False, "--dynamic", help="Any batch and any input side (a multiple of 32)."
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Export a detector to ONNX or TorchScript, checked against torch, with model.json beside."""
    from dltool_yolo import jobs

    jobs.export(
        {"weights": weights, "cfg": cfg, "names": names, "size": size, "format": format.value,
         "dynamic": dynamic, "out": out, "exist_ok": exist_ok}
    )  # fmt: skip
