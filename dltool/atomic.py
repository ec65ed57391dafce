"""Atomic file writes: write to a temporary file beside the target, then rename.

An interrupted command therefore never leaves a half-written output, cache entry or
checkpoint: readers see either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dltool.errors import DltoolError


def _default_mode() -> int:
    """Return the mode a newly created file gets here: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``dest``, on failure delete it.

    A ``dest`` that is a directory is refused before any work is done. ``private``: a new
    file is readable by its owner only (0600), for face data and the like.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise DltoolError(f"{dest} is a directory", hint="give a file path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if not private:
            os.chmod(tmp_path, _default_mode())  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(dest: str | os.PathLike, data: bytes, private: bool = False) -> Path:
    """Write ``data`` to ``dest`` atomically and return the path (0600 when ``private``)."""
    with atomic_path(dest, private) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(dest)


def write_text(dest: str | os.PathLike, text: str, private: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``dest`` atomically and return the path (0600 when ``private``)."""
    return write_bytes(dest, text.encode("utf-8"), private)


def append_line(dest: str | os.PathLike, line: str) -> None:
    """Append one line with a single ``write`` on an O_APPEND descriptor."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(dest, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
