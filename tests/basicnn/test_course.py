"""dltool_basicnn.course: the course's Basic NN functions against dltool.nn.network and the
course's published expected outputs (float64, fixed seeds)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from dltool_basicnn import course
from dltool_support import caught_in_a_notebook, raises_one_line

import dltool
from dltool.errors import DltoolError, MissingKeyError, ParameterError, ShapeError
from dltool.nn import activations as act
from dltool.nn import gradcheck as gc
from dltool.nn import init, network

SHAPES = [([4, 3, 1], 5, 0), ([6, 5, 4, 1], 7, 1), ([3, 8, 2, 3, 1], 11, 2)]


def _problem(dims, m, seed):
    """Return X (n_x, m), Y (1, m) of 0/1 labels and parameters with non-zero biases."""
    rng = np.random.RandomState(seed)
    X = rng.randn(dims[0], m)
    Y = (rng.rand(1, m) > 0.5).astype(np.float64)
    params = {}
    for k in range(1, len(dims)):
        params[f"W{k}"] = rng.randn(dims[k], dims[k - 1]) * 0.5
        params[f"b{k}"] = rng.randn(dims[k], 1) * 0.1
    return X, Y, params


def _three_layer(seed):
    """Return the course's regularization test inputs: seed, X (3, 5), Y and W1 … b3 in order."""
    np.random.seed(seed)
    X = np.random.randn(3, 5)
    Y = np.array([[1, 1, 0, 1, 0]])
    shapes = [
        ("W1", (2, 3)),
        ("b1", (2, 1)),
        ("W2", (3, 2)),
        ("b2", (3, 1)),
        ("W3", (1, 3)),
        ("b3", (1, 1)),
    ]
    return X, Y, {k: np.random.randn(*s) for k, s in shapes}


def test_activations_return_value_and_cache():
    Z = np.random.RandomState(0).randn(3, 4)
    for func, ref in ((course.sigmoid, act.sigmoid), (course.relu, act.relu)):
        A, cache = func(Z)
        np.testing.assert_array_equal(A, ref(Z))
        assert cache is Z


def test_initializers_draw_like_the_course():
    np.random.seed(3)
    two = course.initialize_parameters(3, 2, 1)
    np.random.seed(3)
    np.testing.assert_array_equal(two["W1"], np.random.randn(2, 3) * 0.01)
    np.testing.assert_array_equal(two["W2"], np.random.randn(1, 2) * 0.01)
    assert not two["b1"].any() and two["b2"].shape == (1, 1)
    np.random.seed(3)
    deep = course.initialize_parameters_deep([5, 4, 3])
    np.random.seed(3)
    expected = init.initialize_parameters([5, 4, 3], "random", 0.01)
    for key in expected:
        np.testing.assert_array_equal(deep[key], expected[key])


@pytest.mark.parametrize("dims,m,seed", SHAPES)
def test_forward_and_cost_match_the_network(dims, m, seed):
    X, Y, params = _problem(dims, m, seed)
    AL, caches = course.L_model_forward(X, params)
    ZL, net = network.forward(X, params, "relu")
    np.testing.assert_allclose(AL, act.sigmoid(ZL), rtol=1e-12)
    assert len(caches) == len(dims) - 1
    for (lin, Z), c in zip(caches, net, strict=True):
        np.testing.assert_array_equal(lin[0], c["A_prev"])
        np.testing.assert_array_equal(Z, c["Z"])
    A1, (lin1, Z1) = course.linear_activation_forward(X, params["W1"], params["b1"], "relu")
    np.testing.assert_array_equal(A1, caches[1][0][0])
    np.testing.assert_array_equal(Z1, caches[0][1])
    assert course.compute_cost(AL, Y) == pytest.approx(network.compute_cost(ZL, Y), rel=1e-10)


@pytest.mark.parametrize("dims,m,seed", SHAPES)
def test_backward_matches_the_network(dims, m, seed):
    X, Y, params = _problem(dims, m, seed)
    AL, caches = course.L_model_forward(X, params)
    grads = course.L_model_backward(AL, Y, caches)
    ZL, net = network.forward(X, params, "relu")
    expected = network.backward(ZL, Y, net, "relu")
    assert set(grads) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dims,m,seed", SHAPES)
def test_update_and_predict_match_the_network(dims, m, seed):
    X, Y, params = _problem(dims, m, seed)
    ZL, net = network.forward(X, params, "relu")
    grads = network.backward(ZL, Y, net, "relu")
    before = {k: v.copy() for k, v in params.items()}
    updated = course.update_parameters(params, grads, 0.1)
    expected = network.update_parameters({k: v.copy() for k, v in params.items()}, grads, 0.1)
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])  # the course copies
        np.testing.assert_array_equal(updated[key], expected[key])
    p = course.predict(X, Y, params)
    assert p.shape == (1, m)
    np.testing.assert_array_equal(p[0], network.predict(X, params, "relu"))


@pytest.mark.parametrize("seed", [0, 1])
def test_regularized_cost_and_backward_match_the_network(seed):
    X, Y, params = _problem([4, 5, 3, 1], 6, seed)
    ZL, net = network.forward(X, params, "relu")
    A3 = act.sigmoid(ZL)
    cost = course.compute_cost_with_regularization(A3, Y, params, 0.7)
    assert cost == pytest.approx(network.compute_cost(ZL, Y, params, 0.7), rel=1e-10)
    cache = ()
    for k, c in enumerate(net):
        A = net[k + 1]["A_prev"] if k + 1 < len(net) else A3
        cache += (c["Z"], A, c["W"], c["b"])
    grads = course.backward_propagation_with_regularization(X, Y, cache, 0.7)
    expected = network.backward(ZL, Y, net, "relu", lambd=0.7)
    for key in ("dW1", "db1", "dW2", "db2", "dW3", "db3", "dA1", "dA2"):
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_matches_the_network_with_the_mask_on_dA(seed):
    X, Y, params = _problem([4, 6, 5, 1], 8, seed)
    A3, cache = course.forward_propagation_with_dropout(X, params, keep_prob=0.6)
    np.random.seed(1)  # the course's seed, then the same draws
    ZL, net = network.forward(X, params, "relu", keep_prob=0.6)
    np.testing.assert_allclose(A3, act.sigmoid(ZL), rtol=1e-12)
    np.testing.assert_array_equal(cache[1], net[0]["D"])
    grads = course.backward_propagation_with_dropout(X, Y, cache, 0.6)
    expected = network.backward(ZL, Y, net, "relu", keep_prob=0.6)
    for key in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-10, atol=1e-14)
    for k in (1, 2):  # the course reports dA after the mask and the 1/keep_prob scaling
        masked = expected[f"dA{k}"] * net[k - 1]["D"] / 0.6
        np.testing.assert_allclose(grads[f"dA{k}"], masked, rtol=1e-10, atol=1e-14)


def test_gradient_check_n_matches_gradcheck():
    X, Y, params = _problem([4, 5, 3, 1], 6, 4)
    ZL, net = network.forward(X, params, "relu")
    grads = network.backward(ZL, Y, net, "relu")

    def cost(p):
        return network.compute_cost(network.forward(X, p, "relu")[0], Y)

    good = course.gradient_check_n(params, grads, X, Y)
    assert good == pytest.approx(gc.gradient_check(cost, params, grads).difference, rel=1e-9)
    assert good < 1e-7
    wrong = dict(grads, dW2=2 * grads["dW2"])
    assert course.gradient_check_n(params, wrong, X, Y) > 2e-7


def test_shapes_are_checked_at_the_boundary():
    with pytest.raises(ValueError, match=r"L_model_forward: X must be \(n_x, m\), got \(3,\)"):
        course.L_model_forward(np.zeros(3), {"W1": np.zeros((1, 3)), "b1": np.zeros((1, 1))})
    with pytest.raises(ValueError, match=r"^compute_cost: AL must be \(1, m\), got \(2, 3\)$"):
        course.compute_cost(np.full((2, 3), 0.5), np.ones((2, 3)))


_P = {
    "W1": np.zeros((4, 3)),
    "b1": np.zeros((4, 1)),
    "W2": np.zeros((1, 4)),
    "b2": np.zeros((1, 1)),
}
_X, _Y = np.zeros((3, 5)), np.zeros((1, 5))

BAD = [
    (
        lambda: course.linear_forward(np.zeros((3, 5)), np.zeros((4, 2)), np.zeros((4, 1))),
        ShapeError,
        r"linear_forward: A must be (n_{l-1}, m) with n_{l-1} = 2, got (3, 5)",
    ),
    (
        lambda: course.linear_forward(np.zeros((3, 5)), np.zeros((4, 3)), np.zeros((4,))),
        ShapeError,
        r"linear_forward: b must be (n_l, 1), got (4,)",
    ),
    (
        lambda: course.linear_forward(np.zeros((3, 5)), np.zeros(3), np.zeros((4, 1))),
        ShapeError,
        r"linear_forward: W must be (n_l, n_{l-1}), got (3,)",
    ),
    (
        lambda: course.linear_activation_forward(_X, _P["W1"], _P["b1"], "tanh"),
        ParameterError,
        "linear_activation_forward: activation must be one of 'sigmoid', 'relu', got 'tanh'",
    ),
    (
        lambda: course.L_model_forward(np.zeros((2, 5)), _P),
        ShapeError,
        "L_model_forward: parameters['W1'] must be (n_1, n_x) with n_x = 2, got (4, 3)",
    ),
    (
        lambda: course.L_model_forward(_X, {"W1": _P["W1"]}),
        MissingKeyError,
        "L_model_forward: parameters has no b1",
    ),
    (
        lambda: course.L_model_forward(_X, {k: v for k, v in _P.items() if k != "b2"}),
        MissingKeyError,
        "L_model_forward: parameters has no b2",
    ),
    (
        lambda: course.compute_cost(np.full((1, 5), 0.5), np.ones((1, 4))),
        ShapeError,
        "compute_cost: Y must be (1, m) with m = 5, got (1, 4)",
    ),
    (
        lambda: course.linear_backward(np.zeros((4, 6)), (_X, _P["W1"], _P["b1"])),
        ShapeError,
        "linear_backward: dZ must be (n_l, m) with m = 5, got (4, 6)",
    ),
    (
        lambda: course.linear_backward(np.zeros((4, 5)), (_X, _P["W1"])),
        ShapeError,
        "linear_backward: cache must be (A_prev, W, b), got 2 items",
    ),
    (
        lambda: course.update_parameters(_P, {}, -0.1),
        ParameterError,
        "update_parameters: learning_rate must be a number in [0, inf), got -0.1",
    ),
    (
        lambda: course.update_parameters(_P, {"dW1": 0}, 0.1),
        MissingKeyError,
        "update_parameters: grads has no db1, dW2, db2",
    ),
    (
        lambda: course.forward_propagation_with_dropout(_X, _P, keep_prob=1.5),
        ParameterError,
        "forward_propagation_with_dropout: keep_prob must be a number in (0, 1], got 1.5",
    ),
    (
        lambda: course.forward_propagation_with_dropout(_X, _P, keep_prob=0),
        ParameterError,
        "forward_propagation_with_dropout: keep_prob must be a number in (0, 1], got 0",
    ),
    (
        lambda: course.backward_propagation_with_dropout(_X, _Y, (), 0.5),
        ShapeError,
        "backward_propagation_with_dropout: cache must be (Z1, D1, A1, W1, b1, Z2, D2, A2, "
        "W2, b2, Z3, A3, W3, b3), got 0 items",
    ),
    (
        lambda: course.compute_cost_with_regularization(np.ones((1, 5)) / 2, _Y, _P, -1),
        ParameterError,
        "compute_cost_with_regularization: lambd must be a number in [0, inf), got -1",
    ),
    (
        lambda: course.gradient_check_n(_P, {}, _X, _Y, epsilon=float("nan")),
        ParameterError,
        "gradient_check_n: epsilon must be a number in (0, inf), got nan",
    ),
    (
        lambda: course.initialize_parameters_deep([3, 0, 1]),
        ParameterError,
        r"initialize_parameters_deep: layer_dims[1] must be an integer in [1, inf), got 0",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)
    assert issubclass(kind, DltoolError)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
    assert course.ShapeError is ShapeError and dltool.ShapeError is ShapeError


# The course's published expected outputs: public_tests.py of "Regularization" (Improving
# Deep Neural Networks, week 1), read in the code index (read_file id 578141449; the index
# showed no repository name for it), the same values in id 22138005701.


def test_published_compute_cost_with_regularization():
    Y = np.array([[1, 1, 0, 1, 0]])
    np.random.seed(1)  # the published test draws W1 … b3 after seed 1, without X
    shapes = [
        ("W1", (2, 3)),
        ("b1", (2, 1)),
        ("W2", (3, 2)),
        ("b2", (3, 1)),
        ("W3", (1, 3)),
        ("b3", (1, 1)),
    ]
    params = {k: np.random.randn(*s) for k, s in shapes}
    A3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    cost = course.compute_cost_with_regularization(A3, Y, params, 0.1)
    assert cost == pytest.approx(1.7864859451590758, rel=1e-7)


def test_published_backward_propagation_with_regularization():
    X, Y, p = _three_layer(1)
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = np.maximum(Z2, 0)
    Z3 = p["W3"] @ A2 + p["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    cache = (Z1, A1, p["W1"], p["b1"], Z2, A2, p["W2"], p["b2"], Z3, A3, p["W3"], p["b3"])
    grads = course.backward_propagation_with_regularization(X, Y, cache, 0.7)
    np.testing.assert_allclose(
        grads["dZ3"], [[-0.59317598, -0.98370716, 0.16722898, -0.89881889, 0.40682402]], atol=1e-7
    )
    np.testing.assert_allclose(grads["dW3"], [[-1.77691347, -0.11832879, -0.09397446]], atol=1e-7)
    np.testing.assert_allclose(grads["db3"], [[-0.38032981]], atol=1e-7)
    np.testing.assert_allclose(
        grads["dW2"],
        [[0.79276486, 0.85133918], [-0.0957219, -0.01720463], [-0.13100772, -0.03750433]],
        atol=1e-7,
    )
    np.testing.assert_allclose(grads["db2"], [[0.26135226], [0.0], [0.0]], atol=1e-7)
    np.testing.assert_allclose(
        grads["dA1"][0], [0.2048239, 0.33967447, -0.05774423, 0.31036252, -0.14047649], atol=1e-7
    )
    np.testing.assert_allclose(
        grads["dW1"],
        [[-0.25604646, 0.12298827, -0.28297129], [-0.17706303, 0.34536094, -0.4410571]],
        atol=1e-7,
    )
    np.testing.assert_allclose(grads["db1"], [[0.11845855], [0.21236874]], atol=1e-7)


def test_published_forward_propagation_with_dropout():
    X, _, params = _three_layer(1)
    A3, cache = course.forward_propagation_with_dropout(X, params, keep_prob=0.7)
    np.testing.assert_allclose(
        A3, [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]], atol=1e-8
    )
    np.testing.assert_array_equal(cache[1], [[1, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    np.testing.assert_array_equal(cache[6], [[1, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]])
    np.testing.assert_allclose(
        cache[2][1], [0.0, 5.94299915, 1.1293003, 2.09276446, 0.0], atol=1e-8
    )
    np.testing.assert_allclose(
        cache[10][0], [-0.53330145, -5.78898099, -3.04000407, -0.0126646, -0.53330145], atol=1e-8
    )
    assert len(cache) == 14


def test_published_backward_propagation_with_dropout():
    np.random.seed(1)
    X = np.random.randn(3, 5)
    Y = np.array([[1, 1, 0, 1, 0]])
    cache = (
        np.array(
            [
                [-1.52855314, 3.32524635, 2.13994541, 2.60700654, -0.75942115],
                [-1.98043538, 4.1600994, 0.79051021, 1.46493512, -0.45506242],
            ]
        ),
        np.array([[True, False, True, True, True], [True, True, True, True, False]]),
        np.array(
            [
                [0.0, 0.0, 4.27989081, 5.21401307, 0.0],
                [0.0, 8.32019881, 1.58102041, 2.92987024, 0.0],
            ]
        ),
        np.array([[-1.09989127, -0.17242821, -0.87785842], [0.04221375, 0.58281521, -1.10061918]]),
        np.array([[1.14472371], [0.90159072]]),
        np.array(
            [
                [0.53035547, 8.02565606, 4.10524802, 5.78975856, 0.53035547],
                [-0.69166075, -1.71413186, -3.81223329, -4.61667916, -0.69166075],
                [-0.39675353, -2.62563561, -4.82528105, -6.0607449, -0.39675353],
            ]
        ),
        np.array(
            [
                [True, False, True, False, True],
                [False, True, False, True, True],
                [False, False, True, False, False],
            ]
        ),
        np.array([[1.06071093, 0.0, 8.21049603, 0.0, 1.06071093], [0.0] * 5, [0.0] * 5]),
        np.array(
            [[0.50249434, 0.90085595], [-0.68372786, -0.12289023], [-0.93576943, -0.26788808]]
        ),
        np.array([[0.53035547], [-0.69166075], [-0.39675353]]),
        np.array([[-0.7415562, -0.0126646, -5.65469333, -0.0126646, -0.7415562]]),
        np.array([[0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394]]),
        np.array([[-0.6871727, -0.84520564, -0.67124613]]),
        np.array([[-0.0126646]]),
    )
    grads = course.backward_propagation_with_dropout(X, Y, cache, 0.8)
    np.testing.assert_allclose(grads["dW3"], [[-0.06951191, 0.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(grads["db3"], [[-0.2715031]], atol=1e-7)
    np.testing.assert_allclose(
        grads["dA2"][1], [0.0, 0.53159854, -0.0, 0.53159854, -0.34089673], atol=1e-7
    )
    np.testing.assert_allclose(
        grads["dW2"], [[-0.00256518, -0.0009476], [0.0, 0.0], [0.0, 0.0]], atol=1e-7
    )
    np.testing.assert_allclose(grads["db2"], [[0.06033089], [0.0], [0.0]], atol=1e-7)
    np.testing.assert_allclose(
        grads["dA1"],
        [
            [0.36544439, 0.0, -0.00188233, 0.0, -0.17408748],
            [0.65515713, 0.0, -0.00337459, 0.0, -0.0],
        ],
        atol=1e-7,
    )
    np.testing.assert_allclose(
        grads["dW1"],
        [[0.00019884, 0.00028657, 0.00012138], [0.00035647, 0.00051375, 0.00021761]],
        atol=1e-7,
    )
    np.testing.assert_allclose(grads["db1"], [[-0.00037647], [-0.00067492]], atol=1e-7)


def test_published_L_model_backward():
    # The course's "Building your Deep Neural Network: Step by Step" notebook output for
    # testCases_v3's L_model_backward_test_case (code index read_file id 21126471774).
    np.random.seed(3)
    AL, Y = np.random.randn(1, 2), np.array([[1, 0]])
    A1, W1, b1, Z1 = (np.random.randn(*s) for s in ((4, 2), (3, 4), (3, 1), (3, 2)))
    A2, W2, b2, Z2 = (np.random.randn(*s) for s in ((3, 2), (1, 3), (1, 1), (1, 2)))
    grads = course.L_model_backward(AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2)))
    dW1 = [
        [0.41010002, 0.07807203, 0.13798444, 0.10502167],
        [0.0] * 4,
        [0.05283652, 0.01005865, 0.01777766, 0.0135308],
    ]
    np.testing.assert_allclose(grads["dW1"], dW1, atol=1e-8)
    np.testing.assert_allclose(grads["db1"], [[-0.22007063], [0.0], [-0.02835349]], atol=1e-8)
    dA1 = [[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]]
    np.testing.assert_allclose(grads["dA1"], dA1, atol=1e-8)


def test_error_types_are_light_and_builtin_compatible():
    code = (
        "import sys, dltool, dltool.errors as e\n"
        "assert 'numpy' not in sys.modules\n"
        "assert issubclass(e.ShapeError, ValueError) and issubclass(e.ParameterError, ValueError)\n"
        "assert issubclass(e.MissingKeyError, KeyError)\n"
        "assert dltool.ShapeError is e.ShapeError and 'MissingKeyError' in dltool.__all__\n"
        "assert e.check_shape('f', 'x', [[1, 2, 3]], '(1, m)') == {'m': 3}\n"
        "assert 'numpy' in sys.modules  # a nested list is measured with NumPy, imported then\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(KeyError) as caught:  # the built-in type a NumPy user catches
        course.L_model_forward(np.zeros((3, 2)), {"W1": np.zeros((1, 3))})
    assert str(caught.value) == "L_model_forward: parameters has no b1"  # unquoted
    with pytest.raises(ValueError, match=r"^update_parameters: learning_rate must be a number"):
        course.update_parameters(_P, _P, float("inf"))
