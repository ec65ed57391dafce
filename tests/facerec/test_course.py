"""dltool_facerec.course: the course's functions against today's implementation (randomized
encodings); the course's verify/who_is_it threshold (0.7) and return values.

No published expected output is asserted here: the course's triplet-loss and recognition tests
draw from TensorFlow's generator or run its FaceNet model, neither reproducible in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
from dltool_facerec import course, triplet
from dltool_support import caught_in_a_notebook, raises_one_line

from dltool.errors import MissingKeyError, ParameterError, ShapeError


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_triplet_loss_is_the_internals(seed):
    rng = np.random.default_rng(seed)
    m, d = (int(v) for v in rng.integers(1, 9, size=2))
    A, P, N = rng.standard_normal((3, m, d))  # noqa: N806
    assert course.triplet_loss(None, [A, P, N], 0.3) == triplet.triplet_loss(A, P, N, 0.3)
    # one triplet given as vectors (d,), as in the course's hand-made cases
    assert course.triplet_loss(None, [A[0], P[0], N[0]]) == triplet.triplet_loss(
        A[:1], P[:1], N[:1]
    )


def test_triplet_loss_hand_cases():
    """J = Σ max(‖A − P‖² − ‖A − N‖² + α, 0) on vectors whose distances are known."""
    assert course.triplet_loss(None, ([1.0, 1.0], [1.0, 1.0], [1.0, 1.0]), 5) == 5
    assert course.triplet_loss(None, ([1.0, 1.0], [1.0, 1.0], [0.0, 0.0]), 3) == 1
    assert course.triplet_loss(None, ([1.0, 1.0], [0.0, 0.0], [1.0, 1.0]), 0) == 2
    assert course.triplet_loss(None, ([0.0, 0.0], [0.0, 0.0], [0.0, 0.0]), -2) == 0


def _database(rng, d=8):
    return {name: rng.standard_normal((1, d)) for name in ("ana", "bo", "cy")}


def test_verify_and_who_is_it(capsys):
    rng = np.random.default_rng(4)
    db = _database(rng)
    near = db["bo"][0] + 0.1 * rng.standard_normal(8)
    encode = {"near.jpg": near, "far.jpg": near + 10.0}.get  # stands for img_to_encoding
    dist, door_open = course.verify("near.jpg", "bo", db, encode)
    assert door_open and dist == pytest.approx(np.linalg.norm(near - db["bo"][0]), rel=1e-9)
    assert "It's bo, welcome in!" in capsys.readouterr().out
    dist, door_open = course.verify("far.jpg", "bo", db, encode)
    assert not door_open and dist > 0.7
    assert "It's not bo, please go away" in capsys.readouterr().out
    min_dist, identity = course.who_is_it("near.jpg", db, encode)
    assert identity == "bo"
    assert min_dist == pytest.approx(np.linalg.norm(near - db["bo"][0]), rel=1e-9)
    # beyond 0.7 the course still returns the nearest name and says so
    far = near + 10.0
    want = min(db, key=lambda n: np.linalg.norm(far - db[n][0]))
    min_dist, identity = course.who_is_it(far, db, None)
    assert identity == want and min_dist > 0.7
    assert "Not in the database." in capsys.readouterr().out


_DB = {"ana": np.zeros((1, 4)), "bo": np.ones((1, 4))}

BAD = [
    (
        lambda: course.triplet_loss(None, (np.zeros((2, 4)), np.zeros((2, 4)))),
        ShapeError,
        "triplet_loss: y_pred must be (anchor, positive, negative), got 2 items",
    ),
    (
        lambda: course.triplet_loss(None, (np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((2, 4)))),
        ShapeError,
        "triplet_loss: positive must be (m, d) with m = 2, got (3, 4)",
    ),
    (
        lambda: course.triplet_loss(None, (np.zeros((2, 4)),) * 3, float("nan")),
        ParameterError,
        "triplet_loss: alpha must be a number in (-inf, inf), got nan",
    ),
    (
        lambda: course.verify(np.zeros((1, 4)), "cy", _DB, None),
        MissingKeyError,
        "verify: database has no cy",
    ),
    (
        lambda: course.verify(np.zeros((1, 3)), "ana", _DB, None),
        ShapeError,
        "verify: database['ana'] must be (1, d) with d = 3 as the encoding, got (1, 4)",
    ),
    (
        lambda: course.who_is_it(np.zeros((1, 4)), {}, None),
        ParameterError,
        "who_is_it: database must hold at least one name, got none",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
