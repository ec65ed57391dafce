"""Text files for every plugin: reading them, and refusing empty, binary or undecodable input.

``decode_text`` turns each way a file can fail to be text into one DltoolError;
``check_text_head`` applies the same checks to the first 64 KB only, for corpora that are
streamed rather than read whole.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from dltool.errors import DltoolError

HEAD_BYTES = 65536


def _encoding_hint(option: str | None) -> str:
    """Return how to name another encoding: with ``option``, or by converting the file."""
    if option is None:
        return "convert it to UTF-8 text first, e.g. iconv -f latin1 -t utf-8"
    return f"give its encoding with {option}, e.g. {option} latin-1"


def decode_text(
    data: bytes,
    name: str,
    encoding: str = "utf-8",
    *,
    final: bool = True,
    option: str | None = "--encoding",
) -> str:
    """Return ``data`` decoded strictly; empty, binary or undecodable input is a DltoolError.

    ``final=False`` treats ``data`` as the start of a longer file (a character cut at the end
    is not an error); ``option`` is the command's encoding option named in hints (None: none).
    """
    if final and not data.strip():
        raise DltoolError(f"{name} is empty", hint="give a text file with some content")
    if b"\x00" in data[:HEAD_BYTES] and not encoding.lower().startswith("utf-16"):
        hint = "give a plain text file" + (
            f", or {option} utf-16 if it is UTF-16 text" if option else ""
        )
        raise DltoolError(f"{name} looks binary (it contains NUL bytes), not text", hint=hint)
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final=final)
    except LookupError as exc:
        raise DltoolError(f"unknown encoding '{encoding}'", hint="e.g. utf-8, latin-1") from exc
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1]
        raise DltoolError(
            f"{name} is not valid {encoding} text (byte {exc.start}: {bad!r})",
            hint=_encoding_hint(option),
        ) from exc


def read_bytes(path: Path, limit: int = -1) -> bytes:
    """Return the bytes of ``path`` (at most ``limit``; -1: all); read errors are DltoolErrors."""
    try:
        with open(path, "rb") as fh:
            return fh.read(limit)
    except FileNotFoundError as exc:
        raise DltoolError(f"text file {path} does not exist", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise DltoolError(
            f"{path} is a directory, not a text file", hint="give a text file inside it"
        ) from exc
    except OSError as exc:
        raise DltoolError(
            f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
        ) from exc


def read_text(path: Path, encoding: str = "utf-8", option: str | None = "--encoding") -> str:
    """Return the whole of ``path`` decoded, checked by :func:`decode_text`."""
    return decode_text(read_bytes(path), str(path), encoding, option=option)


def check_text_head(path: Path, encoding: str = "utf-8", option: str | None = None) -> None:
    """Raise unless the first HEAD_BYTES of ``path`` are non-empty text in ``encoding``."""
    head = read_bytes(path, HEAD_BYTES)
    decode_text(head, str(path), encoding, final=len(head) < HEAD_BYTES, option=option)
