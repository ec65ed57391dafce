"""DataLoader workers of the training commands (``--workers N``): the bound, the check, and a
reading worker's error as one line. Imports no torch: the DataLoader is the caller's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dltool.errors import DltoolError

MAX_WORKERS = 64  # DataLoader processes per rank


def check_workers(workers: Any, warn: Callable[[str], Any] | None = None) -> int:
    """Refuse a --workers that is not a whole number from 0 to MAX_WORKERS (a --config value);
    warn (through ``warn``) when it exceeds the CPU cores (once: not in --nproc's workers)."""
    if not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= MAX_WORKERS:
        raise DltoolError(
            f"--workers {workers!r} is not a number of loader processes from 0 to {MAX_WORKERS}",
            hint="use --workers 0 (read in the main process) or a few, e.g. --workers 2",
        )
    cores = os.cpu_count() or 1
    if workers > cores and warn is not None and "LOCAL_RANK" not in os.environ:
        many = f"--workers {workers} starts more loader processes than this machine's"
        warn(f"{many} {cores} CPU cores")
    return workers


def worker_error(exc: BaseException, hint: str) -> BaseException:
    """Return a DataLoader worker's re-raised error as one DltoolError, else ``exc`` itself.

    The DataLoader re-raises a worker's exception with the worker's traceback as its text
    ("Caught X in DataLoader worker process N. Original Traceback …"); its last line is
    ``kind: message``. A dltool error keeps its message; another keeps ``kind: message``.
    """
    text = str(exc)
    if "Original Traceback" not in text:
        return exc
    last = [line for line in text.strip().splitlines() if line.strip()][-1].strip()
    kind, _, message = last.partition(": ")
    if kind.startswith(("dltool.", "dltool_")) and message:
        return DltoolError(message, hint=hint)
    return DltoolError(f"a reading worker failed: {last}", hint=hint)


def loaded(loader: Iterable, hint: str) -> Iterator:
    """Yield the batches of ``loader``; an error raised in a reading worker is one line."""
    try:
        yield from loader
    except (DltoolError, RuntimeError) as exc:
        error = worker_error(exc, hint)
        if error is exc:
            raise
        raise error from None
