"""Darknet ``.cfg`` parsing: ``[section]`` headers followed by ``key=value`` lines.

Also the built-in network descriptions: ``yolov3-tiny`` (the architecture of the
original Darknet YOLOv3-tiny, 416×416, 80 classes) and ``small``, the same layers with
half the channels at 128×128, which trains on CPU in minutes; and, in ``DARKNET_CFGS``,
``yolov4`` and ``yolov4-tiny``: the sections and options of AlexeyAB/darknet's
``cfg/yolov4.cfg`` and ``cfg/yolov4-tiny.cfg`` (public domain), regenerated here
(Darknet's comments left out). No torch or numpy here.

Every option is checked against what the loader knows (``OPTIONS``): options it uses,
options that only matter for training in Darknet (read and passed over), and options
that change inference in a way it does not implement, which are refused naming the file,
the line and the option unless they hold their neutral value (``REFUSED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dltool.errors import DltoolError

CFG_HINT = "fix the Darknet .cfg: [net], then layer sections of key=value lines"

KNOWN_SECTIONS = (
    "net",
    "convolutional",
    "maxpool",
    "upsample",
    "route",
    "shortcut",
    "yolo",
    "region",
    "reorg",
)


@dataclass
class Section:
    """One ``[type]`` block of a cfg: its options as strings, where it and each option stand."""

    type: str
    options: dict[str, str] = field(default_factory=dict)
    line: int = 0
    source: str = "<cfg>"
    lines: dict[str, int] = field(default_factory=dict)

    def int(self, key: str, default: int | None = None) -> int:
        """Return option ``key`` as an int (``default`` when absent)."""
        return self._convert(key, default, int, "an integer")

    def float(self, key: str, default: float | None = None) -> float:
        """Return option ``key`` as a float (``default`` when absent)."""
        return self._convert(key, default, float, "a number")

    def str(self, key: str, default: str | None = None) -> str:
        """Return option ``key`` as a string (``default`` when absent)."""
        return str(self._get(key, default))

    def ints(self, key: str, default: str | None = None) -> list[int]:
        """Return option ``key`` as a comma-separated list of ints."""
        return self._convert(key, default, _list(lambda v: int(float(v))), "a list of integers")

    def floats(self, key: str, default: str | None = None) -> list[float]:
        """Return option ``key`` as a comma-separated list of floats."""
        return self._convert(key, default, _list(float), "a list of numbers")

    def _convert(self, key: str, default: object, convert, what: str):
        """Return ``convert`` of the value of ``key``; a value it refuses names file and line."""
        raw = self._get(key, default)
        try:
            return convert(raw)
        except (TypeError, ValueError, OverflowError):
            where = f"{self.source}:{self.lines.get(key, self.line)}"
            raise DltoolError(
                f"{where}: option '{key}' must be {what}, got '{raw}'", hint=CFG_HINT
            ) from None

    def _get(self, key: str, default: object) -> object:
        """Return the raw value of ``key`` or ``default``; raise if neither exists."""
        if key in self.options:
            return self.options[key]
        if default is None:
            raise DltoolError(
                f"{self.source}:{self.line}: [{self.type}] lacks the option '{key}'", hint=CFG_HINT
            )
        return default


def _list(convert):
    """Return a function mapping "a, b, c" to [convert(a), convert(b), convert(c)]."""
    return lambda raw: [convert(v) for v in str(raw).split(",") if v.strip()]


def parse_cfg(text: str, source: str = "<cfg>") -> list[Section]:
    """Return the sections of Darknet cfg ``text``; the first must be ``[net]``."""
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise DltoolError(
                    f"{source}:{number}: malformed section header '{line}'", hint=CFG_HINT
                )
            kind = line[1:-1].strip().lower()
            if kind == "network":
                kind = "net"
            if kind not in KNOWN_SECTIONS:
                raise DltoolError(
                    f"{source}:{number}: unknown section [{kind}]",
                    hint="supported: " + ", ".join(f"[{k}]" for k in KNOWN_SECTIONS),
                )
            sections.append(Section(kind, {}, number, source))
        elif "=" in line:
            if not sections:
                raise DltoolError(f"{source}:{number}: option before any [section]", hint=CFG_HINT)
            key, value = line.split("=", 1)
            sections[-1].options[key.strip()] = value.strip()
            sections[-1].lines[key.strip()] = number
        else:
            raise DltoolError(
                f"{source}:{number}: expected 'key=value', got '{line}'", hint=CFG_HINT
            )
    _check_structure(sections, source)
    for section in sections:
        check_options(section)
    return sections


TRAINING_ONLY = {
    "stopbackward", "onlyforward", "dont_update", "burnin_update", "train_only_bn",
    "learning_rate", "clip", "smooth", "dontsave",
}  # fmt: skip
"""Options any Darknet layer may carry that change training only."""

OPTIONS = {
    "convolutional": {"filters", "size", "stride", "pad", "padding", "batch_normalize",
                      "activation", "groups", "cbn"},
    "maxpool": {"size", "stride", "padding"},
    "upsample": {"stride"},
    "route": {"layers", "groups", "group_id"},
    "shortcut": {"from", "activation"},
    "reorg": {"stride"},
    "yolo": {"mask", "anchors", "classes", "num", "scale_x_y", "new_coords", "nms_kind",
             "beta_nms", "iou_thresh", "jitter", "ignore_thresh", "truth_thresh", "random",
             "resize", "cls_normalizer", "iou_normalizer", "obj_normalizer",
             "delta_normalizer", "iou_loss", "iou_thresh_kind", "max_delta", "max",
             "focal_loss", "label_smooth_eps", "counters_per_class", "objectness_smooth",
             "show_details", "track_history_size", "sim_thresh", "dets_for_track",
             "dets_for_show", "track_ciou_norm", "embedding_layer"},
    "region": {"anchors", "classes", "num", "coords", "softmax", "jitter", "rescore",
               "object_scale", "noobject_scale", "class_scale", "coord_scale", "thresh",
               "random", "absolute", "bias_match", "log", "sqrt", "max", "resize",
               "classfix", "focal_loss"},
}  # fmt: skip
"""Per section: the options the loader uses or, being training-only, passes over."""

REFUSED = {
    "convolutional": {"dilation": 1, "antialiasing": 0, "binary": 0, "xnor": 0, "deform": 0,
                      "coordconv": 0, "sway": 0, "rotate": 0, "stretch": 0,
                      "stretch_sway": 0, "assisted_excitation": 0, "share_index": None,
                      "stride_x": "stride", "stride_y": "stride", "dontload": 0,
                      "dontloadscales": 0},
    "maxpool": {"stride_x": "stride", "stride_y": "stride", "maxpool_depth": 0,
                "out_channels": None, "antialiasing": 0},
    "upsample": {"scale": 1},
    "shortcut": {"weights_type": "none", "weights_normalization": "none"},
    "reorg": {"reverse": 0, "extra": 0, "flatten": 0},
    "yolo": {"map": None},
    "region": {"tree": None, "map": None, "coords": 4, "softmax": 1},
}  # fmt: skip
"""Options that change inference in a way the loader does not implement, with the one
value each may hold (None: none; "stride": the section's own stride)."""


def with_input_size(text: str, size: int) -> str:
    """Return cfg ``text`` with the first section's ``width`` and ``height`` set to ``size``.

    The first section is ``[net]`` (``parse_cfg`` refuses others); keys it lacks are added
    under its header; everything else, comments included, is kept as it was.
    """
    lines = text.splitlines(keepends=True)
    heads = [i for i, raw in enumerate(lines) if raw.split("#", 1)[0].strip().startswith("[")]
    if not heads:
        return text
    end = heads[1] if len(heads) > 1 else len(lines)
    missing = {"width", "height"}
    for i in range(heads[0] + 1, end):
        key = lines[i].split("#", 1)[0].split(";", 1)[0].split("=", 1)[0].strip()
        if key in missing and "=" in lines[i]:
            lines[i], missing = f"{key}={size}\n", missing - {key}
    added = [f"{key}={size}\n" for key in ("width", "height") if key in missing]
    return "".join(lines[: heads[0] + 1] + added + lines[heads[0] + 1 :])


def check_options(s: Section) -> None:
    """Raise, naming file:line and option, on an option ``s`` cannot honour or does not know."""
    if s.type == "net":
        return  # input size and channels are read; the rest configures training
    for key, raw in s.options.items():
        where = f"{s.source}:{s.lines.get(key, s.line)}"
        refused = REFUSED.get(s.type, {})
        if key in refused:
            if not _neutral(s, refused[key], raw):
                raise DltoolError(
                    f"{where}: [{s.type}] option {key}={raw} is not supported by this loader",
                    hint="remove the option, or run the cfg in Darknet itself",
                )
        elif key not in OPTIONS.get(s.type, set()) and key not in TRAINING_ONLY:
            raise DltoolError(
                f"{where}: [{s.type}] has an option this loader does not know: '{key}'",
                hint="check its spelling; Darknet passes over options it does not know, "
                "dltool refuses them (the known ones: dltool_yolo.cfg.OPTIONS)",
            )


def _neutral(s: Section, neutral: object, raw: str) -> bool:
    """Return whether ``raw`` is the value of a refused option that changes nothing."""
    if neutral is None:
        return False
    if neutral == "stride":
        neutral = s.options.get("stride", "1")
    try:
        return float(raw) == float(neutral)
    except ValueError:
        return raw.strip().lower() == str(neutral)


def _check_structure(sections: list[Section], source: str) -> None:
    """Raise unless the cfg starts with [net] and has at least one layer and one head."""
    if not sections or sections[0].type != "net":
        raise DltoolError(f"{source}: a Darknet cfg must start with [net]", hint=CFG_HINT)
    if len(sections) < 2:
        raise DltoolError(f"{source}: the cfg defines no layers", hint=CFG_HINT)
    if not any(s.type in ("yolo", "region") for s in sections):
        raise DltoolError(
            f"{source}: the cfg has no [yolo] or [region] detection layer", hint=CFG_HINT
        )


def read_cfg(path: Path) -> list[Section]:
    """Return the parsed sections of the cfg file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DltoolError(f"cannot read cfg file {path}: {exc.strerror}", hint=CFG_HINT) from exc
    return parse_cfg(text, str(path))


def _conv(filters: int, size: int, bn: bool = True, act: str = "leaky") -> str:
    """Return a [convolutional] block."""
    norm = "batch_normalize=1\n" if bn else ""
    return (
        f"[convolutional]\n{norm}filters={filters}\nsize={size}\nstride=1\npad=1\n"
        f"activation={act}\n"
    )


def _yolo(mask: str, anchors: str, classes: int) -> str:
    """Return a [yolo] block with 6 anchors."""
    return f"[yolo]\nmask={mask}\nanchors={anchors}\nclasses={classes}\nnum=6\n"


def tiny_cfg(classes: int = 80, width: float = 1.0, size: int = 416, anchors: str = "") -> str:
    """Return a YOLOv3-tiny cfg with ``classes`` classes and channel widths scaled by ``width``."""
    anchors = anchors or "10,14, 23,27, 37,58, 81,82, 135,169, 344,319"
    ch = [max(4, int(c * width)) for c in (16, 32, 64, 128, 256, 512, 1024, 256, 512, 128, 256)]
    out = 3 * (5 + classes)
    parts = [f"[net]\nwidth={size}\nheight={size}\nchannels=3\n"]
    for i in range(6):
        parts.append(_conv(ch[i], 3))
        parts.append(f"[maxpool]\nsize=2\nstride={2 if i < 5 else 1}\n")
    parts += [_conv(ch[6], 3), _conv(ch[7], 1), _conv(ch[8], 3), _conv(out, 1, False, "linear")]
    parts.append(_yolo("3,4,5", anchors, classes))
    parts += ["[route]\nlayers=-4\n", _conv(ch[9], 1), "[upsample]\nstride=2\n"]
    parts += ["[route]\nlayers=-1,8\n", _conv(ch[10], 3), _conv(out, 1, False, "linear")]
    parts.append(_yolo("0,1,2", anchors, classes))
    return "\n".join(parts)


BUILTIN_CFGS = {
    "yolov3-tiny": lambda classes=80: tiny_cfg(classes),
    "small": lambda classes=80: tiny_cfg(classes, width=0.5, size=128),
}


V4_NET = """[net]
batch=64
subdivisions=8
width=608
height=608
channels=3
momentum=0.949
decay=0.0005
angle=0
saturation = 1.5
exposure = 1.5
hue=.1
learning_rate=0.0013
burn_in=1000
max_batches = 500500
policy=steps
steps=400000,450000
scales=.1,.1
mosaic=1
"""

V4_TINY_NET = """[net]
batch=64
subdivisions=1
width=416
height=416
channels=3
momentum=0.9
decay=0.0005
angle=0
saturation = 1.5
exposure = 1.5
hue=.1
learning_rate=0.00261
burn_in=1000
max_batches = 2000200
policy=steps
steps=1600000,1800000
scales=.1,.1
"""

V4_ANCHORS = "12, 16, 19, 36, 40, 28, 36, 75, 76, 55, 72, 146, 142, 110, 192, 243, 459, 401"
V4_TINY_ANCHORS = "10,14,  23,27,  37,58,  81,82,  135,169,  344,319"


def _bconv(filters: int, size: int, stride: int = 1, act: str = "leaky") -> str:
    """Return a batch-normalized [convolutional] block."""
    return (
        f"[convolutional]\nbatch_normalize=1\nfilters={filters}\nsize={size}\nstride={stride}\n"
        f"pad=1\nactivation={act}\n"
    )


def _head_conv(classes: int, anchors: int = 3) -> str:
    """Return the linear 1×1 [convolutional] that feeds a [yolo] layer."""
    filters = anchors * (5 + classes)
    return f"[convolutional]\nsize=1\nstride=1\npad=1\nfilters={filters}\nactivation=linear\n"


def _csp_stage(c_out: int, half: int, mid: int, n: int, final: int) -> list[str]:
    """Return a CSPDarknet53 stage: downsample, split, n residual blocks, merge (mish)."""
    parts = [_bconv(c_out, 3, 2, "mish"), _bconv(half, 1, act="mish"), "[route]\nlayers = -2\n"]
    parts.append(_bconv(half, 1, act="mish"))
    for _ in range(n):
        parts += [_bconv(mid, 1, act="mish"), _bconv(half, 3, act="mish")]
        parts.append("[shortcut]\nfrom=-3\nactivation=linear\n")
    parts += [_bconv(half, 1, act="mish"), f"[route]\nlayers = -1,-{3 * n + 4}\n"]
    return [*parts, _bconv(final, 1, act="mish")]


def _v4_yolo(mask: str, scale: str, classes: int, last: bool = False) -> str:
    """Return one of YOLOv4's three [yolo] blocks."""
    random = "random=1\n" if last else ""
    return (
        f"[yolo]\nmask = {mask}\nanchors = {V4_ANCHORS}\nclasses={classes}\nnum=9\njitter=.3\n"
        f"ignore_thresh = .7\ntruth_thresh = 1\n{random}scale_x_y = {scale}\niou_thresh=0.213\n"
        "cls_normalizer=1.0\niou_normalizer=0.07\niou_loss=ciou\nnms_kind=greedynms\n"
        "beta_nms=0.6\nmax_delta=5\n"
    )


def _v4_neck_block(small: int, big: int) -> list[str]:
    """Return the five alternating 1×1 / 3×3 convolutions of a YOLOv4 neck level."""
    return [_bconv(small, 1), _bconv(big, 3), _bconv(small, 1), _bconv(big, 3), _bconv(small, 1)]


def yolov4_cfg(classes: int = 80) -> str:
    """Return YOLOv4 (CSPDarknet53, SPP, PANet, 3 heads; 608×608) for ``classes`` classes."""
    parts = [V4_NET, _bconv(32, 3, act="mish")]
    for stage in ((64, 64, 32, 1, 64), (128, 64, 64, 2, 128), (256, 128, 128, 8, 256),
                  (512, 256, 256, 8, 512), (1024, 512, 512, 4, 1024)):  # fmt: skip
        parts += _csp_stage(*stage)
    parts += [_bconv(512, 1), _bconv(1024, 3), _bconv(512, 1)]
    parts += ["[maxpool]\nstride=1\nsize=5\n", "[route]\nlayers=-2\n"]  # SPP
    parts += ["[maxpool]\nstride=1\nsize=9\n", "[route]\nlayers=-4\n"]
    parts += ["[maxpool]\nstride=1\nsize=13\n", "[route]\nlayers=-1,-3,-5,-6\n"]
    parts += [_bconv(512, 1), _bconv(1024, 3), _bconv(512, 1)]
    for c, skip in ((256, 85), (128, 54)):  # top-down: upsample, join the backbone level
        parts += [_bconv(c, 1), "[upsample]\nstride=2\n", f"[route]\nlayers = {skip}\n"]
        parts += [_bconv(c, 1), "[route]\nlayers = -1, -3\n", *_v4_neck_block(c, 2 * c)]
    parts += [_bconv(256, 3), _head_conv(classes), _v4_yolo("0,1,2", "1.2", classes)]
    for c, skip, mask, scale in ((256, 16, "3,4,5", "1.1"), (512, 37, "6,7,8", "1.05")):
        parts += ["[route]\nlayers = -4\n", _bconv(c, 3, 2), f"[route]\nlayers = -1, -{skip}\n"]
        parts += [*_v4_neck_block(c, 2 * c), _bconv(2 * c, 3), _head_conv(classes)]
        parts.append(_v4_yolo(mask, scale, classes, last=mask == "6,7,8"))
    return "\n".join(parts)


def _v4_tiny_yolo(mask: str, classes: int) -> str:
    """Return one of YOLOv4-tiny's two [yolo] blocks."""
    return (
        f"[yolo]\nmask = {mask}\nanchors = {V4_TINY_ANCHORS}\nclasses={classes}\nnum=6\n"
        "jitter=.3\nscale_x_y = 1.05\ncls_normalizer=1.0\niou_normalizer=0.07\niou_loss=ciou\n"
        "ignore_thresh = .7\ntruth_thresh = 1\nrandom=0\nresize=1.5\nnms_kind=greedynms\n"
        "beta_nms=0.6\n"
    )


def yolov4_tiny_cfg(classes: int = 80) -> str:
    """Return YOLOv4-tiny (CSP blocks with grouped routes, 2 heads; 416×416)."""
    parts = [V4_TINY_NET, _bconv(32, 3, 2), _bconv(64, 3, 2)]
    for c in (64, 128, 256):  # keep half the channels (group_id=1), two 3×3, merge, pool
        parts += [_bconv(c, 3), "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n"]
        parts += [_bconv(c // 2, 3), _bconv(c // 2, 3), "[route]\nlayers = -1,-2\n"]
        parts += [_bconv(c, 1), "[route]\nlayers = -6,-1\n", "[maxpool]\nsize=2\nstride=2\n"]
    parts += [_bconv(512, 3), _bconv(256, 1), _bconv(512, 3), _head_conv(classes)]
    parts += [_v4_tiny_yolo("3,4,5", classes), "[route]\nlayers = -4\n", _bconv(128, 1)]
    parts += ["[upsample]\nstride=2\n", "[route]\nlayers = -1, 23\n", _bconv(256, 3)]
    parts += [_head_conv(classes), _v4_tiny_yolo("1,2,3", classes)]  # 1,2,3 as in Darknet
    return "\n".join(parts)


DARKNET_CFGS = {"yolov4": yolov4_cfg, "yolov4-tiny": yolov4_tiny_cfg}
"""Darknet's own networks, regenerated (``build`` takes these names too)."""
