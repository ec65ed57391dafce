"""The Face Recognition assignment's functions under the course's names (NumPy in, NumPy out).

Each function is a thin translation onto dltool's one implementation: the triplet loss of
:mod:`dltool_facerec.triplet` and the distance matching of :mod:`dltool_facerec.match`. It keeps
the course's names, argument order and return values; ``database`` is the course's dict ``{name:
encoding (1, 128)}`` and ``model`` stands for the course's ``img_to_encoding(image_path,
model)``: a callable that takes ``image_path`` and returns its encoding (``None``:
``image_path`` is already the encoding). Inputs are checked at the boundary, in one line naming
the function, the argument and the expected layout or range: a wrong shape raises
:class:`ShapeError`, a non-finite α :class:`ParameterError`, a name missing from ``database``
:class:`MissingKeyError`; all three are :class:`~dltool.errors.DltoolError` (and ValueError or
KeyError) with a hint.
"""

from __future__ import annotations

import numpy as np

from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_keys,
    check_range,
    check_shape,
    check_tuple,
)
from dltool_facerec import match as _match
from dltool_facerec import triplet as _triplet

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "triplet_loss",
    "verify",
    "who_is_it",
]

THRESHOLD = 0.7  # the course's distance threshold in verify and who_is_it


def triplet_loss(y_true, y_pred, alpha=0.2):
    """Return J = Σᵢ max(‖f(Aᵢ) − f(Pᵢ)‖² − ‖f(Aᵢ) − f(Nᵢ)‖² + α, 0), summed as the course does.

    ``y_pred`` is the course's list ``[anchor, positive, negative]`` of (m, 128) encodings;
    ``y_true`` is unused, as in the course (Keras's loss signature).
    """
    func = "triplet_loss"
    y_pred = check_tuple(func, "y_pred", y_pred, "(anchor, positive, negative)")
    anchor, positive, negative = (np.atleast_2d(np.asarray(e, dtype=float)) for e in y_pred)
    sizes = check_shape(func, "anchor", anchor, "(m, d)")
    check_shape(func, "positive", positive, "(m, d)", dims=sizes)
    check_shape(func, "negative", negative, "(m, d)", dims=sizes)
    check_range(func, "alpha", alpha, "(-inf, inf)")  # the course's tests pass α = −2 too
    return _triplet.triplet_loss(anchor, positive, negative, alpha)


def _encoding(func: str, image_path, model):
    """Return the encoding of ``image_path`` as a (1, d) row: model(image_path), or itself."""
    encoding = image_path if model is None else model(image_path)
    check_shape(func, "the encoding", encoding, "(..., d)")
    return np.asarray(encoding, dtype=float).reshape(1, -1)


def verify(image_path, identity, database, model):
    """Return (dist, door_open): dist = ‖f(img) − database[identity]‖, door open when dist < 0.7.

    Prints the course's message ("It's <identity>, welcome in!" or "It's not <identity>, please
    go away").
    """
    check_keys("verify", "database", database, [identity])
    known = np.asarray(database[identity], dtype=float).reshape(1, -1)
    encoding = _encoding("verify", image_path, model)
    _same_size("verify", encoding, known, f"database[{identity!r}]")
    door_open, dist = _match.verify(encoding[0], known, THRESHOLD)
    if door_open:
        print("It's " + str(identity) + ", welcome in!")
    else:
        print("It's not " + str(identity) + ", please go away")
    return dist, door_open


def who_is_it(image_path, database, model):
    """Return (min_dist, identity): the nearest name in ``database`` and its distance ‖f(img) − e‖.

    As in the course, the nearest name is returned even when min_dist > 0.7 (then it prints
    "Not in the database."); the internals call such a face "unknown".
    """
    check_keys("who_is_it", "database", database, [])
    names = list(database)
    if not names:
        raise ParameterError("who_is_it: database must hold at least one name, got none")
    encoding = _encoding("who_is_it", image_path, model)
    rows = [np.asarray(database[n], dtype=float).reshape(1, -1) for n in names]
    for name, row in zip(names, rows, strict=True):
        _same_size("who_is_it", encoding, row, f"database[{name!r}]")
    ((identity, min_dist),) = _match.identify(encoding, np.concatenate(rows), names, np.inf)
    if min_dist > THRESHOLD:
        print("Not in the database.")
    else:
        print("it's " + str(identity) + ", the distance is " + str(min_dist))
    return min_dist, identity


def _same_size(func: str, encoding, known, name: str) -> None:
    """Raise ShapeError unless the encoding and a database entry have the same size d."""
    if encoding.shape[1] != known.shape[1]:
        d = encoding.shape[1]
        raise ShapeError(
            f"{func}: {name} must be (1, d) with d = {d} as the encoding, got {known.shape}"
        )
