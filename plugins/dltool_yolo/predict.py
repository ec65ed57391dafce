"""``dltool yolo detect``: stream images through the detector and report each one.

One line per image (``image 1/9 path WxH: 2 person, 1 dog, 41 ms``), a table of its
boxes, an annotated copy in the run directory (plus YOLO label files and crops on
request), a final speed line and where results were saved. Under ``--quiet`` each
image gets one line and no table (``path: 1 person, 1 tie``, or ``0 detections``), then
where results were saved. Images that cannot be read (a decompression bomb
included), videos that cannot be decoded and URLs that fail are skipped and listed once at
the end (under ``--quiet``, which prints no list, one warning each as they happen).
Outputs are named by the core's ``output_name``: the input's name, and a second input of
the same stem (from another folder) gets ``name_2``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dltool import atomic
from dltool.context import current
from dltool.data.images import ImageReadError, output_name, read_rgb, write_image
from dltool.data.urls import UrlError, is_url, read_url_rgb, url_name
from dltool.errors import DltoolError
from dltool_yolo.annotate import draw, label_lines, safe_component, save_crops
from dltool_yolo.results import FUSE_FROM, Detection, Timing
from dltool_yolo.video import is_video

if TYPE_CHECKING:  # the torch detector or onnx_backend.OnnxDetector: no torch import here
    from dltool_yolo.detect import Detector


@dataclass
class Options:
    """What the user asked ``detect`` for."""

    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    max_boxes: int = 100
    classes: list[int] | None = None
    save_txt: bool = False
    save_crops: bool = False
    save_conf: bool = False
    line_width: int | None = None
    hide_labels: bool = False
    vid_stride: int = 1
    max_download_mb: float = 50.0
    download_timeout: float = 30.0
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class State:
    """What a run has done so far: timings, output names given out, records."""

    timing: Timing = field(default_factory=Timing)
    taken: set[str] = field(default_factory=set)
    images: list[dict[str, Any]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)


def summary(detections: list[Detection]) -> str:
    """Return "2 person, 1 dog" (most frequent first) or "0 detections"."""
    return count_summary(Counter(d.name for d in detections))


def count_summary(counts: Counter) -> str:
    """Return "2 person, 1 dog" from class counts (most frequent first) or "0 detections"."""
    if not counts:
        return "0 detections"
    return ", ".join(f"{n} {name}" for name, n in counts.most_common())


def class_indices(spec: str | None, names: list[str]) -> list[int] | None:
    """Return the indices of the comma-separated class names or ids ``spec`` (None: all)."""
    if not spec:
        return None
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    found, unknown = set(), []
    for w in wanted:
        if w in names:
            found.add(names.index(w))
        elif w.isdigit() and int(w) < len(names):
            found.add(int(w))
        else:
            unknown.append(w)
    if unknown:
        raise DltoolError(
            f"unknown class {', '.join(repr(u) for u in unknown)} for --classes",
            hint=f"ids 0-{len(names) - 1} or names of this model: " + ", ".join(names[:12]) + ", …",
        )
    return sorted(found)


def run(
    detector: Detector, sources: list[Path | str], run_dir: Any, opts: Options
) -> dict[str, Any]:
    """Detect on every image, video and URL of ``sources``; report as it goes; return totals."""
    state = State()
    videos = any(is_video(s) for s in sources)
    detector.warmup(images=FUSE_FROM if videos else len(sources))
    for i, src in enumerate(sources, start=1):
        count = f"{i}/{len(sources)}"
        if is_video(src):
            _video(detector, src, count, state, run_dir, opts)
        else:
            _image(detector, src, count, state, run_dir, opts)
    return {"images": state.images, "videos": state.videos, "timing": state.timing,
            "fused": detector.graph is not None}  # fmt: skip


def _skip(src: Path | str, reason: str, opts: Options) -> None:
    """Keep ``src`` for the list of skips at the end (under --quiet, which has none: warn now)."""
    rep = current().reporter
    if rep.quiet and not rep.json_mode:
        rep.warn(f"skipped {src}: {reason}")
    opts.skipped.append((str(src), reason))


def _read(src: Path | str, opts: Options) -> Any:
    """Return the RGB pixels of an image file or URL (fetched into memory)."""
    if is_url(src):
        max_bytes = int(opts.max_download_mb * (1 << 20))
        return read_url_rgb(src, opts.download_timeout, max_bytes)
    return read_rgb(src)


def _detect(detector: Detector, image: Any, timing: Timing, opts: Options) -> list[Detection]:
    """Return the detections in one RGB image under the user's thresholds and classes."""
    return detector.detect(
        image,
        timing,
        score_threshold=opts.score_threshold,
        iou_threshold=opts.iou_threshold,
        max_boxes=opts.max_boxes,
        classes=opts.classes,
    )


def _image(
    detector: Detector, src: Path | str, count: str, state: State, run_dir: Any, opts: Options
) -> None:
    """Detect on one image file or URL, report it and write its outputs (or skip it)."""
    try:
        image = _read(src, opts)
    except (ImageReadError, UrlError) as exc:
        _skip(src, exc.reason, opts)
        return
    dets = _detect(detector, image, state.timing, opts)
    ms = state.timing.per[-1]
    _report_image(src, image, dets, count, ms)
    name = output_name(safe_component(url_name(src), "image") if is_url(src) else src, state.taken)
    state.images.append(_save(image, dets, src, name, run_dir, opts, ms))


def _video(
    detector: Detector, path: Path, count: str, state: State, run_dir: Any, opts: Options
) -> None:
    """Detect on every --vid-stride-th frame of a video; write the annotated video (or skip)."""
    from dltool_yolo import video

    out = run_dir.file(Path(output_name(path, state.taken)).stem + ".mp4")
    record: dict[str, Any] = {"path": str(path), "detected_frames": 0, "ms": 0.0}
    record |= {"counts": Counter(), "frames": []}
    try:
        with video.opened(path) as (info, decoded):
            record |= {"fps": float(info.fps), "total_frames": info.frames}
            with video.VideoWriter(out, info.fps / opts.vid_stride) as writer:
                error = _frames(detector, path, decoded, (count, info, writer), record, state, opts)
    except video.VideoReadError as exc:
        _skip(path, exc.reason, opts)
        return
    if not record["detected_frames"]:
        _skip(path, error or "no frames", opts)
        return
    if error:
        _skip(path, error, opts)
    _video_end(path, record, out, writer.frames, opts)
    state.videos.append(record)


def _frames(
    detector: Detector,
    path: Path,
    decoded: Any,
    where: tuple[str, Any, Any],
    record: dict[str, Any],
    state: State,
    opts: Options,
) -> str | None:
    """Detect on the frames of one video, writing each annotated; return a decode error."""
    from dltool_yolo.video import VideoReadError

    count, info, writer = where
    stem = Path(writer.path).stem
    try:
        for n, rgb in decoded:
            if (n - 1) % opts.vid_stride:
                continue
            dets = _detect(detector, rgb, state.timing, opts)
            ms = state.timing.per[-1]
            record["ms"] += ms
            record["detected_frames"] += 1
            record["counts"].update(d.name for d in dets)
            _report_frame(path, dets, count, f"{n}/{info.frames or '?'}", ms)
            writer.write(np.asarray(draw(rgb, dets, opts.line_width, opts.hide_labels)))
            frame = _frame_files(rgb, dets, f"{stem}_{n}", writer.path.parent, opts)
            if current().reporter.json_mode:  # per-frame records only for --json: memory flat
                record["frames"].append({"frame": n, "ms": round(ms, 1)} | frame)
    except VideoReadError as exc:
        return exc.reason
    return None


def _report_image(
    path: Path | str, image: Any, dets: list[Detection], count: str, ms: float
) -> None:
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
        rep.table(url_name(path) if is_url(path) else Path(path).name, [d.row() for d in dets])


def _report_frame(path: Path, dets: list[Detection], count: str, frame: str, ms: float) -> None:
    """Print one frame's line: ``video 1/1 (frame 12/240) clip.mp4: 2 person, 31 ms``."""
    rep = current().reporter
    if not rep.quiet:
        rep.line(f"video {count} (frame {frame}) {path}: {summary(dets)}, {ms:.0f} ms")


def _video_end(path: Path, record: dict[str, Any], out: Path, written: int, opts: Options) -> None:
    """Finish a video's record and print its summary line (under --quiet too)."""
    n = record["detected_frames"]
    counts: Counter = record.pop("counts")
    record |= {"counts": dict(counts.most_common()), "ms": round(record["ms"] / n, 1)}
    record |= {"vid_stride": opts.vid_stride, "annotated": str(out) if written else None}
    every = f"1 frame in {opts.vid_stride}" if opts.vid_stride > 1 else "every frame"
    total = record["total_frames"] or "?"
    fps = record["fps"] / opts.vid_stride
    current().reporter.line(
        f"{path}: {n} of {total} frames detected ({every}), {count_summary(counts)} in all, "
        f"{record['ms']:.1f} ms per frame; annotated video {out} at {fps:g} fps"
    )


def _frame_files(
    rgb: Any, dets: list[Detection], stem: str, folder: Path, opts: Options
) -> dict[str, Any]:
    """Write one frame's label file and crops on request; return its JSON record."""
    h, w = rgb.shape[:2]
    record: dict[str, Any] = {"detections": [d.row() | {"class_id": d.cls} for d in dets]}
    if opts.save_txt:
        record["labels"] = str(_write_labels(folder, stem, dets, w, h, opts))
    if opts.save_crops:
        record["crops"] = save_crops(rgb, dets, folder / "crops", stem)
    return record


def _write_labels(
    folder: Path, stem: str, dets: list[Detection], w: int, h: int, opts: Options
) -> Path:
    """Write ``labels/<stem>.txt`` (YOLO format, the score sixth with --save-conf)."""
    labels = folder / "labels"
    labels.mkdir(exist_ok=True)
    return atomic.write_text(labels / f"{stem}.txt", label_lines(dets, w, h, opts.save_conf))


def _save(
    image: Any,
    dets: list[Detection],
    path: Path | str,
    name: str,
    run_dir: Any,
    opts: Options,
    ms: float,
) -> dict[str, Any]:
    """Write the annotated image ``name`` (and labels/crops) of one image; return its record."""
    h, w = image.shape[:2]
    annotated = write_image(
        draw(image, dets, opts.line_width, opts.hide_labels), run_dir.file(name)
    )
    record: dict[str, Any] = {"path": str(path), "width": w, "height": h}
    record |= _frame_files(image, dets, Path(name).stem, run_dir.path, opts)
    return record | {"annotated": str(annotated), "ms": round(ms, 1)}


def report_end(result: dict[str, Any], run_dir: Any, opts: Options, size: int) -> None:
    """Report the speed line and skips (neither under --quiet), then where the run is."""
    rep = current().reporter
    t: Timing = result["timing"]
    n = max(t.images, 1)
    speed = {"preprocess_ms": t.pre / n, "inference_ms": t.infer / n, "postprocess_ms": t.post / n}
    if rep.json_mode:
        rep.result("images", result["images"])
        rep.result("videos", result["videos"])
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
    """List the files and URLs that could not be read, with the reason of each."""
    rep = current().reporter
    if skipped:
        rep.line(f"Skipped {len(skipped)} file(s):")
        for path, why in skipped:
            rep.line(f"  {path}: {why}")
