"""The ``dltool yolo`` sub-app. Heavy imports (torch, numpy, PIL) happen inside commands."""

from __future__ import annotations

from pathlib import Path

import typer

from dltool.context import current
from dltool.errors import DltoolError

app = typer.Typer(
    help="YOLO object detection: a real COCO detector, the notes' box math, anchors, mAP.",
    no_args_is_help=True,
)

DEMO_SIZE = 320


@app.callback()
def main() -> None:
    """YOLO object detection: a real COCO detector, the notes' box math, anchors, mAP."""


def check_unit(name: str, value: float) -> float:
    """Return ``value`` if it lies in [0, 1], else raise naming the option."""
    if not 0.0 <= value <= 1.0:
        raise DltoolError(f"{name} must be between 0 and 1, got {value}")
    return value


def _detector(cfg: Path | None, weights: Path | None, names: Path | None, size: int):
    """Return the user's Darknet model, or the default YOLOv3-tiny COCO artifact."""
    from dltool_yolo.detect import Detector, default_detector

    s = current()
    if cfg is None and weights is None:
        if names is not None:
            raise DltoolError("--names needs --cfg and --weights")
        return default_detector(s.device, size)
    if cfg is None or weights is None:
        raise DltoolError("--cfg and --weights go together", hint="give both, or neither")
    from dltool_yolo.darknet import build, load_weights
    from dltool_yolo.detect import read_names

    model = build(cfg)
    load_weights(model, weights)
    if names is None:
        if model.classes != 80:
            raise DltoolError(
                f"{cfg} predicts {model.classes} classes: pass their names with --names"
            )
        from dltool_yolo.detect import default_files
        from dltool_yolo.weights import NAMES

        names = default_files()[NAMES]
    return Detector(model, read_names(names), s.device, size)


@app.command()
def detect(
    sources: list[str] = typer.Argument(None, help="Images, folders or globs.", show_default=False),
    demo: bool = typer.Option(False, "--demo", help="Run on sample photos shipped by packages."),
    weights: Path = typer.Option(None, "--weights", help="Darknet .weights file."),
    cfg: Path = typer.Option(None, "--cfg", help="Darknet .cfg matching --weights."),
    names: Path = typer.Option(None, "--names", help="Class names, one per line (default: COCO)."),
    size: int = typer.Option(
        None, "--size", help="Network input size, multiple of 32. [default: 416; 320 for --demo]"
    ),
    score_threshold: float = typer.Option(
        0.25, "--score-threshold", help="Keep boxes with box_confidence × class_prob ≥ this."
    ),
    iou_threshold: float = typer.Option(0.45, "--iou-threshold", help="NMS IoU threshold."),
    max_boxes: int = typer.Option(100, "--max-boxes", help="At most this many boxes per image."),
    classes: str = typer.Option(None, "--classes", help="Only these classes, e.g. person,dog."),
    save_txt: bool = typer.Option(False, "--save-txt", help="Write YOLO-format label files."),
    save_crops: bool = typer.Option(False, "--save-crops", help="Write each object's crop."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/yolo/detect/N)."),
) -> None:
    """Detect objects in images with a Darknet YOLO model (default: YOLOv3-tiny, COCO)."""
    from dltool_yolo import predict
    from dltool_yolo import sources as src

    check_unit("--score-threshold", score_threshold)
    check_unit("--iou-threshold", iou_threshold)
    if max_boxes < 1:
        raise DltoolError(f"--max-boxes must be at least 1, got {max_boxes}")
    if not sources and not demo:
        raise DltoolError("give images, folders or globs to detect on", hint="or try --demo")
    paths = (src.demo_photos() if demo else []) + src.count(list(sources or []))
    if size is None:
        size = DEMO_SIZE if demo and not sources else 416
    detector = _detector(cfg, weights, names, size)
    opts = predict.Options(
        score_threshold,
        iou_threshold,
        max_boxes,
        predict.class_indices(classes, detector.names),
        save_txt,
        save_crops,
    )
    s = current()
    run_dir = s.run_dir("yolo", "detect", out)
    run_dir.write_config(
        {"sources": [str(p) for p in paths], "weights": str(weights or "yolov3-tiny"),
         "cfg": str(cfg or "yolov3-tiny"), "size": size, "score_threshold": score_threshold,
         "iou_threshold": iou_threshold, "max_boxes": max_boxes, "classes": classes}
    )  # fmt: skip
    result = predict.run(detector, paths, run_dir, opts)
    predict.report_end(result, run_dir, opts, size)
    if not result["images"]:
        raise DltoolError(f"none of the {len(paths)} file(s) could be read as an image")


@app.command()
def anchors(
    labels: Path = typer.Argument(..., help="Folder of YOLO label files, or a data.yaml."),
    k: int = typer.Option(5, "--k", help="Anchors to choose (table for 1..k)."),
    size: int = typer.Option(416, "--size", help="Network input size: anchors in its pixels."),
    seed: int = typer.Option(0, "--init-seed", help="Seed of the initial centroids."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/yolo/anchors/N)."),
) -> None:
    """Choose anchor boxes by k-means with distance 1 − IoU (as YOLOv2 did)."""
    from dltool.report import figure
    from dltool_yolo.anchors import kmeans
    from dltool_yolo.boxes import check_input_size
    from dltool_yolo.labels import read_wh

    check_input_size(size)
    if k < 1:
        raise DltoolError(f"--k must be at least 1, got {k}")
    wh = read_wh(labels)
    if k > len(wh):
        raise DltoolError(f"--k {k} is more than the {len(wh)} boxes in {labels}")
    rep = current().reporter
    rows, best = [], None
    with rep.progress(k, "k-means") as bar:
        for j in range(1, k + 1):
            centroids, mean_iou, _ = kmeans(wh, j, seed)
            rows.append({"k": j, "mean_iou": round(mean_iou, 4)})
            best = centroids
            bar.advance(mean_iou=mean_iou)
    run = current().run_dir("yolo", "anchors", out)
    run.write_config({"labels": str(labels), "k": k, "size": size, "init_seed": seed})
    with figure(run.file("anchors.png"), 1, 1, figsize=(5, 3.5)) as (_fig, ax):
        ax.plot([r["k"] for r in rows], [r["mean_iou"] for r in rows], "o-")
        ax.set(xlabel="k (number of anchors)", ylabel="mean IoU", title=f"{len(wh)} boxes")
        ax.grid(alpha=0.3)
    pixels = [[round(float(w) * size, 1), round(float(h) * size, 1)] for w, h in best]
    run.write_json("anchors.json", {"k": k, "size": size, "anchors": pixels, "table": rows})
    rep.table(f"Mean IoU of the best anchor per box ({len(wh)} boxes)", rows, key="mean_iou")
    rep.table(f"Anchors for k={k} at {size}×{size}", [{"w": w, "h": h} for w, h in pixels])
    cfg_line = ", ".join(f"{round(w)},{round(h)}" for w, h in pixels)
    rep.result("cfg_anchors", cfg_line, label="anchors line for the cfg")
    rep.result("results_dir", str(run.path), label="Results saved to")


@app.command()
def synth(
    out: Path = typer.Argument(..., help="Folder to write the dataset into."),
    n: int = typer.Option(500, "--n", help="Number of images."),
    size: int = typer.Option(256, "--size", help="Image side in pixels."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="Share of images in val."),
    seed: int = typer.Option(0, "--data-seed", help="Seed of the generator."),
) -> None:
    """Generate a detection dataset (shapes on textured backgrounds) in YOLO format."""
    from dltool_yolo.synth import CLASSES, write_dataset

    if n < 2:
        raise DltoolError(f"--n must be at least 2 (one train and one val image), got {n}")
    if size < 32:
        raise DltoolError(f"--size must be at least 32, got {size}")
    check_unit("--val-fraction", val_fraction)
    if (out / "data.yaml").exists():
        raise DltoolError(f"{out} already holds a dataset", hint="choose another folder")
    counts = {"train": [0, 0], "val": [0, 0]}
    with current().reporter.progress(n, "synth") as bar:
        for split, boxes in write_dataset(out, n, size, val_fraction, seed):
            counts[split][0] += 1
            counts[split][1] += boxes
            bar.advance()
    rows = [{"split": s, "images": c[0], "objects": c[1]} for s, c in counts.items()]
    rep = current().reporter
    rep.table(f"Synthetic dataset ({', '.join(CLASSES)})", rows, key="splits")
    rep.result("data", str(out / "data.yaml"), label="Dataset written, data.yaml at")


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="data.yaml of a YOLO-format dataset."),
    cfg: str = typer.Option(
        "small", "--cfg", help="Darknet .cfg, or built-in: small | yolov3-tiny."
    ),
    weights: Path = typer.Option(None, "--weights", help="Initial Darknet .weights for --cfg."),
    epochs: int = typer.Option(30, "--epochs", help="Passes over the training images."),
    batch_size: int = typer.Option(16, "--batch-size", help="Images per step."),
    lr: float = typer.Option(2e-3, "--lr", help="Adam learning rate (cosine decay to 5%)."),
    fit_anchors: bool = typer.Option(
        True, "--fit-anchors/--cfg-anchors", help="Built-in cfgs: anchors by k-means on the labels."
    ),
    resume: Path = typer.Option(
        None, "--resume", help="Run directory to continue, with its own options: give --epochs."
    ),
    config: Path = typer.Option(None, "--config", help="YAML file of these options."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/yolo/train/N)."),
) -> None:
    """Train a YOLO model with the YOLO loss; checkpoints, curves and mAP each epoch."""
    from dltool.config import load_config_file, resolve_config
    from dltool_yolo.jobs import fit

    params = resolve_config(ctx, config, exclude=("out", "resume"))
    given = {
        n for n in params if ctx.get_parameter_source(n).name not in ("DEFAULT", "DEFAULT_MAP")
    }
    if config is not None:
        given |= set(load_config_file(config))
    fit(params, resume=resume, out=out, given=frozenset(given))


@app.command("eval")
def evaluate_cmd(
    data: Path = typer.Option(..., "--data", help="data.yaml of a YOLO-format dataset."),
    weights: Path = typer.Option(
        None, "--weights", help="Darknet .weights (default: YOLOv3-tiny COCO)."
    ),
    cfg: Path = typer.Option(None, "--cfg", help="Darknet .cfg (default: model.cfg by --weights)."),
    split: str = typer.Option("val", "--split", help="Which split to score: val or train."),
    size: int = typer.Option(None, "--size", help="Input size (default: the cfg's)."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/yolo/eval/N)."),
) -> None:
    """Score a model on a dataset: mAP@0.5, mAP@0.5:0.95, per-class AP, precision–recall PNG."""
    from dltool_yolo.jobs import evaluate_command

    evaluate_command(data, weights, cfg, split, size, out)
