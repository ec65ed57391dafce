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


# ---------------------------------------------------------------- errors a notebook can catch
#
# The course modules (``dltool_<plugin>.course``) check their inputs at the boundary and raise
# one of these: each is a DltoolError (one line plus a hint, as the CLI prints them) and the
# built-in type a NumPy user expects (ValueError, KeyError), so ``except DltoolError`` and
# ``except ValueError`` both catch them. This module imports no NumPy: the checks read
# ``array.shape`` and import NumPy only for a nested list.


class ShapeError(DltoolError, ValueError):
    """An array whose shape is not the layout a function expects, e.g. (m, n_H, n_W, n_C)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message, hint or "reshape or transpose it to the layout named above")


class ParameterError(DltoolError, ValueError):
    """A hyperparameter outside its range, e.g. keep_prob not in (0, 1] or a negative α."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message, hint or "pass a value in the range named above")


class MissingKeyError(DltoolError, KeyError):
    """A dictionary without a key a function needs, e.g. parameters without W{l} or b{l}."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message, hint or "pass the dictionary the course's function returns")

    def __str__(self) -> str:
        return self.message  # KeyError would quote it


def _shape_of(func: str, name: str, array) -> tuple:
    """Return ``array.shape``, NumPy's shape of a nested list, or raise ShapeError if ragged."""
    shape = getattr(array, "shape", None)
    if isinstance(shape, tuple):
        return shape
    import numpy as np  # only for lists and scalars: importing errors stays light

    try:
        return np.shape(array)
    except ValueError:  # a ragged nested list
        raise ShapeError(f"{func}: {name} must be an array, got a ragged sequence") from None


def _symbols(layout: str) -> list[str]:
    """Return the axis names of a layout such as ``(n_{l-1}, m)``: ``["n_{l-1}", "m"]``."""
    inner = layout.strip()[1:-1].strip().rstrip(",")
    return [s.strip() for s in inner.split(",")] if inner else []


def check_shape(
    func: str, name: str, array, layout: str, ndim: int | None = None, dims: dict | None = None
) -> dict:
    """Raise ShapeError unless ``array`` has ``layout``; return each axis name's size.

    ``layout`` names the axes, e.g. ``"(n_l, n_{l-1})"``: an integer axis (``"(1, m)"``) must
    have that size, a name repeated (``"(f, f, n_C_prev, n_C)"``) the same size, a leading
    ``...`` (``"(..., 4)"``) stands for any number of axes, and a name
    in ``dims`` the size given there (pass the dict a previous call returned to tie two
    arguments together). ``ndim`` overrides the number of axes (default: the layout's). The
    message is one line: ``conv_forward: A_prev must be (m, n_H, n_W, n_C), got (3, 4)``.
    """
    shape = tuple(int(s) for s in _shape_of(func, name, array))
    symbols = _symbols(layout)
    leading = bool(symbols) and symbols[0] == "..."  # "(..., 4)": any leading axes
    symbols = symbols[1:] if leading else symbols
    expected = len(symbols) if ndim is None else ndim
    got = f"got {shape}"
    if len(shape) < expected if leading else len(shape) != expected:
        raise ShapeError(f"{func}: {name} must be {layout}, {got}")
    sizes = dict(dims or {})
    for symbol, size in zip(symbols, shape[max(len(shape) - len(symbols), 0) :], strict=False):
        want = int(symbol) if symbol.isdigit() else sizes.setdefault(symbol, size)
        if size != want:
            where = "" if symbol.isdigit() else f" with {symbol} = {want}"
            raise ShapeError(f"{func}: {name} must be {layout}{where}, {got}")
    return sizes


def _shown(value) -> str:
    """Return ``value`` as a message shows it: strings quoted, numbers plain (3, not int64(3))."""
    return repr(value) if isinstance(value, str) or value is None else str(value)


def _interval(text: str) -> tuple[float, float, bool, bool]:
    """Return (low, high, low_closed, high_closed) of an interval such as ``"(0, 1]"``."""
    low, high = (float(part) for part in text.strip()[1:-1].split(","))
    return low, high, text.strip()[0] == "[", text.strip()[-1] == "]"


def check_range(func: str, name: str, value, interval: str, integer: bool = False):
    """Raise ParameterError unless ``value`` is a (finite, integer) number in ``interval``.

    ``interval`` is written as in mathematics: ``"(0, 1]"``, ``"[0, inf)"``. Returns ``value``.
    """
    kind = "an integer" if integer else "a number"
    message = f"{func}: {name} must be {kind} in {interval}, got {_shown(value)}"
    try:
        number = float(value) if not isinstance(value, (bool, str)) else None
    except (TypeError, ValueError):  # an array of several numbers, a complex…
        number = None
    if number is None:
        raise ParameterError(message)
    if integer and not (number.is_integer() and hasattr(value, "__index__")):
        raise ParameterError(message)
    low, high, low_closed, high_closed = _interval(interval)
    above = number >= low if low_closed else number > low
    below = number <= high if high_closed else number < high
    if not (above and below) or number != number or abs(number) == float("inf"):
        raise ParameterError(message)
    return value


def check_choice(func: str, name: str, value, choices) -> str:
    """Raise ParameterError unless ``value`` is one of ``choices``; return it."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{func}: {name} must be one of {listed}, got {_shown(value)}")
    return value


def check_keys(func: str, name: str, mapping, keys) -> None:
    """Raise MissingKeyError unless ``mapping`` is a dict holding every key of ``keys``."""
    if not hasattr(mapping, "keys"):
        raise ParameterError(f"{func}: {name} must be a dict, got {type(mapping).__name__}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        shown = (k if isinstance(k, str) and k.isprintable() and k else repr(k) for k in missing)
        raise MissingKeyError(f"{func}: {name} has no {', '.join(shown)}")


def check_tuple(func: str, name: str, value, layout: str) -> tuple:
    """Raise ShapeError unless ``value`` is a tuple or list with the items ``layout`` names.

    E.g. ``check_tuple("conv_backward", "cache", cache, "(A_prev, W, b, hparameters)")``.
    """
    count = len(_symbols(layout))
    if not isinstance(value, (tuple, list)) or len(value) != count:
        got = f"{len(value)} items" if isinstance(value, (tuple, list)) else type(value).__name__
        raise ShapeError(f"{func}: {name} must be {layout}, got {got}")
    return tuple(value)
