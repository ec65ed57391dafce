"""Atomic writes never replace what they should not: FIFOs, devices, symlinks, a file's mode."""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from dltool import atomic
from dltool.errors import DltoolError


def test_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic.write_bytes(fifo, b"through the pipe")
    reader.join(timeout=10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_character_device_is_written_through():
    before = os.stat("/dev/null")
    atomic.write_text("/dev/null", "discarded")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_symlink_is_followed_and_stays(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic.write_text(link, "new")
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text() == "new"


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    atomic.write_text(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "made.txt").read_text() == "new"


def test_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "faces.json"
    target.write_text("old")
    target.chmod(0o600)
    atomic.write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o640)
    atomic.write_text(target, "newer", private=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_files_get_umask_mode_or_0600_when_private(tmp_path):
    umask = os.umask(0o027)
    try:
        plain = atomic.write_text(tmp_path / "a.txt", "x")
        private = atomic.write_text(tmp_path / "b.txt", "x", private=True)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o640
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(DltoolError, match="is a socket"):
            atomic.write_text(path, "x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_a_user_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DltoolError, match="cannot write .*out.txt: Permission denied") as err:
            atomic.write_text(folder / "out.txt", "x")
    finally:
        folder.chmod(0o700)
    assert err.value.hint


def test_unwritable_folder_is_a_user_error_even_for_root(tmp_path, monkeypatch):
    import errno
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(DltoolError, match="cannot write .*out.txt: Permission denied"):
        atomic.write_text(tmp_path / "out.txt", "x")


def test_path_through_a_file_is_a_user_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DltoolError, match="cannot write .*out.txt: Not a directory"):
        atomic.write_text(tmp_path / "file" / "out.txt", "x")


def test_full_disk_while_writing_is_a_user_error(tmp_path):
    import errno

    with pytest.raises(DltoolError, match="No space left"), atomic.atomic_path(tmp_path / "o"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []
