"""Darknet ``.cfg`` parsing: ``[section]`` headers followed by ``key=value`` lines.

Also the built-in network descriptions: ``yolov3-tiny`` (the architecture of the
original Darknet YOLOv3-tiny, 416×416, 80 classes) and ``small``, the same layers with
half the channels at 128×128, which trains on CPU in minutes. No torch or numpy here.
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
    return sections


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
