"""User-facing errors and exit codes.

A ``DltoolError`` is something the user can fix: it is printed as one line plus an
optional hint and the process exits with ``EXIT_USER``. Anything else is a bug and
shows a traceback only with ``--debug``. ``env_flag`` reads the switches that change
this (``DLTOOL_DEBUG``, ``DLTOOL_STRICT_PLUGINS``).
"""

from __future__ import annotations

import os
import re
import sys

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class DltoolError(Exception):
    """An error caused by the user's input, printed as one line plus a hint."""

    exit_code = EXIT_USER

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Return ``text`` with control characters (escape sequences too) shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def print_error(message: str, hint: str | None = None) -> None:
    """Write ``error: message`` (and ``hint: …``) to stderr, control characters escaped."""
    sys.stderr.write(f"error: {printable(message)}\n")
    if hint:
        sys.stderr.write(f"hint: {printable(hint)}\n")
    sys.stderr.flush()


TRUE_WORDS = ("1", "true", "yes", "on")


def env_flag(name: str) -> bool:
    """Return True when environment variable ``name`` is 1, true, yes or on (any case)."""
    return os.environ.get(name, "").strip().lower() in TRUE_WORDS
