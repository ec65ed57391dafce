"""Export a Darknet YOLO detector to ONNX or TorchScript: the fused network, head maps out.

The exported graph is the inference network of :class:`~dltool_yolo.detect.Detector`
(batch norm folded): input ``images`` (B, 3, S, S), RGB in 0..1, letterboxed with grey
0.5; outputs the raw head maps (B, A·(5+C), S/stride, S/stride), one per ``[yolo]`` or
``[region]`` layer. Decoding, score = box_confidence × class_probability, NMS and the
mapping back through the letterbox stay outside the graph, as in the torch path; the
metadata (in the file and in the JSON beside it) carries what they need: per head its
kind, anchors, class count, ``scale_xy`` and ``new_coords`` (YOLOv4), class names, input size.

``--dynamic`` makes batch and the input side (any multiple of 32) free; the check runs
the exported model at two batch sizes and two sides against torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dltool import exporting
from dltool_yolo.detect import Detector

MAX_DYNAMIC_BATCH = 1024
MAX_DYNAMIC_STEPS = 128  # input side up to 32·128 = 4096 (cli.MAX_SIZE)
CHECK_SEED = 0


def head_meta(detector: Detector) -> list[dict[str, Any]]:
    """Return each head's decoding: kind, anchors (input pixels; region: grid cells), class
    count, ``scale_xy`` (YOLOv4's scale_x_y) and ``new_coords``; also the NMS options read."""
    return [{"kind": h.kind, "anchors": [list(a) for a in h.anchors], "classes": h.classes,
             "scale_xy": float(h.scale_xy), "new_coords": bool(h.new_coords),
             "nms_kind": h.nms_kind, "beta_nms": float(h.beta_nms)}
            for h in detector.model.heads]  # fmt: skip


def metadata(detector: Detector, weights: Path | None, source: str) -> dict[str, Any]:
    """Return what a runtime needs beside the graph, and where the weights came from."""
    s = detector.size
    return {
        "task": "detect",
        "model": source,
        "input": {"name": "images", "shape": [1, 3, s, s], "layout": "NCHW",
                  "dtype": "float32", "colour": "RGB", "range": [0.0, 1.0],
                  "letterbox": {"fill": 0.5, "resize": "bilinear", "keep_aspect": True}},
        "size": s,
        "normalisation": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "names": list(detector.names),
        "heads": head_meta(detector),
        "weights": str(weights) if weights else None,
        "weights_sha256": exporting.file_sha256(weights) if weights else None,
        "versions": exporting.versions(),
    }  # fmt: skip


def dynamic_shapes() -> tuple[dict[int, Any]]:
    """Return torch.export's dynamic shapes: any batch, sides any multiple of 32."""
    dim = torch.export.Dim
    h = dim("h32", min=1, max=MAX_DYNAMIC_STEPS)
    w = dim("w32", min=1, max=MAX_DYNAMIC_STEPS)
    return ({0: dim("batch", min=1, max=MAX_DYNAMIC_BATCH), 2: 32 * h, 3: 32 * w},)


def check_inputs(size: int, dynamic: bool) -> list[torch.Tensor]:
    """Return seeded 0..1 inputs: (1, 3, S, S), and with dynamic also (3, 3, S', S')."""
    g = torch.Generator().manual_seed(CHECK_SEED)
    inputs = [torch.rand(1, 3, size, size, generator=g)]
    if dynamic:
        other = size - 32 if size > 32 else size + 32
        inputs.append(torch.rand(3, 3, other, other, generator=g))
    return inputs


def export_detector(
    detector: Detector, fmt: str, path: Path, dynamic: bool, meta: dict[str, Any]
) -> dict[str, Any]:
    """Write the detector's network as ``fmt`` to ``path``; return the export's facts."""
    model = detector.model.to("cpu", memory_format=torch.contiguous_format).eval()
    checks = check_inputs(detector.size, dynamic)
    example = checks[0]
    if dynamic:  # torch.export fixes a batch of 1 as a constant: trace at 2
        example = torch.cat([example, example.flip(-1)])
    shapes = dynamic_shapes() if dynamic and fmt == "onnx" else None
    return exporting.export_model(model, example, fmt, path, meta, shapes, checks)
