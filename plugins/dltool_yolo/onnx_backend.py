"""Run an exported YOLO detector (``.onnx``) with onnxruntime, through the torch path's steps.

:class:`OnnxDetector` is a :class:`~dltool_yolo.detect.Detector` whose network is an
onnxruntime session: the same letterbox pre-process, the same decoding, scores, NMS and
un-letterboxing; only the forward pass changes. What the graph does not say (anchors,
class count and kind of each head, class names, input size) comes from the dltool
metadata ``dltool yolo export`` writes into the file, else from ``--cfg``/``--names``.
An ONNX file whose outputs are not YOLO head maps (B, A·(5+C), H, W) is refused in one line.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dltool import exporting
from dltool.errors import DltoolError
from dltool_yolo.boxes import check_input_size
from dltool_yolo.darknet import Head
from dltool_yolo.detect import Detector, read_names

ONNX_HINT = "give an .onnx written by 'dltool yolo export' (or pass the model's --cfg)"


class OnnxNetwork:
    """An onnxruntime session that returns the head maps as torch tensors."""

    def __init__(self, session: Any, heads: list[Head], source: str) -> None:
        self.session, self.heads, self.source = session, heads, source
        self.checked = False

    @property
    def classes(self) -> int:
        """Return the number of classes the heads predict."""
        return self.heads[0].classes

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the head maps (B, A·(5+C), H, W) for x (B, 3, S, S), checked once."""
        outs = exporting.run_onnx(self.session, x.contiguous())
        if not self.checked:
            check_heads(outs, self.heads, x.shape, self.source)
            self.checked = True
        return [torch.from_numpy(np.ascontiguousarray(o)) for o in outs]


def check_heads(outs: list[np.ndarray], heads: list[Head], shape: tuple, source: str) -> None:
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


class OnnxDetector(Detector):
    """A Detector whose forward pass runs in onnxruntime (CPU tensors around it)."""

    def __init__(self, network: OnnxNetwork, names: list[str], size: int) -> None:
        if len(names) < network.classes:
            raise DltoolError(
                f"the names list {len(names)} classes but the model predicts {network.classes}",
                hint="pass the .names file that belongs to this model",
            )
        check_input_size(size)
        self.model, self.names, self.size = network, names, size
        self.device = torch.device("cpu")
        self.anchors = [torch.tensor(h.anchors, dtype=torch.float32) for h in network.heads]
        self.graph = None

    def warmup(self, images: int = 1) -> None:
        """Run once on a blank input (onnxruntime plans its memory; the heads are checked)."""
        self.infer(torch.full((1, 3, self.size, self.size), 0.5))

    @torch.inference_mode()
    def infer(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the head maps of the batch x (B, 3, S, S) from onnxruntime."""
        return self.model(x.contiguous())


def _heads(meta: dict[str, Any], cfg: Path | None, path: Path) -> list[Head]:
    """Return the heads from --cfg, else from the file's dltool metadata."""
    if cfg is not None:
        from dltool_yolo.darknet import build

        return build(cfg).heads
    try:
        return [Head(str(h["kind"]), [(float(a[0]), float(a[1])) for a in h["anchors"]],
                     int(h["classes"]), i) for i, h in enumerate(meta["heads"])]  # fmt: skip
    except (KeyError, TypeError, ValueError, IndexError):
        raise DltoolError(
            f"{path} does not describe its YOLO heads (anchors, classes)",
            hint="pass the model's Darknet --cfg, or export it with 'dltool yolo export'",
        ) from None


def _names(meta: dict[str, Any], names: Path | None, classes: int, path: Path) -> list[str]:
    """Return the class names: --names, the file's metadata, else COCO for 80 classes."""
    if names is not None:
        return read_names(names)
    listed = meta.get("names")
    if isinstance(listed, list) and all(isinstance(n, str) for n in listed) and listed:
        return listed
    if classes == 80:
        from dltool_yolo.detect import default_files
        from dltool_yolo.weights import NAMES

        return read_names(default_files()[NAMES])
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


def load(path: Path, cfg: Path | None, names: Path | None, size: int | None) -> OnnxDetector:
    """Return an OnnxDetector for an exported ``.onnx`` YOLO model."""
    if find_spec("onnxruntime") is None:
        raise DltoolError("running an .onnx detector needs onnxruntime",
                          hint="pip install 'dltool[export]'")  # fmt: skip
    path = Path(path)
    if not path.is_file():
        raise DltoolError(f"ONNX file {path} not found", hint=ONNX_HINT)
    if size is not None:
        check_input_size(size)
    session = exporting.onnx_session(path, threads=torch.get_num_threads())  # as --threads
    meta = exporting.onnx_metadata(session)
    heads = _heads(meta, cfg, path)
    network = OnnxNetwork(session, heads, str(path))
    side = _input_size(session, meta, size, path)
    return OnnxDetector(network, _names(meta, names, network.classes, path), side)
