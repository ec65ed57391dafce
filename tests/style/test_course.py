"""dltool_style.course: the course's functions against today's implementation (randomized
shapes) and the course's published total_cost output.

Published value: the Art Generation notebook's expected output "J = 35.34667875478276" for
np.random.seed(3) (several public copies of the notebook, found by exact-string search of the
code index; the index did not name their repositories).
"""

from __future__ import annotations

import numpy as np
import pytest
from dltool_style import cost, course
from dltool_support import caught_in_a_notebook, raises_one_line

from dltool.errors import ParameterError, ShapeError


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_functions_are_the_internals(seed):
    rng = np.random.default_rng(seed)
    n_H, n_W, n_C = (int(v) for v in rng.integers(1, 6, size=3))
    outs = [[rng.standard_normal((1, n_H, n_W, n_C)) for _ in range(4)] for _ in range(2)]
    style, generated = outs
    assert course.compute_content_cost(style, generated) == cost.compute_content_cost(
        style[-1], generated[-1]
    )
    A = rng.standard_normal((n_C, n_H * n_W))
    np.testing.assert_array_equal(course.gram_matrix(A), cost.gram_matrix(A))
    assert course.compute_layer_style_cost(style[0], generated[0]) == pytest.approx(
        cost.compute_layer_style_cost(style[0], generated[0]), rel=1e-15
    )
    layers = [("l1", 0.5), ("l2", 0.3), ("l3", 0.2)]
    want = sum(
        w * cost.compute_layer_style_cost(s, g)
        for (_, w), s, g in zip(layers, style[:-1], generated[:-1], strict=True)
    )
    assert course.compute_style_cost(style, generated, layers) == pytest.approx(want, rel=1e-12)
    # the course zips outputs with STYLE_LAYERS: fewer layers use only the first outputs
    assert course.compute_style_cost(style, generated, layers[:1]) == pytest.approx(
        0.5 * cost.compute_layer_style_cost(style[0], generated[0]), rel=1e-12
    )


def test_total_cost_course_expected_output():
    np.random.seed(3)
    J_content = np.random.randn()  # noqa: N806
    J_style = np.random.randn()  # noqa: N806
    assert course.total_cost(J_content, J_style) == pytest.approx(35.34667875478276, rel=1e-12)
    assert course.total_cost(2.0, 3.0, alpha=1, beta=2) == 8.0


_a = np.zeros((1, 3, 4, 2))

BAD = [
    (
        lambda: course.compute_content_cost([_a], [np.zeros((3, 4, 2))]),
        ShapeError,
        "compute_content_cost: a_G must be (1, n_H, n_W, n_C), got (3, 4, 2)",
    ),
    (
        lambda: course.compute_content_cost([_a], [_a, _a]),
        ShapeError,
        "compute_content_cost: generated_output must have 1 outputs as content_output, got 2",
    ),
    (
        lambda: course.gram_matrix(np.zeros((2, 3, 4))),
        ShapeError,
        "gram_matrix: A must be (n_C, n_H*n_W), got (2, 3, 4)",
    ),
    (
        lambda: course.compute_layer_style_cost(_a, np.zeros((1, 3, 5, 2))),
        ShapeError,
        "compute_layer_style_cost: a_G must be (1, n_H, n_W, n_C) with n_W = 4, got (1, 3, 5, 2)",
    ),
    (
        lambda: course.compute_style_cost([_a], [_a]),
        ShapeError,
        "compute_style_cost: style_image_output must be a list of ≥ 2 layer outputs, got 1 items",
    ),
    (
        lambda: course.compute_style_cost([_a, _a], [_a, _a], [("l1", -0.5)]),
        ParameterError,
        "compute_style_cost: STYLE_LAYERS[0]'s weight must be a number in [0, inf), got -0.5",
    ),
    (
        lambda: course.total_cost(1.0, 2.0, alpha=-10),
        ParameterError,
        "total_cost: alpha must be a number in [0, inf), got -10",
    ),
    (
        lambda: course.total_cost(float("nan"), 2.0),
        ParameterError,
        "total_cost: J_content must be a number in (-inf, inf), got nan",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
