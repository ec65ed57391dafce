"""dltool_optimizers.course: the course's Optimization functions against dltool.nn.optimizers,
dltool.nn.schedules, dltool.data.minibatches and the course's published expected outputs."""

from __future__ import annotations

import numpy as np
import pytest
from dltool_optimizers import course
from dltool_support import caught_in_a_notebook, raises_one_line

from dltool.data import minibatches
from dltool.errors import MissingKeyError, ParameterError, ShapeError
from dltool.nn import optimizers
from dltool.nn.schedules import Schedule


def _params_and_grads(seed, dims=(4, 3, 2)):
    """Return parameters {W1, b1, …} and gradients {dW1, db1, …} drawn from RandomState(seed)."""
    rng = np.random.RandomState(seed)
    params, grads = {}, {}
    for k in range(1, len(dims)):
        params[f"W{k}"] = rng.randn(dims[k], dims[k - 1])
        params[f"b{k}"] = rng.randn(dims[k], 1)
    for key, value in params.items():
        grads["d" + key] = rng.randn(*value.shape)
    return params, grads


def _copy(d):
    return {k: v.copy() for k, v in d.items()}


@pytest.mark.parametrize("m,size,seed", [(7, 2, 0), (148, 64, 3), (10, 10, 5), (9, 4, 11)])
def test_random_mini_batches_match_the_core_and_leave_the_global_generator(m, size, seed):
    rng = np.random.RandomState(seed)
    X, Y = np.vstack([np.arange(m), rng.randn(2, m)]), (rng.rand(1, m) > 0.5)
    np.random.seed(123)
    batches = course.random_mini_batches(X, Y, size, seed)
    assert np.random.rand() == np.random.RandomState(123).rand()  # untouched
    expected = minibatches.random_mini_batches(X, Y, size, seed)
    assert len(batches) == len(expected) == -(-m // size)
    for (xb, yb), (xe, ye) in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(xb, xe)
        np.testing.assert_array_equal(yb, ye)
    order = np.concatenate([xb[0] for xb, _ in batches]).astype(int)  # row 0 is the index
    np.random.seed(seed)  # the course's own draw
    np.testing.assert_array_equal(order, np.random.permutation(m))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_momentum_and_gd_match_the_core(seed):
    params, grads = _params_and_grads(seed)
    v = course.initialize_velocity(params)
    assert set(v) == set(grads) and not any(x.any() for x in v.values())
    p1, v1 = course.update_parameters_with_momentum(_copy(params), grads, _copy(v), 0.9, 0.05)
    p2, v2 = optimizers.update_parameters_with_momentum(_copy(params), grads, _copy(v), 0.9, 0.05)
    for key in params:
        np.testing.assert_array_equal(p1[key], p2[key])
        np.testing.assert_array_equal(v1["d" + key], v2["d" + key])
    gd = course.update_parameters_with_gd(_copy(params), grads, 0.1)
    for key in params:
        np.testing.assert_allclose(gd[key], params[key] - 0.1 * grads["d" + key], rtol=1e-15)


@pytest.mark.parametrize("seed", [0, 1])
def test_adam_steps_match_the_core_optimizer(seed):
    params, _ = _params_and_grads(seed)
    v, s = course.initialize_adam(params)
    mine, core = _copy(params), _copy(params)
    opt = optimizers.Optimizer("adam", lr=0.02, beta1=0.8, beta2=0.9, eps=1e-6)
    rng = np.random.RandomState(seed + 10)
    for t in range(1, 6):
        grads = {"d" + k: rng.randn(*p.shape) for k, p in params.items()}
        mine, v, s, v_hat, s_hat = course.update_parameters_with_adam(
            mine, grads, v, s, t, 0.02, 0.8, 0.9, 1e-6
        )
        opt.step(core, grads)
        np.testing.assert_allclose(v_hat["dW1"], v["dW1"] / (1 - 0.8**t), rtol=1e-14)
        np.testing.assert_allclose(s_hat["db2"], s["db2"] / (1 - 0.9**t), rtol=1e-14)
    for key in params:
        np.testing.assert_allclose(mine[key], core[key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lr0,decay,interval", [(0.5, 1.0, 1), (0.3, 0.25, 100), (0.01, 2.0, 7)])
def test_decay_matches_the_schedules(lr0, decay, interval):
    inverse = Schedule("inverse", lr0, decay_rate=decay)
    staircase = Schedule("staircase", lr0, decay_rate=decay, interval=interval)
    for epoch in (0, 1, 6, 7, 99, 100, 1000):
        assert course.update_lr(lr0, epoch, decay) == pytest.approx(inverse.lr(epoch), rel=1e-15)
        got = course.schedule_lr_decay(lr0, epoch, decay, interval)
        assert got == pytest.approx(staircase.lr(epoch), rel=1e-15)


def test_shapes_are_checked_at_the_boundary():
    with pytest.raises(ValueError, match=r"random_mini_batches: X must be \(n_x, m\), got \(5,\)"):
        course.random_mini_batches(np.zeros(5), np.zeros((1, 5)))


_P = {"W1": np.ones((2, 3)), "b1": np.ones((2, 1))}
_G = {"dW1": np.ones((2, 3)), "db1": np.ones((2, 1))}

BAD = [
    (
        lambda: course.random_mini_batches(np.zeros((3, 5)), np.zeros((1, 4))),
        ShapeError,
        "random_mini_batches: Y must be (1, m) with m = 5, got (1, 4)",
    ),
    (
        lambda: course.random_mini_batches(np.zeros((3, 5)), np.zeros((1, 5)), 0),
        ParameterError,
        "random_mini_batches: mini_batch_size must be an integer in [1, inf), got 0",
    ),
    (
        lambda: course.update_parameters_with_gd(_P, _G, -0.1),
        ParameterError,
        "update_parameters_with_gd: learning_rate must be a number in [0, inf), got -0.1",
    ),
    (
        lambda: course.update_parameters_with_gd(_P, {"dW1": _G["dW1"]}, 0.1),
        MissingKeyError,
        "update_parameters_with_gd: grads has no db1",
    ),
    (
        lambda: course.update_parameters_with_gd(_P, dict(_G, dW1=np.ones(3)), 0.1),
        ShapeError,
        "update_parameters_with_gd: grads['dW1'] must be (2, 3) as W1, got (3,)",
    ),
    (
        lambda: course.initialize_velocity({"b1": 0}),
        MissingKeyError,
        "initialize_velocity: parameters has no W1",
    ),
    (
        lambda: course.update_parameters_with_momentum(_P, _G, dict(_G), 1.0, 0.1),
        ParameterError,
        "update_parameters_with_momentum: beta must be a number in [0, 1), got 1.0",
    ),
    (
        lambda: course.update_parameters_with_adam(_P, _G, dict(_G), dict(_G), 0),
        ParameterError,
        "update_parameters_with_adam: t must be an integer in [1, inf), got 0",
    ),
    (
        lambda: course.update_parameters_with_adam(_P, _G, dict(_G), {}, 1),
        MissingKeyError,
        "update_parameters_with_adam: s has no dW1, db1",
    ),
    (
        lambda: course.update_parameters_with_adam(_P, _G, _G, _G, 1, epsilon=0),
        ParameterError,
        "update_parameters_with_adam: epsilon must be a number in (0, inf), got 0",
    ),
    (
        lambda: course.update_lr(0.5, -1, 1),
        ParameterError,
        "update_lr: epoch_num must be an integer in [0, inf), got -1",
    ),
    (
        lambda: course.schedule_lr_decay(0.5, 10, float("inf")),
        ParameterError,
        "schedule_lr_decay: decay_rate must be a number in [0, inf), got inf",
    ),
    (
        lambda: course.schedule_lr_decay(0.5, 10, 1, time_interval=0),
        ParameterError,
        "schedule_lr_decay: time_interval must be an integer in [1, inf), got 0",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
    assert _P["W1"].tolist() == np.ones((2, 3)).tolist()  # nothing was updated


# The course's published expected outputs: public_tests.py and testCases.py of "Optimization
# Methods" (Improving Deep Neural Networks, week 2), read in the code index (read_file ids
# 1726001110 and 36648401380; the index showed no repository name for them).


def _close(actual, desired):
    """Assert equality to the 8 decimals the course prints (its np.allclose tolerance)."""
    np.testing.assert_allclose(actual, desired, rtol=0, atol=1e-8)


def test_published_random_mini_batches():
    np.random.seed(1)
    X = np.random.randn(5, 7)
    Y = np.random.randn(1, 7) < 0.5
    batches = course.random_mini_batches(X, Y, 2)
    assert [xb.shape[1] for xb, _ in batches] == [2, 2, 2, 1]
    _close(batches[0][0][:, 0], [1.74481176, -0.38405435, -1.10061918, -0.93576943, -0.67124613])
    _close(batches[1][0][0], [-0.61175641, -1.07296862])
    _close(batches[2][0][4], [-0.26788808, -0.84520564])
    _close(batches[3][0][:, 0], [0.86540763, -2.06014071, 0.04221375, -0.68372786, -0.6871727])
    assert [yb.tolist() for _, yb in batches] == [
        [[True, True]],
        [[True, False]],
        [[True, True]],
        [[False]],
    ]


def test_published_update_parameters_with_momentum():
    np.random.seed(1)
    names = [("W1", (2, 3)), ("b1", (2, 1)), ("W2", (3, 3)), ("b2", (3, 1))]
    params = {k: np.random.randn(*s) for k, s in names}
    grads = {"d" + k: np.random.randn(*s) for k, s in names}
    v = {"d" + k: np.zeros(s) for k, s in names}
    params, v = course.update_parameters_with_momentum(params, grads, v, 0.9, 0.01)
    _close(
        params["W1"],
        [[1.62544598, -0.61290114, -0.52907334], [-1.07347112, 0.86450677, -2.30085497]],
    )
    _close(params["b1"], [[1.74493465], [-0.76027113]])
    _close(params["b2"], [[-0.87809283], [0.04055394], [0.58207317]])
    _close(v["dW1"], [[-0.11006192, 0.11447237, 0.09015907], [0.05024943, 0.09008559, -0.06837279]])
    _close(v["db2"], [[0.02344157], [0.16598022], [0.07420442]])


def test_published_decay():
    assert course.update_lr(0.5, 2, 1) == pytest.approx(0.16666666666666666)
    assert course.schedule_lr_decay(0.5, 100, 1, 100) == pytest.approx(0.25)
    assert course.schedule_lr_decay(0.5, 10, 1, 100) == pytest.approx(0.5)
    assert course.schedule_lr_decay(0.3, 1000, 0.25, 100) == pytest.approx(0.085714285)
    assert course.schedule_lr_decay(0.3, 100, 0.25, 100) == pytest.approx(0.24)
