"""``dltool yolo detect``: stream images through the detector and report each one.

One line per image (``image 1/9 path WxH: 2 person, 1 dog, 41 ms``), a table of its
boxes, an annotated copy in the run directory (plus YOLO label files and crops on
request), a final speed line and where results were saved. Under ``--quiet`` each
image gets one line and no table (``path: 1 person, 1 tie``, or ``0 detections``), then
where results were saved. Images that cannot be read (a decompression bomb
included) are skipped with a warning and listed at the end. Outputs are named by the
core's ``output_name``: the input's name, and a second input of the same stem (from
another folder) gets ``name_2``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltool import atomic
from dltool.context import current
from dltool.data.images import ImageReadError, output_name, read_rgb, write_image
from dltool.errors import DltoolError
from dltool_yolo.annotate import draw, label_lines, save_crops
from dltool_yolo.detect import Detection, Detector, Timing


@dataclass
class Options:
    """What the user asked ``detect`` for."""

    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    max_boxes: int = 100
    classes: list[int] | None = None
    save_txt: bool = False
    save_crops: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)


def summary(detections: list[Detection]) -> str:
    """Return "2 person, 1 dog" (most frequent first) or "0 detections"."""
    if not detections:
        return "0 detections"
    counts = Counter(d.name for d in detections)
    return ", ".join(f"{n} {name}" for name, n in counts.most_common())


def class_indices(spec: str | None, names: list[str]) -> list[int] | None:
    """Return the indices of the comma-separated class names ``spec`` (None: all)."""
    if not spec:
        return None
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise DltoolError(
            f"unknown class {', '.join(repr(u) for u in unknown)} for --classes",
            hint="classes of this model: " + ", ".join(names[:12]) + ", …",
        )
    return sorted({names.index(w) for w in wanted})


def run(detector: Detector, paths: list[Path], run_dir: Any, opts: Options) -> dict[str, Any]:
    """Detect on every image of ``paths``; report as it goes; return the totals."""
    timing, taken, images = Timing(), set(), []
    detector.warmup(images=len(paths))
    for i, path in enumerate(paths, start=1):
        try:
            image = read_rgb(path)
        except ImageReadError as exc:
            current().reporter.warn(f"skipped {path}: {exc.reason}")
            opts.skipped.append((str(path), exc.reason))
            continue
        dets = detector.detect(
            image,
            timing,
            score_threshold=opts.score_threshold,
            iou_threshold=opts.iou_threshold,
            max_boxes=opts.max_boxes,
            classes=opts.classes,
        )
        _report_image(path, image, dets, f"{i}/{len(paths)}", timing.per[-1])
        name = output_name(path, taken)
        images.append(_save(image, dets, path, name, run_dir, opts, timing.per[-1]))
    return {"images": images, "timing": timing, "fused": detector.graph is not None}


def _report_image(path: Path, image: Any, dets: list[Detection], count: str, ms: float) -> None:
    """Print one image's line and its table of boxes (--quiet: the line's counts only)."""
    rep = current().reporter
    if rep.json_mode:
        return
    if rep.quiet:
        rep.line(f"{path}: {summary(dets)}")
        return
    h, w = image.shape[:2]
    rep.line(f"image {count} {path} {w}x{h}: {summary(dets)}, {ms:.0f} ms")
    if dets:
        rep.table(f"{path.name}", [d.row() for d in dets])


def _save(
    image: Any, dets: list[Detection], path: Path, name: str, run_dir: Any, opts: Options, ms: float
) -> dict[str, Any]:
    """Write the annotated image ``name`` (and labels/crops) of one image; return its record."""
    h, w = image.shape[:2]
    stem = Path(name).stem
    annotated = write_image(draw(image, dets), run_dir.file(name))
    record: dict[str, Any] = {
        "path": str(path),
        "width": w,
        "height": h,
        "detections": [d.row() | {"class_id": d.cls} for d in dets],
        "annotated": str(annotated),
        "ms": round(ms, 1),
    }
    if opts.save_txt:
        labels = run_dir.file("labels")
        labels.mkdir(exist_ok=True)
        record["labels"] = str(atomic.write_text(labels / f"{stem}.txt", label_lines(dets, w, h)))
    if opts.save_crops:
        record["crops"] = save_crops(image, dets, run_dir.file("crops"), stem)
    return record


def report_end(result: dict[str, Any], run_dir: Any, opts: Options, size: int) -> None:
    """Report the speed line and skips (neither under --quiet), then where the run is."""
    rep = current().reporter
    t: Timing = result["timing"]
    n = max(t.images, 1)
    speed = {"preprocess_ms": t.pre / n, "inference_ms": t.infer / n, "postprocess_ms": t.post / n}
    if rep.json_mode:
        rep.result("images", result["images"])
        rep.result(
            "speed", {k: round(v, 2) for k, v in speed.items()} | {"fused_graph": result["fused"]}
        )
        rep.result("skipped", [{"path": p, "reason": r} for p, r in opts.skipped])
    elif not rep.quiet:
        rep.line(
            f"Speed: {speed['preprocess_ms']:.1f}ms pre-process, {speed['inference_ms']:.1f}ms "
            f"inference, {speed['postprocess_ms']:.1f}ms post-process per image at shape "
            f"(1, 3, {size}, {size})" + (", fused CPU graph" if result["fused"] else "")
        )
        _report_skipped(opts.skipped)
    rep.result("results_dir", str(run_dir.path), label="Results saved to")


def _report_skipped(skipped: list[tuple[str, str]]) -> None:
    """List the files that could not be read, with the reason of each."""
    rep = current().reporter
    if skipped:
        rep.line(f"Skipped {len(skipped)} file(s):")
        for path, why in skipped:
            rep.line(f"  {path}: {why}")
