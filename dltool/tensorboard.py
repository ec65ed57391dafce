"""TensorBoard event files of a run: ``<run>/tensorboard/events.out.tfevents.*``.

Every numeric value of a metrics row becomes a scalar (``add_scalar(key, value, step)``, the
step being the row's epoch, else its step/iteration/trial), and plugins add a sample of
their predictions as images (``add_images``). The writer is torch's own
(``torch.utils.tensorboard.SummaryWriter``, the ``tensorboard`` package of the ``training``
extra), imported only when a run first logs. Without that package one warning is shown
once and the run goes on with its other logs.

A resumed run writes a new events file beside the old ones (TensorBoard reads them all)
and purges the old events from the step it restarts at. This module imports only the
standard library at import time.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from dltool import runlog

FOLDER = "tensorboard"
EVENTS = "events.out.tfevents.*"
HINT = "no TensorBoard events for this run (pip install 'dltool[training]')"
_WARNED: list[bool] = []  # the missing-package warning, shown once per process


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


class Board:
    """The TensorBoard writer of one run folder, opened on the first write."""

    def __init__(self, folder: Path, resumed: bool = False) -> None:
        self.folder = Path(folder) / FOLDER
        self.resumed = resumed  # purge the old events from the first step this command writes
        self._writer: Any = None
        self._off = False

    def _open(self, step: int | None) -> Any:
        """Return the SummaryWriter (None without the package: warn once and write nothing)."""
        if self._writer is None and not self._off:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self._off = True
                if not _WARNED:
                    _WARNED.append(True)
                    runlog.warn(f"tensorboard is not installed: {HINT}")
                return None
            purge = step if self.resumed and step is not None else None
            self._writer = SummaryWriter(str(self.folder), purge_step=purge)
        return self._writer

    def scalars(self, row: dict[str, Any], count: int) -> None:
        """Add the row's numeric values at its epoch/step (``count``: the row number otherwise)."""
        key, step = step_of(row)
        step = count if step is None else step
        values = scalars_of(row, key)
        writer = self._open(step) if values else None
        if writer is None:
            return
        for name, value in values.items():
            writer.add_scalar(name, value, global_step=step)
        if key == "epoch":
            writer.flush()  # each epoch is on disk for a TensorBoard watching the run

    def images(self, tag: str, images: Any, step: int) -> None:
        """Add ``images`` ((N, H, W, 3) uint8 0..255 or float 0..1) under ``tag`` at ``step``."""
        array = as_nhwc(images)  # (N, H, W, C)
        writer = self._open(step)
        if writer is None:
            return
        writer.add_images(tag, array, global_step=step, dataformats="NHWC")
        writer.flush()

    def close(self) -> None:
        """Flush and close the events file (a later write opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self.resumed = False
