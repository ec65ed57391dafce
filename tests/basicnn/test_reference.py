"""NumPy reference: activations, losses, initializers, logistic regression, gradient checks."""

import warnings

import numpy as np
import pytest
from dltool_basicnn import logreg

from dltool.nn import activations as act
from dltool.nn import gradcheck, init, losses, network


def test_activations_known_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(act.sigmoid(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(act.relu(z), [[0, 0, 3]])
    np.testing.assert_allclose(act.leaky_relu(z), [[-0.02, 0, 3]])
    np.testing.assert_allclose(act.tanh_derivative(z), 1 - np.tanh(z) ** 2)
    np.testing.assert_allclose(act.sigmoid_derivative(np.zeros((1, 1))), [[0.25]])
    np.testing.assert_allclose(act.relu_derivative(z), [[0, 0, 1]])
    np.testing.assert_allclose(act.leaky_relu_derivative(z), [[0.01, 0.01, 1]])


def test_activations_stable_for_large_inputs():
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = act.sigmoid(z)
        d = act.sigmoid_derivative(z)
        sm = act.softmax(np.array([[1e4, -1e4], [0.0, 1e4], [-1e4, 0.0]]))
        t = act.tanh(z)
    np.testing.assert_allclose(s[0, [0, 2, 4]], [0.0, 0.5, 1.0])
    assert np.all(np.isfinite(d)) and np.all(np.isfinite(t))
    np.testing.assert_allclose(sm.sum(axis=0), [1.0, 1.0])
    np.testing.assert_allclose(sm[:, 0], [1.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_derivatives_match_central_differences(name):
    rng = np.random.RandomState(0)
    z = rng.randn(3, 7)
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the ReLU kink
    eps = 1e-6
    f = act.activation(name)
    approx = (f(z + eps) - f(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.derivative(name)(z), approx, rtol=1e-6, atol=1e-8)


def test_softmax_jacobian_and_backward():
    rng = np.random.RandomState(1)
    z = rng.randn(4)
    eps = 1e-6
    J = np.stack(
        [
            (act.softmax((z + eps * e)[:, None]) - act.softmax((z - eps * e)[:, None]))[:, 0] / 2e-6
            for e in np.eye(4)
        ],
        axis=1,
    )
    np.testing.assert_allclose(act.softmax_jacobian(z), J, atol=1e-8)
    dA = rng.randn(4, 1)
    A = act.softmax(z[:, None])
    np.testing.assert_allclose(act.softmax_backward(dA, A), act.softmax_jacobian(z).T @ dA)


def test_cross_entropy_logit_forms_agree():
    rng = np.random.RandomState(2)
    Z = rng.randn(1, 9) * 3
    Y = (rng.rand(1, 9) > 0.5).astype(float)
    assert losses.binary_cross_entropy_with_logits(Z, Y) == pytest.approx(
        losses.binary_cross_entropy(act.sigmoid(Z), Y), rel=1e-12
    )
    Z3 = rng.randn(3, 9) * 3
    Y3 = losses.one_hot(rng.randint(0, 3, 9), 3)
    assert losses.categorical_cross_entropy_with_logits(Z3, Y3) == pytest.approx(
        losses.categorical_cross_entropy(act.softmax(Z3), Y3), rel=1e-12
    )
    assert np.isfinite(losses.binary_cross_entropy_with_logits(np.array([[1e4]]), np.zeros((1, 1))))


def test_initializers_scale_and_draw_order():
    dims = [500, 400, 3]
    np.random.seed(3)
    he = init.initialize_parameters(dims, "he")
    assert he["W1"].shape == (400, 500) and he["b1"].shape == (400, 1) and not he["b1"].any()
    assert np.std(he["W1"]) == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    np.random.seed(3)
    xa = init.initialize_parameters(dims, "xavier")
    np.testing.assert_allclose(xa["W2"], he["W2"] * np.sqrt(1 / 400) / np.sqrt(2 / 400))
    np.random.seed(3)
    w1 = np.random.randn(400, 500)
    np.testing.assert_allclose(he["W1"], w1 * np.sqrt(2 / 500))
    assert not init.initialize_parameters(dims, "zeros")["W2"].any()
    np.random.seed(3)
    r = init.initialize_parameters(dims, "random", scale=10)
    np.testing.assert_allclose(r["W1"], w1 * 10)


def test_logreg_gradients_and_learning():
    rng = np.random.RandomState(4)
    X = rng.randn(3, 40)
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(float)
    w, b = rng.randn(3, 1), 0.3
    grads, cost = logreg.propagate(w, b, X, Y)
    res = gradcheck.gradient_check(
        lambda p: logreg.propagate(p["w"], p["b"], X, Y)[1],
        {"w": w, "b": np.array(b)},
        {"dw": grads["dw"], "db": np.array(grads["db"])},
    )
    assert res.difference < 1e-7
    w, b, costs = logreg.optimize(*logreg.initialize_with_zeros(3), X, Y, 300, 0.5)
    assert costs[0] == pytest.approx(np.log(2)) and costs[-1] < 0.2
    assert np.mean(logreg.predict(w, b, X) == Y[0]) > 0.95


def _check(dims, hidden="relu", lambd=0.0, keep_prob=1.0, seed=0, broken=False):
    np.random.seed(seed)
    m = 6
    X = np.random.randn(dims[0], m)
    labels = np.random.randint(0, max(dims[-1], 2), m)
    Y = network.targets(labels, dims[-1])
    params = init.initialize_parameters(dims, "xavier")
    masks = network.draw_masks(dims, m, keep_prob) if keep_prob < 1 else None

    def cost(p):
        ZL, _ = network.forward(X, p, hidden, keep_prob, masks)
        return network.compute_cost(ZL, Y, p, lambd)

    ZL, caches = network.forward(X, params, hidden, keep_prob, masks)
    grads = network.backward(ZL, Y, caches, hidden, keep_prob, lambd, broken=broken)
    return gradcheck.gradient_check(cost, params, grads)


@pytest.mark.parametrize(
    "dims,hidden,lambd,keep_prob",
    [
        ([4, 5, 3, 1], "relu", 0.0, 1.0),
        ([3, 4, 1], "tanh", 0.7, 1.0),
        ([5, 4, 3], "sigmoid", 0.0, 0.7),
        ([4, 6, 5, 4], "leaky_relu", 0.3, 0.8),
    ],
)
def test_network_backward_passes_gradient_check(dims, hidden, lambd, keep_prob):
    res = _check(dims, hidden, lambd, keep_prob)
    assert res.difference < 1e-7, res.per_parameter
    assert res.verdict == "excellent"


def test_broken_backprop_is_detected():
    res = _check([4, 5, 3, 1], "tanh", broken=True)
    assert res.verdict == "wrong"
    assert res.per_parameter["W1"] > 1e-3 and res.per_parameter["W2"] < 1e-7


def test_dropout_mask_draw_order_and_scaling():
    dims = [3, 4, 2, 1]
    X = np.ones((3, 5))
    np.random.seed(7)
    params = init.initialize_parameters(dims, "he")
    np.random.seed(11)
    ZL, caches = network.forward(X, params, "relu", keep_prob=0.6)
    np.random.seed(11)
    D1, D2 = np.random.rand(4, 5) < 0.6, np.random.rand(2, 5) < 0.6
    np.testing.assert_array_equal(caches[0]["D"], D1)
    np.testing.assert_array_equal(caches[1]["D"], D2)
    A1 = np.maximum(params["W1"] @ X + params["b1"], 0) * D1 / 0.6
    np.testing.assert_allclose(caches[1]["A_prev"], A1)


def test_training_reduces_cost_and_predicts():
    rng = np.random.RandomState(5)
    X = rng.randn(2, 200)
    labels = (X[0] * X[1] > 0).astype(int)  # XOR-like: needs a hidden layer
    Y = network.targets(labels, 1)
    np.random.seed(1)
    params = init.initialize_parameters([2, 8, 1], "he")
    first = None
    for _ in range(1500):
        ZL, caches = network.forward(X, params)
        first = first if first is not None else network.compute_cost(ZL, Y)
        network.update_parameters(params, network.backward(ZL, Y, caches), 0.5)
    assert network.compute_cost(network.forward(X, params)[0], Y) < first / 3
    assert network.accuracy(X, labels, params, "relu") > 0.9
