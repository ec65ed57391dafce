"""The Face Recognition assignment's functions under the course's names (NumPy in, NumPy out).

Each function is a thin translation onto dltool's one implementation: the triplet loss of
:mod:`dltool_facerec.triplet` and the distance matching of :mod:`dltool_facerec.match`. It keeps
the course's names, argument order and return values; ``database`` is the course's dict
``{name: encoding (1, 128)}`` and ``model`` stands for the course's ``img_to_encoding(image_path,
model)``: a callable that takes ``image_path`` and returns its encoding (``None``: ``image_path``
is already the encoding).
"""

from __future__ import annotations

import numpy as np

from dltool_facerec import match as _match
from dltool_facerec import triplet as _triplet

THRESHOLD = 0.7  # the course's distance threshold in verify and who_is_it


def triplet_loss(y_true, y_pred, alpha=0.2):
    """Return J = Σᵢ max(‖f(Aᵢ) − f(Pᵢ)‖² − ‖f(Aᵢ) − f(Nᵢ)‖² + α, 0), summed as the course does.

    ``y_pred`` is the course's list ``[anchor, positive, negative]`` of (m, 128) encodings;
    ``y_true`` is unused, as in the course (Keras's loss signature).
    """
    anchor, positive, negative = (np.atleast_2d(np.asarray(e, dtype=float)) for e in y_pred)
    return _triplet.triplet_loss(anchor, positive, negative, alpha)


def _encoding(image_path, model):
    """Return the encoding of ``image_path`` as a (1, d) row: model(image_path), or itself."""
    encoding = image_path if model is None else model(image_path)
    return np.asarray(encoding, dtype=float).reshape(1, -1)


def verify(image_path, identity, database, model):
    """Return (dist, door_open): dist = ‖f(img) − database[identity]‖, door open when dist < 0.7.

    Prints the course's message ("It's <identity>, welcome in!" or "It's not <identity>, please
    go away").
    """
    known = np.asarray(database[identity], dtype=float).reshape(1, -1)
    door_open, dist = _match.verify(_encoding(image_path, model)[0], known, THRESHOLD)
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
    names = list(database)
    E = np.concatenate([np.asarray(database[n], dtype=float).reshape(1, -1) for n in names])
    ((identity, min_dist),) = _match.identify(_encoding(image_path, model), E, names, np.inf)
    if min_dist > THRESHOLD:
        print("Not in the database.")
    else:
        print("it's " + str(identity) + ", the distance is " + str(min_dist))
    return min_dist, identity
