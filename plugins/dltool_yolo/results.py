"""What a detector returns, without torch: a :class:`Detection` per box, :class:`Timing`, names.

Shared by the torch detector (:mod:`dltool_yolo.detect`), the onnxruntime one
(:mod:`dltool_yolo.onnx_backend`), drawing and reporting, so that running an exported
``.onnx`` model never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dltool.errors import DltoolError

FUSE_FROM = 24  # the fused CPU graph repays its build after 21-27 images (benchmarks/)


@dataclass
class Detection:
    """One detected object: class, score and corners (x1, y1, x2, y2) in image pixels."""

    cls: int
    name: str
    score: float
    box: tuple[float, float, float, float]

    def row(self) -> dict:
        """Return the detection as a table/JSON row."""
        x1, y1, x2, y2 = (round(v, 1) for v in self.box)
        return {"class": self.name, "score": round(self.score, 4), "x1": x1, "y1": y1,
                "x2": x2, "y2": y2}  # fmt: skip


@dataclass
class Timing:
    """Milliseconds spent in pre-process, inference and post-process."""

    pre: float = 0.0
    infer: float = 0.0
    post: float = 0.0
    images: int = 0
    per: list[float] = field(default_factory=list)

    def add(self, t0: float, t1: float, t2: float, t3: float) -> None:
        """Count one image whose stages ran t0→t1 (pre), t1→t2 (infer), t2→t3 (post), in s."""
        self.pre += (t1 - t0) * 1e3
        self.infer += (t2 - t1) * 1e3
        self.post += (t3 - t2) * 1e3
        self.images += 1
        self.per.append((t3 - t0) * 1e3)


def read_names(path: Path) -> list[str]:
    """Return the class names of a Darknet ``.names`` file (one per line)."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DltoolError(
            f"cannot read names file {path}: {exc.strerror}",
            hint="give the .names file of the model: one class name per line",
        ) from exc
    return [ln.strip() for ln in lines if ln.strip()]
