"""Darknet networks in PyTorch: build a module from a ``.cfg``, load a ``.weights`` file.

Layers follow Darknet's C sources (``parser.c``, ``*_layer.c``): convolution (grouped
too) with optional batch norm (folded into the convolution for inference,
``w' = w·γ/√(σ²+ε)``, ``b' = β − μ·γ/√(σ²+ε)``), leaky ReLU with slope 0.1 and mish
``x·tanh(ln(1+eˣ))``, max pooling with Darknet's ``padding = size − 1`` split
``⌊(size−1)/2⌋`` before and the rest after, padded with −∞ (so ``size=2 stride=1`` and
YOLOv4's SPP ``size=5/9/13 stride=1`` keep the grid), nearest upsampling, ``route``
(channel concatenation; with ``groups=G group_id=k`` each input's k-th of G channel
slices, as YOLOv4-tiny uses), ``shortcut`` (residual sum), YOLOv2's ``reorg`` and the
detection heads ``[yolo]`` (YOLOv3/v4: ``scale_x_y``, ``new_coords`` decode in
:mod:`dltool_yolo.boxes`) and ``[region]`` (YOLOv2).

The ``.weights`` format: an int32 header ``major, minor, revision``, then ``seen`` as
int64 when ``major·10 + minor ≥ 2`` (int32 before), then float32 per convolution:
biases, and for batch-norm layers scales, running means and variances, then weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dltool.errors import DltoolError
from dltool_yolo.cfg import BUILTIN_CFGS, CFG_HINT, DARKNET_CFGS, Section, parse_cfg, read_cfg

WEIGHTS_HINT = "give the Darknet .weights file that was trained with this .cfg"
ACTIVATIONS = ("leaky", "linear", "relu", "logistic", "mish", "swish")


NMS_KINDS = ("default", "greedynms")
"""Darknet's nms_kind values this loader takes (diounms and cornersnms are refused)."""


@dataclass
class Head:
    """A detection layer: its anchors in input pixels, class count and kind (yolo/region).

    ``scale_xy`` and ``new_coords`` change decoding (:func:`dltool_yolo.boxes.decode_head`);
    ``iou_thresh`` (anchor assignment) is read for training, ``nms_kind``/``beta_nms`` for
    NMS: Darknet's greedynms compares boxes by DIoU where dltool's NMS uses IoU, and
    ``beta_nms`` matters only to diounms, which is refused.
    """

    kind: str
    anchors: list[tuple[float, float]]
    classes: int
    layer: int
    scale_xy: float = 1.0
    new_coords: bool = False
    iou_thresh: float = 1.0
    nms_kind: str = "default"
    beta_nms: float = 0.6
    where: dict[str, str] = field(default_factory=dict)  # option -> "file:line"


def activation(name: str, x: torch.Tensor) -> torch.Tensor:
    """Return Darknet activation ``name`` of ``x`` (leaky: max(0.1x, x))."""
    if name == "leaky":
        return F.leaky_relu(x, 0.1)
    if name == "relu":
        return F.relu(x)
    if name == "logistic":
        return torch.sigmoid(x)
    if name == "mish":
        return F.mish(x)
    if name == "swish":
        return F.silu(x)
    return x


class Conv(nn.Module):
    """Darknet [convolutional]: Conv2d, optional BatchNorm2d, activation."""

    def __init__(self, c_in: int, s: Section) -> None:
        super().__init__()
        self.filters = s.int("filters")
        size, stride, groups = s.int("size", 1), s.int("stride", 1), s.int("groups", 1)
        pad = size // 2 if s.int("pad", 0) else s.int("padding", 0)
        self.bn = bool(s.int("batch_normalize", 0))
        self.act = s.str("activation", "logistic")
        where = f"{s.source}:{s.lines.get('activation', s.line)}"
        if self.act not in ACTIVATIONS:
            raise DltoolError(
                f"{where}: [convolutional] activation '{self.act}' is not supported",
                hint="supported: " + ", ".join(ACTIVATIONS),
            )
        if min(self.filters, size, stride, groups) < 1 or c_in % groups or self.filters % groups:
            raise DltoolError(
                f"{s.source}:{s.line}: [convolutional] filters={self.filters} size={size} "
                f"stride={stride} groups={groups} on {c_in} input channels: all must be ≥ 1 "
                "and groups must divide filters and input channels",
                hint=CFG_HINT,
            )
        self.conv = nn.Conv2d(c_in, self.filters, size, stride, pad, groups=groups,
                              bias=not self.bn)  # fmt: skip
        self.norm = nn.BatchNorm2d(self.filters, eps=1e-6) if self.bn else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return act(BN(conv(x)))."""
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        return activation(self.act, x)

    def fuse(self) -> None:
        """Fold batch norm into the convolution: w·γ/√(σ²+ε), β − μ·γ/√(σ²+ε)."""
        if self.norm is None:
            return
        n = self.norm
        scale = n.weight / torch.sqrt(n.running_var + n.eps)  # (filters,)
        fused = nn.Conv2d(
            self.conv.in_channels,
            self.conv.out_channels,
            self.conv.kernel_size,
            self.conv.stride,
            self.conv.padding,
            groups=self.conv.groups,
            bias=True,
        ).to(self.conv.weight.device, self.conv.weight.dtype)
        with torch.no_grad():
            fused.weight.copy_(self.conv.weight * scale[:, None, None, None])
            fused.bias.copy_(n.bias - n.running_mean * scale)
        self.conv, self.norm = fused, None


class MaxPool(nn.Module):
    """Darknet [maxpool]: total padding ``size − 1`` split left/right, padded with −∞."""

    def __init__(self, s: Section) -> None:
        super().__init__()
        self.size = s.int("size", s.int("stride", 1))
        self.stride = s.int("stride", 1)
        pad = s.int("padding", self.size - 1)
        self.pads = (pad // 2, pad - pad // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the max over each size×size window after Darknet's padding."""
        lo, hi = self.pads
        h, w = x.shape[-2:]
        if self.size == 2 and self.stride == 2 and lo == 0 and h % 2 == 0 and w % 2 == 0:
            return max4(
                x[..., 0::2, 0::2], x[..., 1::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 1::2]
            )
        if lo or hi:
            x = F.pad(x, (lo, hi, lo, hi), value=float("-inf"))
        if self.size == 2 and self.stride == 1:
            return max4(x[..., :-1, :-1], x[..., 1:, :-1], x[..., :-1, 1:], x[..., 1:, 1:])
        return F.max_pool2d(x, self.size, self.stride)


def route(xs: list[torch.Tensor], groups: int = 1, group_id: int = 0) -> torch.Tensor:
    """Return the channel concatenation of each input's ``group_id``-th of ``groups`` slices."""
    if groups > 1:
        xs = [x.chunk(groups, 1)[group_id] for x in xs]  # (B, C/G, H, W) each
    return torch.cat(xs, 1) if len(xs) > 1 else xs[0]


def max4(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Return the elementwise max(a, b, c, d) (a 2×2 max-pool from four shifted views)."""
    return torch.maximum(torch.maximum(a, b), torch.maximum(c, d))


def reorg(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Return Darknet's reorg of x (B, C, H, W) → (B, C·s², H/s, W/s), index for index."""
    b, c, h, w = x.shape
    s = stride
    oc = c // (s * s)
    xv = x.reshape(b, oc, h, s, w, s)  # Darknet reads the input as (oc, H·s, W·s)
    mid = xv.permute(0, 3, 5, 1, 2, 4).reshape(b, c, h, w)  # k = (dy·s + dx)·oc + c2
    return mid.reshape(b, c * s * s, h // s, w // s)


def reorg_reference(x: np.ndarray, stride: int) -> np.ndarray:
    """Return Darknet's ``reorg_cpu(forward=0)`` of x (B, C, H, W), loop for loop."""
    b, c, h, w = x.shape
    flat, out = x.reshape(-1), np.empty(x.size, dtype=x.dtype)
    oc = c // (stride * stride)
    for bi in range(b):
        for k in range(c):
            for j in range(h):
                for i in range(w):
                    in_index = i + w * (j + h * (k + c * bi))
                    c2, offset = k % oc, k // oc
                    w2, h2 = i * stride + offset % stride, j * stride + offset // stride
                    out[in_index] = flat[w2 + w * stride * (h2 + h * stride * (c2 + oc * bi))]
    return out.reshape(b, c * stride * stride, h // stride, w // stride)


class Darknet(nn.Module):
    """A Darknet network; ``forward`` returns the raw output of every detection head."""

    def __init__(self, sections: list[Section], source: str | None = None) -> None:
        super().__init__()
        net = sections[0]
        self.width, self.height = net.int("width", 416), net.int("height", 416)
        self.channels = net.int("channels", 3)
        self.source = source or net.source
        self.kinds: list[str] = []
        self.args: list[object] = []
        self.heads: list[Head] = []
        self.layers = nn.ModuleList()
        self._build(sections[1:])

    def _build(self, sections: list[Section]) -> None:
        """Create the layers, tracking channels per layer to size convolutions and routes."""
        chans: list[int] = []
        c = self.channels
        for i, s in enumerate(sections):
            module: nn.Module = nn.Identity()
            arg: object = None
            if s.type == "convolutional":
                module = Conv(c, s)
                c = module.filters
            elif s.type == "maxpool":
                module = MaxPool(s)
            elif s.type == "upsample":
                arg = self._positive(s, "stride", 2)
            elif s.type == "reorg":
                arg = s.int("stride", 2)
                c = c * arg * arg
            elif s.type == "route":
                arg = self._route(i, s, chans)
                c = sum(chans[j] for j in arg[0]) // arg[1]
            elif s.type == "shortcut":
                arg = (self._index(i, s.int("from"), s), s.str("activation", "linear"))
            elif s.type in ("yolo", "region"):
                self.heads.append(self._head(s, i, c))
            self.kinds.append(s.type)
            self.args.append(arg)
            self.layers.append(module)
            chans.append(c)

    def _positive(self, s: Section, key: str, default: int) -> int:
        """Return option ``key`` of ``s`` as an int ≥ 1; refuse other values naming file:line."""
        v = s.int(key, default)
        if v < 1:
            where = f"{self.source}:{s.lines.get(key, s.line)}"
            raise DltoolError(f"{where}: [{s.type}] {key}={v} must be ≥ 1", hint=CFG_HINT)
        return v

    def _route(self, i: int, s: Section, chans: list[int]) -> tuple[list[int], int, int]:
        """Return a route's (layers, groups, group_id); each input must split into groups."""
        layers = [self._index(i, v, s) for v in s.ints("layers")]
        groups, group_id = self._positive(s, "groups", 1), s.int("group_id", 0)
        where = f"{self.source}:{s.lines.get('group_id', s.line)}"
        if not 0 <= group_id < groups or any(chans[j] % groups for j in layers):
            raise DltoolError(
                f"{where}: [route] groups={groups} group_id={group_id} on inputs of "
                f"{[chans[j] for j in layers]} channels: group_id must be 0..groups-1 and "
                "groups must divide every input's channels",
                hint=CFG_HINT,
            )
        return layers, groups, group_id

    def _index(self, i: int, v: int, s: Section) -> int:
        """Return the absolute layer index of a route/shortcut reference ``v`` at layer ``i``."""
        j = i + v if v < 0 else v
        if not 0 <= j < i:
            raise DltoolError(
                f"{self.source}:{s.line}: [{s.type}] refers to layer {v}, "
                f"but only layers 0..{i - 1} precede it",
                hint=CFG_HINT,
            )
        return j

    def _head(self, s: Section, i: int, c: int) -> Head:
        """Return the Head of a [yolo] or [region] section, checking its input channels."""
        classes = s.int("classes", 20)
        where = f"{self.source}:{s.lines.get('anchors', s.line)}"
        values = s.floats("anchors")
        if not values or len(values) % 2:
            raise DltoolError(
                f"{where}: anchors must be width,height pairs, got {len(values)} value(s)",
                hint=CFG_HINT,
            )
        pairs = list(zip(values[0::2], values[1::2], strict=True))
        if s.type == "yolo":
            mask = s.ints("mask", ",".join(str(k) for k in range(len(pairs))))
            bad = [k for k in mask if not 0 <= k < len(pairs)]
            if bad:
                raise DltoolError(
                    f"{self.source}:{s.lines.get('mask', s.line)}: mask refers to anchor {bad[0]}, "
                    f"but anchors has {len(pairs)} pairs (0..{len(pairs) - 1})",
                    hint=CFG_HINT,
                )
            pairs = [pairs[k] for k in mask]
        else:
            pairs = pairs[: s.int("num", len(pairs))]
        need = len(pairs) * (5 + classes)
        if c != need:
            raise DltoolError(
                f"{self.source}:{s.line}: [{s.type}] with {len(pairs)} anchors and {classes} "
                f"classes needs {need} input channels, the layer before gives {c}",
                hint=CFG_HINT,
            )
        return self._yolo_options(Head(s.type, pairs, classes, i), s)

    def _yolo_options(self, head: Head, s: Section) -> Head:
        """Return ``head`` with scale_x_y, new_coords, iou_thresh, nms_kind and beta_nms read."""
        head.where = {
            k: f"{self.source}:{s.lines.get(k, s.line)}" for k in ("scale_x_y", "new_coords")
        }
        head.scale_xy, head.beta_nms = s.float("scale_x_y", 1.0), s.float("beta_nms", 0.6)
        head.iou_thresh, new_coords = s.float("iou_thresh", 1.0), s.int("new_coords", 0)
        head.nms_kind = s.str("nms_kind", "default").strip().lower()
        bad = None
        if not 0 < head.scale_xy <= 4:  # NaN fails too
            bad = ("scale_x_y", s.options.get("scale_x_y"), "a number in (0, 4]")
        elif new_coords not in (0, 1):
            bad = ("new_coords", new_coords, "0 or 1")
        elif head.nms_kind not in NMS_KINDS:
            bad = ("nms_kind", head.nms_kind, "greedynms or default (diounms is not supported)")
        if bad:
            where = f"{self.source}:{s.lines.get(bad[0], s.line)}"
            raise DltoolError(
                f"{where}: [{s.type}] {bad[0]}={bad[1]} is not supported: it must be {bad[2]}",
                hint=CFG_HINT,
            )
        head.new_coords = bool(new_coords)
        return head

    @property
    def classes(self) -> int:
        """Return the number of classes the heads predict."""
        return self.heads[0].classes

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the raw maps (B, A·(5+C), H, W) of each detection head for x (B, 3, h, w)."""
        return self.run(x)[1]

    def run(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Return every layer's output and the head maps for x (B, 3, h, w)."""
        outs: list[torch.Tensor] = []
        heads: list[torch.Tensor] = []
        for kind, arg, layer in zip(self.kinds, self.args, self.layers, strict=True):
            if kind == "upsample":
                x = F.interpolate(x, scale_factor=arg, mode="nearest")
            elif kind == "reorg":
                x = reorg(x, arg)
            elif kind == "route":
                x = route([outs[j] for j in arg[0]], arg[1], arg[2])
            elif kind == "shortcut":
                x = activation(arg[1], x + outs[arg[0]])
            elif kind in ("yolo", "region"):
                heads.append(x)
            else:
                x = layer(x)
            outs.append(x)
        return outs, heads

    def fuse(self) -> Darknet:
        """Fold every batch norm into its convolution (inference only); return self."""
        for layer in self.layers:
            if isinstance(layer, Conv):
                layer.fuse()
        return self

    def convs(self) -> list[Conv]:
        """Return the convolutional layers in file order."""
        return [m for m in self.layers if isinstance(m, Conv)]


def layer_table(
    sections: list[Section], height: int | None = None, width: int | None = None
) -> list[tuple[str, tuple[int, int, int], float]]:
    """Return (kind, output (C, H, W), BFLOPs) per layer, as Darknet prints them when loading.

    Shapes come from a forward pass on the meta device (no memory, no arithmetic). BFLOPs
    follow Darknet: convolution 2·n·k²·(c/g)·H·W, max pool k²·c·H·W, shortcut c·H·W, / 10⁹.
    """
    with torch.device("meta"):
        model = Darknet(sections)
        h, w = height or model.height, width or model.width
        outs, _ = model.run(torch.empty(1, model.channels, h, w))
    rows = []
    for kind, layer, out in zip(model.kinds, model.layers, outs, strict=True):
        c, oh, ow = out.shape[1:]
        flops = 0.0
        if isinstance(layer, Conv):
            k = layer.conv.kernel_size[0] * layer.conv.kernel_size[1]
            flops = 2.0 * c * k * layer.conv.in_channels / layer.conv.groups * oh * ow
        elif isinstance(layer, MaxPool):
            flops = float(layer.size * layer.size * c * oh * ow)
        elif kind == "shortcut":
            flops = float(c * oh * ow)
        rows.append((kind, (int(c), int(oh), int(ow)), flops / 1e9))
    return rows


def check_trainable(model: Darknet) -> None:
    """Refuse to train heads that decode with scale_x_y ≠ 1 or new_coords (YOLOv3's loss here)."""
    for head in model.heads:
        for key, value in (("scale_x_y", head.scale_xy), ("new_coords", int(head.new_coords))):
            if value != (1.0 if key == "scale_x_y" else 0):
                raise DltoolError(
                    f"{head.where[key]}: [yolo] {key}={value} is not supported for training "
                    "(dltool trains with YOLOv3's loss and box coding)",
                    hint="train a cfg with scale_x_y=1 and new_coords=0; detect and evaluate "
                    "take this one",
                )


def weights_count(model: Darknet) -> int:
    """Return the number of float32 values a .weights file holds for ``model``."""
    total = 0
    for conv in model.convs():
        n = conv.filters
        total += n * (4 if conv.bn else 1) + conv.conv.weight.numel()
    return total


def read_header(data: bytes, path: str) -> tuple[tuple[int, int, int], int, int]:
    """Return ``(major, minor, revision)``, ``seen`` and the header size of .weights ``data``."""
    if len(data) < 16:
        raise DltoolError(
            f"{path} is {len(data)} bytes: too short for a Darknet weights header",
            hint=WEIGHTS_HINT,
        )
    major, minor, revision = (int(v) for v in np.frombuffer(data[:12], dtype="<i4"))
    wide = (major * 10 + minor) >= 2 and major < 1000 and minor < 1000
    if wide:
        return (major, minor, revision), int(np.frombuffer(data[12:20], dtype="<i8")[0]), 20
    return (major, minor, revision), int(np.frombuffer(data[12:16], dtype="<i4")[0]), 16


def load_weights(model: Darknet, path: Path) -> tuple[int, int, int]:
    """Copy a Darknet .weights file into ``model`` (before fusing); return its version."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DltoolError(
            f"cannot read weights file {path}: {exc.strerror}", hint=WEIGHTS_HINT
        ) from exc
    version, _seen, offset = read_header(data, str(path))
    need = weights_count(model)
    have_bytes, need_bytes = len(data), offset + 4 * need
    if have_bytes != need_bytes:
        raise DltoolError(
            f"{path} is {have_bytes:,} bytes but {model.source} needs {need_bytes:,} "
            f"({offset}-byte header + 4 × {need:,} parameters)",
            hint="use the .weights file that was trained with this .cfg",
        )
    values = torch.from_numpy(np.frombuffer(data, dtype="<f4", offset=offset).copy())
    pos = 0

    def take(t: torch.Tensor) -> None:
        nonlocal pos
        with torch.no_grad():
            t.copy_(values[pos : pos + t.numel()].view_as(t))
        pos += t.numel()

    for conv in model.convs():
        if conv.norm is not None:
            for t in (conv.norm.bias, conv.norm.weight, conv.norm.running_mean):
                take(t)
            take(conv.norm.running_var)
        else:
            take(conv.conv.bias)
        take(conv.conv.weight)
    return version


def save_weights(model: Darknet, path: Path, seen: int = 0) -> None:
    """Write ``model`` (unfused) as a Darknet .weights file, version 0.2.0 (64-bit seen)."""
    from dltool import atomic

    parts = [np.array([0, 2, 0], dtype="<i4").tobytes(), np.array([seen], dtype="<i8").tobytes()]
    for conv in model.convs():
        if conv.norm is not None:
            n = conv.norm
            tensors = [n.bias, n.weight, n.running_mean, n.running_var]
        else:
            tensors = [conv.conv.bias]
        for t in [*tensors, conv.conv.weight]:
            parts.append(t.detach().cpu().to(torch.float32).numpy().astype("<f4").tobytes())
    atomic.write_bytes(path, b"".join(parts))


def build(cfg: str | Path, source: str | None = None) -> Darknet:
    """Return the Darknet module of a cfg file path or built-in name (yolov3-tiny, yolov4…)."""
    if isinstance(cfg, str) and cfg in BUILTIN_CFGS:
        return Darknet(parse_cfg(BUILTIN_CFGS[cfg](), cfg), cfg)
    if isinstance(cfg, str) and cfg in DARKNET_CFGS:
        return Darknet(parse_cfg(DARKNET_CFGS[cfg](), cfg), cfg)
    path = Path(cfg)
    return Darknet(read_cfg(path), source or str(path))


def yolov4(classes: int = 80) -> Darknet:
    """Return an untrained YOLOv4 (Darknet's yolov4.cfg) for ``classes`` classes."""
    return Darknet(parse_cfg(DARKNET_CFGS["yolov4"](classes), "yolov4"), "yolov4")


def yolov4_tiny(classes: int = 80) -> Darknet:
    """Return an untrained YOLOv4-tiny (Darknet's yolov4-tiny.cfg) for ``classes`` classes."""
    return Darknet(parse_cfg(DARKNET_CFGS["yolov4-tiny"](classes), "yolov4-tiny"), "yolov4-tiny")


def yolov3_tiny(classes: int = 80) -> Darknet:
    """Return an untrained YOLOv3-tiny (the Darknet architecture) for ``classes`` classes."""
    return Darknet(parse_cfg(BUILTIN_CFGS["yolov3-tiny"](classes), "yolov3-tiny"), "yolov3-tiny")
