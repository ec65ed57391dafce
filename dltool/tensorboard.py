"""TensorBoard event files of a run: ``<run>/tensorboard/events.out.tfevents.*``.

Every numeric value of a metrics row becomes a scalar summary (tag = its key, step = the
row's epoch, else its step/iteration/trial), and plugins add a sample of their predictions
as one image grid. The events are written by the ``tensorboard`` package (the ``training``
extra) with the same writer and records ``torch.utils.tensorboard.SummaryWriter`` wraps
(``EventFileWriter``, ``Summary.Value.simple_value``, PNG ``Summary.Image``), without
importing torch: a NumPy-only command stays that (basicnn train, 300 epochs, on a loaded
2-core machine: 12.8 s with torch's writer, 5.9 s with this one, 4.9 s without events).
The package is imported when a run first logs; without it one warning is shown once and
the run goes on with its other logs.

A resumed run writes a new events file beside the old ones (TensorBoard reads them all)
that starts with a session restart at its first step, so TensorBoard hides the old events
from that step on (``SummaryWriter(purge_step=…)`` does the same). This module imports only
the standard library at import time.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

from dltool import runlog

FOLDER = "tensorboard"
EVENTS = "events.out.tfevents.*"
MISSING = "{} is not installed: no TensorBoard {} for this run (pip install 'dltool[training]')"
_WARNED: set[str] = set()  # the missing packages warned about, once per process


def step_of(row: dict[str, Any]) -> tuple[str | None, int | None]:
    """Return the key and value of the row's x axis: epoch, else step/iteration/iter/trial."""
    for key in runlog.X_KEYS:
        value = row.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return key, value
    return None, None


def scalars_of(row: dict[str, Any], skip: str | None) -> dict[str, float]:
    """Return the row's finite numeric values (no bools, no lists) except the ``skip`` key."""
    out = {}
    for key, value in row.items():
        if key == skip or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[key] = float(value)
    return out


def as_nhwc(images: Any) -> Any:
    """Return ``images`` as a (N, H, W, C) NumPy array, C 1 or 3: (N, H, W) gains C = 1."""
    import numpy as np

    array = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if array.ndim == 3:
        array = array[..., None]  # (N, H, W, 1)
    if array.ndim != 4 or array.shape[-1] not in (1, 3) or 0 in array.shape:
        raise ValueError(f"images must be (N, H, W, 3) or (N, H, W), got {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(array.astype(np.float32), 0.0, 1.0)  # floats are read as 0..1
    return array


def clear(folder: Path) -> None:
    """Remove the events an earlier run left in ``folder`` (a new run written over it)."""
    for path in (Path(folder) / FOLDER).glob(EVENTS):
        path.unlink(missing_ok=True)


def remove(folder: Path) -> None:
    """Remove the events and the ``tensorboard/`` folder of a run that is gone (a failed start)."""
    clear(folder)
    with contextlib.suppress(OSError):
        (Path(folder) / FOLDER).rmdir()  # only when nothing else is in it


def grid(images: Any, ncols: int = 8) -> Any:
    """Return (N, H, W, C) images tiled ``ncols`` a row as one (rows·H, ncols·W, C) picture."""
    import numpy as np

    n, h, w, c = images.shape
    ncols = min(ncols, n)
    rows = -(-n // ncols)
    pad = np.zeros((rows * ncols - n, h, w, c), images.dtype)
    tiles = np.concatenate([images, pad]).reshape(rows, ncols, h, w, c)
    return tiles.transpose(0, 2, 1, 3, 4).reshape(rows * h, ncols * w, c)  # (rows·H, ncols·W, C)


def png_summary(tag: str, picture: Any) -> Any:
    """Return a Summary holding ``picture`` ((H, W, C) uint8) as a PNG image under ``tag``."""
    import io

    from PIL import Image
    from tensorboard.compat.proto.summary_pb2 import Summary

    h, w, c = picture.shape
    buf = io.BytesIO()
    Image.fromarray(picture[..., 0] if c == 1 else picture).save(buf, format="PNG")
    image = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=buf.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def _warn_once(package: str, what: str) -> None:
    """Warn once per process that ``package`` is missing, so ``what`` is not written."""
    if package not in _WARNED:
        _WARNED.add(package)
        runlog.warn(MISSING.format(package, what))


class Board:
    """The TensorBoard events file of one run folder, opened on the first write."""

    def __init__(self, folder: Path, resumed: bool = False) -> None:
        self.folder = Path(folder) / FOLDER
        self.resumed = resumed  # restart the session at the first step this command writes
        self._writer: Any = None
        self._off = False

    def _open(self, step: int) -> Any:
        """Return the EventFileWriter (None without the package: warn once, write nothing)."""
        if self._writer is None and not self._off:
            try:
                from tensorboard.compat.proto.event_pb2 import Event, SessionLog
                from tensorboard.summary.writer.event_file_writer import EventFileWriter
            except ImportError:
                self._off = True
                _warn_once("tensorboard", "events")
                return None
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writer = EventFileWriter(str(self.folder))
            if self.resumed:  # TensorBoard purges the old events from ``step`` on
                start = SessionLog(status=SessionLog.START)
                self._writer.add_event(Event(step=step, session_log=start))
        return self._writer

    def _add(self, summary: Any, step: int) -> None:
        """Write one Summary at ``step`` with the wall time now."""
        import time

        from tensorboard.compat.proto.event_pb2 import Event

        self._writer.add_event(Event(wall_time=time.time(), step=step, summary=summary))

    def scalars(self, row: dict[str, Any], count: int) -> None:
        """Add the row's numeric values at its epoch/step (``count``: the row number otherwise)."""
        key, step = step_of(row)
        step = count if step is None else step
        values = scalars_of(row, key)
        if not values or self._open(step) is None:
            return
        from tensorboard.compat.proto.summary_pb2 import Summary

        for name, value in values.items():
            self._add(Summary(value=[Summary.Value(tag=name, simple_value=value)]), step)
        if key == "epoch":
            self._writer.flush()  # each epoch is on disk for a TensorBoard watching the run

    def images(self, tag: str, images: Any, step: int) -> None:
        """Add ``images`` ((N, H, W, 3) uint8 0..255 or float 0..1) under ``tag`` as one grid."""
        array = as_nhwc(images)  # (N, H, W, C)
        if array.dtype != "uint8":
            array = (array * 255 + 0.5).astype("uint8")  # 0..1 -> 0..255
        if self._open(step) is None:
            return
        try:
            summary = png_summary(tag, grid(array))
        except ImportError:  # no Pillow to encode the PNG
            return _warn_once("Pillow", "images")
        self._add(summary, step)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the events file (a later write opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self.resumed = False
