"""Atomic file writes: write to a temporary file beside the target, then rename.

An interrupted command therefore never leaves a half-written output, cache entry or
checkpoint: readers see either the old file or the complete new one. What the rename
must not replace is handled apart:

* a symlink is followed: its target is replaced atomically, the link stays;
* a FIFO or a character device (``/dev/stdout``, ``/dev/null``) is written through:
  opened and written once the output is complete, never replaced; sockets and block
  devices are refused;
* an existing file keeps its mode (a 0600 file stays 0600); a new file gets
  ``0666 & ~umask``, or 0600 with ``private=True`` (face data and the like).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dltool.errors import DltoolError

# errors of writing the temporary file that the user fixes (space, quota, read-only disk)
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)
_HINT = "choose another output path, or check the folder exists, is writable and has space"


def _default_mode() -> int:
    """Return the mode a newly created file gets here: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _cannot_write(dest: Path, exc: OSError) -> DltoolError:
    """Return the one-line error for an OSError met while writing ``dest``."""
    return DltoolError(f"cannot write {dest}: {exc.strerror or exc}", hint=_HINT)


def _special(dest: Path, st: os.stat_result) -> bool:
    """Return True for a target written through (FIFO, character device); refuse the others."""
    if stat.S_ISDIR(st.st_mode):
        raise DltoolError(f"{dest} is a directory", hint="give a file path")
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return True
    if not stat.S_ISREG(st.st_mode):
        kind = "socket" if stat.S_ISSOCK(st.st_mode) else "block device"
        raise DltoolError(f"{dest} is a {kind}, not a file", hint="give a file path")
    return False


def _mode_for(target: Path, st: os.stat_result | None, private: bool) -> int:
    """Return the mode the written file gets: the existing file's, else the default."""
    if st is not None:
        return stat.S_IMODE(st.st_mode)
    return 0o600 if private else _default_mode()


def _write_through(tmp: Path, target: Path) -> None:
    """Copy the finished ``tmp`` into the special file ``target`` (opened, not replaced)."""
    with open(tmp, "rb") as src, open(target, "wb") as out:
        shutil.copyfileobj(src, out)


def _install(tmp: Path, target: Path, st: os.stat_result | None, private: bool) -> None:
    """Give ``tmp`` the target's mode (and owner, where allowed), then rename it over ``target``."""
    os.chmod(tmp, _mode_for(target, st, private))
    if st is not None:
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, target)


def _temp_beside(folder: Path, name: str, dest: Path) -> Path:
    """Create an empty 0600 temporary file in ``folder`` (a folder that cannot hold one: error)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _cannot_write(dest, exc) from exc
    os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success move it to ``dest``, on failure delete it.

    ``dest`` is checked before any work is done: a directory, socket or block device is
    refused, a symlink is followed, a FIFO or character device is written through.
    """
    dest = Path(dest)
    target = Path(os.path.realpath(dest))
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a path through a file: not a directory
        raise _cannot_write(dest, exc) from exc
    through = st is not None and _special(dest, st)
    folder = Path(tempfile.gettempdir()) if through else target.parent
    tmp_path = _temp_beside(folder, target.name, dest)
    try:
        try:
            yield tmp_path
        except OSError as exc:
            if exc.errno in _FULL:
                raise _cannot_write(dest, exc) from exc
            raise
        try:
            if through:
                _write_through(tmp_path, target)
            else:
                _install(tmp_path, target, st, private)
        except OSError as exc:
            raise _cannot_write(dest, exc) from exc
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(dest: str | os.PathLike, data: bytes, private: bool = False) -> Path:
    """Write ``data`` to ``dest`` atomically and return the path (0600 when new and ``private``)."""
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
