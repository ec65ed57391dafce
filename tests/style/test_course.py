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
