"""The detector: image in, boxes out, with a Darknet YOLO model in PyTorch.

Pre-process: RGB in 0..1, letterbox to ``size×size`` (aspect kept, grey 0.5 padding,
bilinear resize). Inference: the Darknet module with batch norm folded. Post-process:
decode each head (``σ(t_xy)+c``, ``p·e^{t_wh}``), score = ``box_confidence ×
class_probability`` per class, keep scores ≥ threshold, per-class greedy NMS, then map
boxes back through the letterbox to the original pixels.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dltool.data.images import read_rgb as load_image  # noqa: F401  (detect's image reader)
from dltool.errors import DltoolError
from dltool_yolo import boxes_torch as bt
from dltool_yolo.boxes import check_input_size, letterbox_params, unletterbox_corners
from dltool_yolo.darknet import Darknet, build, load_weights
from dltool_yolo.graph import fused_graph
from dltool_yolo.results import FUSE_FROM, Detection, Timing, read_names  # noqa: F401


class Detector:
    """A Darknet YOLO model with its class names, ready to detect on images."""

    def __init__(self, model: Darknet, names: list[str], device: torch.device, size: int) -> None:
        if len(names) < model.classes:
            raise DltoolError(
                f"the names file lists {len(names)} classes but the model predicts {model.classes}",
                hint="pass the .names file that belongs to these weights",
            )
        check_input_size(size)
        self.model = model.eval().fuse().to(device, memory_format=torch.channels_last)
        self.names, self.device, self.size = names, device, size
        self.anchors = [torch.tensor(h.anchors, device=device) for h in model.heads]
        self.graph: torch.jit.ScriptModule | None = None  # fused CPU graph for (1, 3, S, S)

    @classmethod
    def from_files(
        cls, cfg: Path, weights: Path, names: Path, device: torch.device, size: int = 416
    ) -> Detector:
        """Return a detector built from Darknet cfg/weights/names files."""
        model = build(cfg)
        load_weights(model, weights)
        return cls(model, read_names(names), device, size)

    def preprocess(self, image: np.ndarray) -> torch.Tensor:
        """Return the letterboxed input (1, 3, S, S) in 0..1 for an RGB uint8 image (h, w, 3)."""
        _r, (nh, nw), (top, left) = letterbox_params(image.shape[:2], self.size)
        x = torch.from_numpy(np.array(image, copy=True)).to(self.device)  # (h, w, 3)
        x = x.permute(2, 0, 1)[None].float().div_(255)  # (1, 3, h, w)
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
        pad = (left, self.size - nw - left, top, self.size - nh - top)
        x = F.pad(x, pad, value=0.5)  # (1, 3, S, S)
        return x.contiguous(memory_format=torch.channels_last)

    def warmup(self, images: int = 1) -> None:
        """Warm up on a blank (1, 3, S, S) input; fuse the CPU graph for a run of ≥ FUSE_FROM."""
        x = torch.full((1, 3, self.size, self.size), 0.5, device=self.device)
        x = x.contiguous(memory_format=torch.channels_last)
        if images >= FUSE_FROM:
            self.graph = fused_graph(self.model, x)
        if self.graph is None:
            self.infer(x)

    @torch.inference_mode()
    def infer(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the raw head maps for the batch x (B, 3, S, S)."""
        x = x.contiguous(memory_format=torch.channels_last)
        if self.graph is not None and x.shape == (1, 3, self.size, self.size):
            return list(self.graph(x))
        return self.model(x)

    def postprocess(
        self,
        heads: list[torch.Tensor],
        image_shape: tuple[int, int],
        score_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        max_boxes: int = 100,
        classes: list[int] | None = None,
    ) -> list[Detection]:
        """Return the detections of one image from its head maps (1, A·(5+C), H, W)."""
        boxes, scores, cls = [], [], []
        for head, raw, anchors in zip(self.model.heads, heads, self.anchors, strict=True):
            if head.kind == "region":  # YOLOv2 anchors are in grid cells: × stride = pixels
                anchors = anchors * (self.size / raw.shape[-1])
            conf, xy, wh, probs = bt.decode_head(
                raw, anchors, head.classes, (self.size, self.size), head.kind == "region",
                head.scale_xy, head.new_coords,
            )  # fmt: skip
            corners = torch.cat([xy - wh / 2, xy + wh / 2], -1).reshape(-1, 4)  # (N, 4) 0..1
            class_scores = (conf * probs).reshape(-1, head.classes)  # (N, C)
            if classes is not None:
                class_scores = class_scores[:, classes]
            idx, c = torch.nonzero(class_scores >= score_threshold, as_tuple=True)
            boxes.append(corners[idx])
            scores.append(class_scores[idx, c])
            cls.append(c if classes is None else torch.tensor(classes, device=c.device)[c])
        b, s, c = torch.cat(boxes), torch.cat(scores), torch.cat(cls)
        keep = bt.batched_nms(b, s, c, iou_threshold)[:max_boxes]
        b = unletterbox_corners((b[keep] * self.size).cpu().numpy(), image_shape, self.size)
        return [
            Detection(int(ci), self.names[int(ci)], float(si), tuple(float(v) for v in bi))
            for bi, si, ci in zip(b, s[keep].cpu().tolist(), c[keep].cpu().tolist(), strict=True)
        ]

    def detect(self, image: np.ndarray, timing: Timing | None = None, **kw) -> list[Detection]:
        """Return the detections in an RGB uint8 image (h, w, 3), adding to ``timing``."""
        t0 = time.perf_counter()
        x = self.preprocess(image)
        t1 = time.perf_counter()
        heads = self.infer(x)
        if self.device.type == "cuda":  # kernels run asynchronously: time them, not their launch
            torch.cuda.synchronize(self.device)
        t2 = time.perf_counter()
        dets = self.postprocess(heads, image.shape[:2], **kw)
        t3 = time.perf_counter()
        if timing is not None:
            timing.add(t0, t1, t2, t3)
        return dets


def default_files(quiet: bool | None = None) -> dict[str, Path]:
    """Return the verified YOLOv3-tiny COCO files, fetching them (with progress) on first use."""
    from dltool.artifacts import ensure
    from dltool_yolo.weights import YOLOV3_TINY

    return ensure(YOLOV3_TINY, quiet=quiet)


def default_detector(device: torch.device, size: int = 416, quiet: bool | None = None) -> Detector:
    """Return YOLOv3-tiny COCO, fetching the artifact on first use."""
    from dltool_yolo.weights import CFG, NAMES, WEIGHTS

    check_input_size(size)  # before fetching the artifact
    paths = default_files(quiet)
    return Detector.from_files(paths[CFG], paths[WEIGHTS], paths[NAMES], device, size)
