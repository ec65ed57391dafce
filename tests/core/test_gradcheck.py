"""Gradient checking on functions with known gradients."""

import numpy as np

from dltool.nn.gradcheck import (
    band,
    dictionary_to_vector,
    gradient_check,
    relative_difference,
    vector_to_dictionary,
)


def test_vector_round_trip():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=(3, 1)), "c": np.float64(2.0)}
    theta, layout = dictionary_to_vector(params)
    assert theta.shape == (3 * 2 + 3 + 1, 1)
    back = vector_to_dictionary(theta, layout)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


def test_quadratic_form_gradient_passes_and_wrong_one_fails():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    params = {"W": rng.normal(size=(4, 3))}

    def cost(p):
        return float(np.sum((a @ p["W"]) ** 2))

    right = {"dW": 2 * a.T @ a @ params["W"]}
    result = gradient_check(cost, params, right)
    assert result.difference < 1e-7 and result.verdict == "excellent"
    wrong = {"dW": right["dW"] * 1.01}
    assert gradient_check(cost, params, wrong).difference > 1e-3


def test_relative_difference_and_bands():
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_difference(np.array([1.0]), np.array([-1.0])) == 1.0
    assert [band(x) for x in (1e-9, 1e-6, 1e-4, 1e-2)] == ["excellent", "ok", "suspicious", "wrong"]
