"""dltool.data.loading: --workers bounds and warning, a reading worker's error as one line."""

from __future__ import annotations

import os

import pytest

from dltool.data.loading import MAX_WORKERS, check_workers, loaded, worker_error
from dltool.errors import DltoolError

CAUGHT = (
    "Caught {kind} in DataLoader worker process 1.\nOriginal Traceback (most recent call last):\n"
    '  File "x.py", line 3, in load\n    raise err\n{kind}: {message}\n'
)


def test_workers_bounds_and_the_cores_warning(monkeypatch):
    """0..MAX_WORKERS pass; others (a --config value) refused; above the cores warns once."""
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    warned = []
    assert check_workers(0, warned.append) == 0 and not warned
    for bad in (-1, MAX_WORKERS + 1, 1.5, True, "2"):
        with pytest.raises(DltoolError, match="is not a number of loader processes"):
            check_workers(bad)
    many = (os.cpu_count() or 1) + 1
    if many <= MAX_WORKERS:
        assert check_workers(many, warned.append) == many
        assert len(warned) == 1 and "CPU cores" in warned[0]
        monkeypatch.setenv("LOCAL_RANK", "1")  # a worker --nproc started: the launcher warned
        check_workers(many, warned.append)
        assert len(warned) == 1


def test_a_worker_error_is_one_line():
    """A dltool error keeps its message; another error names its kind; others pass through."""
    dl = RuntimeError(CAUGHT.format(kind="dltool.errors.DltoolError", message="cannot read a.png"))
    error = worker_error(dl, "fix it")
    assert isinstance(error, DltoolError) and error.message == "cannot read a.png"
    assert error.hint == "fix it"
    other = RuntimeError(CAUGHT.format(kind="OSError", message="broken data stream"))
    assert (
        worker_error(other, "h").message == "a reading worker failed: OSError: broken data stream"
    )
    plain = RuntimeError("a bug of ours")
    assert worker_error(plain, "h") is plain


def test_loaded_yields_and_converts():
    """loaded() passes batches through and turns a worker's failure into the one line."""

    def batches():
        yield 1
        raise RuntimeError(CAUGHT.format(kind="dltool.errors.DltoolError", message="bad b.png"))

    got = []
    with pytest.raises(DltoolError, match="bad b.png"):
        for batch in loaded(batches(), "h"):
            got.append(batch)
    assert got == [1]
