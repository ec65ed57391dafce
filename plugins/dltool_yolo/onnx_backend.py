"""Run an exported YOLO detector (``.onnx``) with onnxruntime and NumPy: no torch imported.

:class:`OnnxDetector` does what :class:`~dltool_yolo.detect.Detector` does, in NumPy: the
same letterbox pre-process (bilinear resize as ``F.interpolate(align_corners=False)``,
grey 0.5 padding), the same decoding (:func:`dltool_yolo.boxes.decode_head`, with each
head's ``scale_x_y`` and ``new_coords``), scores, per-class greedy NMS
(:func:`dltool_yolo.nms.nms_fast`) and un-letterboxing; the forward pass is an onnxruntime
session. What the graph does not say (each head's kind, anchors, class count and decoding
parameters, class names, input size) comes from the dltool metadata ``dltool yolo export``
writes into the file, else from ``--cfg``/``--names`` (reading a ``--cfg`` builds the
Darknet model, which imports torch). An ONNX file whose outputs are not YOLO head maps
(B, A·(5+C), H, W) is refused in one line.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from dltool import exporting
from dltool.errors import DltoolError
from dltool_yolo.boxes import check_input_size, decode_head, letterbox_params, unletterbox_corners
from dltool_yolo.nms import nms_fast
from dltool_yolo.results import Detection, Timing, read_names

ONNX_HINT = "give an .onnx written by 'dltool yolo export' (or pass the model's --cfg)"


@dataclass
class OnnxHead:
    """What decoding one head map needs: kind (yolo/region), anchors, classes, scale, coords."""

    kind: str
    anchors: list[tuple[float, float]]
    classes: int
    scale_xy: float = 1.0
    new_coords: bool = False


def resize_bilinear(image: np.ndarray, nh: int, nw: int) -> np.ndarray:
    """Return image (h, w, C) resized to (nh, nw) as torch's bilinear ``align_corners=False``."""
    h, w = image.shape[:2]

    def taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0).astype(np.float32)
        lo = np.minimum(src.astype(np.int64), n_in - 1)
        return lo, np.minimum(lo + 1, n_in - 1), (src - lo).astype(np.float32)

    y0, y1, ly = taps(h, nh)
    x0, x1, lx = taps(w, nw)
    rows = image[y0] * (1 - ly)[:, None, None] + image[y1] * ly[:, None, None]  # (nh, w, C)
    return rows[:, x0] * (1 - lx)[None, :, None] + rows[:, x1] * lx[None, :, None]


def letterbox_input(image: np.ndarray, size: int) -> np.ndarray:
    """Return the letterboxed input (1, 3, S, S) float32 in 0..1 of an RGB uint8 image."""
    _r, (nh, nw), (top, left) = letterbox_params(image.shape[:2], size)
    x = resize_bilinear(np.asarray(image, dtype=np.float32) / np.float32(255), nh, nw)
    out = np.full((size, size, 3), 0.5, dtype=np.float32)
    out[top : top + nh, left : left + nw] = x
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None])


def batched_nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> Any:
    """Return indices kept by per-class greedy NMS, best first (boxes offset by class)."""
    if not len(boxes):
        return np.zeros(0, dtype=np.int64)
    offset = classes.astype(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)
    return nms_fast(boxes + offset, scores, iou)


def check_heads(outs: list[np.ndarray], heads: list[OnnxHead], shape: tuple, source: str) -> None:
    """Refuse outputs that are not one (B, A·(5+C), S/k, S/k) map per head."""
    if len(outs) != len(heads):
        raise DltoolError(
            f"{source} has {len(outs)} output(s), the model describes {len(heads)} YOLO heads",
            hint=ONNX_HINT,
        )
    b, _, s, _ = shape
    for i, (out, head) in enumerate(zip(outs, heads, strict=True)):
        need = len(head.anchors) * (5 + head.classes)
        ok = out.ndim == 4 and out.shape[0] == b and out.shape[1] == need
        ok = ok and out.shape[2] == out.shape[3] and out.shape[2] > 0 and s % out.shape[2] == 0
        if not ok:
            raise DltoolError(
                f"{source}: output {i} has shape {tuple(out.shape)}, not a YOLO head map "
                f"({b}, {need}, H, W) with {len(head.anchors)} anchors × (5 + {head.classes})",
                hint=ONNX_HINT,
            )


class OnnxDetector:
    """An exported YOLO detector: onnxruntime forward pass, NumPy before and after it."""

    graph = None  # no fused torch graph: reports say so

    def __init__(self, session: Any, heads: list[OnnxHead], names: list[str], size: int,
                 source: str = "model.onnx") -> None:  # fmt: skip
        classes = heads[0].classes if heads else 0
        if len(names) < classes:
            raise DltoolError(
                f"the names list {len(names)} classes but the model predicts {classes}",
                hint="pass the .names file that belongs to this model",
            )
        check_input_size(size)
        self.session, self.heads, self.names, self.size = session, heads, names, size
        self.source, self.checked = source, False
        self.anchors = [np.asarray(h.anchors, dtype=np.float32) for h in heads]

    def warmup(self, images: int = 1) -> None:
        """Run once on a blank input (onnxruntime plans its memory; the heads are checked)."""
        self.infer(np.full((1, 3, self.size, self.size), 0.5, dtype=np.float32))

    def infer(self, x: np.ndarray) -> list[np.ndarray]:
        """Return the head maps (B, A·(5+C), H, W) of the batch x (B, 3, S, S), checked once."""
        name = self.session.get_inputs()[0].name
        outs = self.session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)})
        if not self.checked:
            check_heads(outs, self.heads, x.shape, self.source)
            self.checked = True
        return outs

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """Return the letterboxed input (1, 3, S, S) in 0..1 for an RGB uint8 image (h, w, 3)."""
        return letterbox_input(image, self.size)

    def _candidates(self, heads: list[np.ndarray], classes: list[int] | None, threshold: float):
        """Return corners (N, 4) in 0..1, scores (N,) and classes (N,) at or over threshold."""
        boxes, scores, cls = [], [], []
        for head, raw, anchors in zip(self.heads, heads, self.anchors, strict=True):
            if head.kind == "region":  # YOLOv2 anchors are in grid cells: × stride = pixels
                anchors = anchors * np.float32(self.size / raw.shape[-1])
            conf, xy, wh, probs = decode_head(
                raw[0].transpose(1, 2, 0), anchors, head.classes, (self.size, self.size),
                head.kind == "region", head.scale_xy, head.new_coords,
            )  # fmt: skip
            corners = np.concatenate([xy - wh / 2, xy + wh / 2], -1).reshape(-1, 4)
            class_scores = (conf * probs).reshape(-1, head.classes)  # (N, C)
            if classes is not None:
                class_scores = class_scores[:, classes]
            idx, c = np.nonzero(class_scores >= threshold)
            boxes.append(corners[idx])
            scores.append(class_scores[idx, c])
            cls.append(c if classes is None else np.asarray(classes, dtype=np.int64)[c])
        return np.concatenate(boxes), np.concatenate(scores), np.concatenate(cls)

    def postprocess(
        self,
        heads: list[np.ndarray],
        image_shape: tuple[int, int],
        score_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        max_boxes: int = 100,
        classes: list[int] | None = None,
    ) -> list[Detection]:
        """Return the detections of one image from its head maps (1, A·(5+C), H, W)."""
        b, s, c = self._candidates(heads, classes, score_threshold)
        keep = batched_nms(b, s, c, iou_threshold)[:max_boxes]
        corners = unletterbox_corners(b[keep] * np.float32(self.size), image_shape, self.size)
        return [
            Detection(int(ci), self.names[int(ci)], float(si), tuple(float(v) for v in bi))
            for bi, si, ci in zip(corners, s[keep].tolist(), c[keep].tolist(), strict=True)
        ]

    def detect(self, image: np.ndarray, timing: Timing | None = None, **kw) -> list[Detection]:
        """Return the detections in an RGB uint8 image (h, w, 3), adding to ``timing``."""
        t0 = time.perf_counter()
        x = self.preprocess(image)
        t1 = time.perf_counter()
        heads = self.infer(x)
        t2 = time.perf_counter()
        dets = self.postprocess(heads, image.shape[:2], **kw)
        t3 = time.perf_counter()
        if timing is not None:
            timing.add(t0, t1, t2, t3)
        return dets


def heads_from_meta(meta: dict[str, Any], path: Path) -> list[OnnxHead]:
    """Return the heads the file's dltool metadata describes (decoding parameters included)."""
    try:
        heads = [
            OnnxHead(str(h["kind"]), [(float(a[0]), float(a[1])) for a in h["anchors"]],
                     int(h["classes"]), float(h.get("scale_xy", 1.0)),
                     bool(h.get("new_coords", False)))
            for h in meta["heads"]
        ]  # fmt: skip
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        heads = []
    if not heads or any(h.kind not in ("yolo", "region") or h.classes < 1 for h in heads):
        raise DltoolError(
            f"{path} does not describe its YOLO heads (anchors, classes)",
            hint="pass the model's Darknet --cfg, or export it with 'dltool yolo export'",
        )
    return heads


def _heads(meta: dict[str, Any], cfg: Path | None, path: Path) -> list[OnnxHead]:
    """Return the heads from --cfg (built by the Darknet loader: imports torch), else the file."""
    if cfg is None:
        return heads_from_meta(meta, path)
    from dltool_yolo.darknet import build

    return [OnnxHead(h.kind, list(h.anchors), h.classes, h.scale_xy, h.new_coords)
            for h in build(cfg).heads]  # fmt: skip


def _names(meta: dict[str, Any], names: Path | None, classes: int, path: Path) -> list[str]:
    """Return the class names: --names, the file's metadata, else COCO for 80 classes."""
    if names is not None:
        return read_names(names)
    listed = meta.get("names")
    if isinstance(listed, list) and all(isinstance(n, str) for n in listed) and listed:
        return listed
    if classes == 80:
        from dltool.artifacts import ensure
        from dltool_yolo.weights import NAMES, YOLOV3_TINY

        return read_names(ensure(YOLOV3_TINY)[NAMES])
    raise DltoolError(f"{path} predicts {classes} classes: pass their names with --names",
                      hint="a .names file lists one class per line")  # fmt: skip


def _input_size(session: Any, meta: dict[str, Any], size: int | None, path: Path) -> int:
    """Return --size, else the graph's fixed side, else the metadata's; refuse a mismatch."""
    shape = session.get_inputs()[0].shape
    if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
        raise DltoolError(f"{path} takes input {shape}, not images (B, 3, S, S)", hint=ONNX_HINT)
    fixed = shape[2] if isinstance(shape[2], int) else None
    if size is not None and fixed is not None and size != fixed:
        raise DltoolError(
            f"{path} was exported for {fixed}×{fixed} inputs, not --size {size}",
            hint=f"leave --size out, or export again with --size {size} (or --dynamic)",
        )
    return int(size or fixed or meta.get("size") or 416)


def _threads(threads: int | None) -> int | None:
    """Return --threads, else torch's width where torch is loaded already (benchmarks)."""
    if threads is None and "torch" in sys.modules:
        return int(sys.modules["torch"].get_num_threads())
    return threads


def load(
    path: Path, cfg: Path | None, names: Path | None, size: int | None, threads: int | None = None
) -> OnnxDetector:
    """Return an OnnxDetector for an exported ``.onnx`` YOLO model."""
    if find_spec("onnxruntime") is None:
        raise DltoolError("running an .onnx detector needs onnxruntime",
                          hint="pip install 'dltool[export]'")  # fmt: skip
    path = Path(path)
    if not path.is_file():
        raise DltoolError(f"ONNX file {path} not found", hint=ONNX_HINT)
    if size is not None:
        check_input_size(size)
    session = exporting.onnx_session(path, threads=_threads(threads))
    meta = exporting.onnx_metadata(session)
    heads = _heads(meta, cfg, path)
    side = _input_size(session, meta, size, path)
    listed = _names(meta, names, heads[0].classes, path)
    return OnnxDetector(session, heads, listed, side, str(path))
