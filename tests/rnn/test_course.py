"""dltool_rnn.course: the course's functions against today's implementation (randomized shapes)
and against the course's published expected outputs.

Published values: a1mohamad/DeepLearning_specialization,
course5_Sequence_models/RNN_and_LSTM_step_by_step/Building_RNN_and_LSTM_step_by_step.ipynb
(rnn_cell_forward, rnn_forward) and
course5_Sequence_models/W1A2/Dinosaur_Island_language_model_and_generative_Shakespeare_poem.ipynb
(clip_test, sample_test, optimize_test), read from the notebooks' printed outputs.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from dltool_rnn import charmodel, course, lstm, rnn
from dltool_support import caught_in_a_notebook, raises_one_line

from dltool.errors import MissingKeyError, ParameterError, ShapeError

CHARS = "\nabcdefghijklmnopqrstuvwxyz"
CHAR_TO_IX = {ch: i for i, ch in enumerate(CHARS)}


def _rnn_params(rng, n_a, n_x, n_y):
    return {
        "Wax": rng.standard_normal((n_a, n_x)),
        "Waa": rng.standard_normal((n_a, n_a)),
        "Wya": rng.standard_normal((n_y, n_a)),
        "ba": rng.standard_normal((n_a, 1)),
        "by": rng.standard_normal((n_y, 1)),
    }


def _course_rnn_params():
    """The course's draw order: Waa, Wax, Wya, ba, by after x and a (np.random.seed(1))."""
    p = {}
    p["Waa"] = np.random.randn(5, 5)
    p["Wax"] = np.random.randn(5, 3)
    p["Wya"] = np.random.randn(2, 5)
    p["ba"] = np.random.randn(5, 1)
    p["by"] = np.random.randn(2, 1)
    return p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rnn_functions_are_the_internals(seed):
    rng = np.random.default_rng(seed)
    n_x, n_a, n_y, m, T = rng.integers(1, 6, size=5) + 1
    p = _rnn_params(rng, n_a, n_x, n_y)
    x, a0 = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m))
    a, y, caches = course.rnn_forward(x, a0, p)
    a_ref, y_ref, _ = rnn.rnn_forward(x, a0, p)
    np.testing.assert_array_equal(a, a_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert len(caches) == 2 and caches[1] is x and len(caches[0][0]) == 4
    da = rng.standard_normal((n_a, m, T))
    g, g_ref = course.rnn_backward(da, caches), rnn.rnn_backward(da, caches)
    assert set(g) == {"dx", "da0", "dWax", "dWaa", "dba"}
    for k in g:
        np.testing.assert_array_equal(g[k], g_ref[k])
    an, yt, cache = course.rnn_cell_forward(x[:, :, 0], a0, p)
    np.testing.assert_array_equal(an, a[:, :, 0])
    assert cache[0] is an and cache[1] is a0 and cache[3] is p  # (a_next, a_prev, xt, parameters)
    gc = course.rnn_cell_backward(da[:, :, 0], cache)
    for k, v in rnn.rnn_cell_backward(da[:, :, 0], cache).items():
        np.testing.assert_array_equal(gc[k], v)


@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_functions_are_the_internals(seed):
    rng = np.random.default_rng(seed)
    n_x, n_a, n_y, m, T = rng.integers(1, 6, size=5) + 1
    p = lstm.init_parameters(n_a, n_x, n_y, rng=rng)
    x, a0 = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m))
    a, y, c, caches = course.lstm_forward(x, a0, p)
    a_ref, y_ref, c_ref, _ = lstm.lstm_forward(x, a0, p)
    for got, ref in ((a, a_ref), (y, y_ref), (c, c_ref)):
        np.testing.assert_array_equal(got, ref)
    da = rng.standard_normal((n_a, m, T))
    g, g_ref = course.lstm_backward(da, caches), lstm.lstm_backward(da, caches)
    assert "dc0" not in g and set(g) == set(g_ref) - {"dc0"}
    for k in g:
        np.testing.assert_array_equal(g[k], g_ref[k])
    c_prev = rng.standard_normal((n_a, m))
    out = course.lstm_cell_forward(x[:, :, 0], a0, c_prev, p)
    ref = lstm.lstm_cell_forward(x[:, :, 0], a0, c_prev, p)
    for got, want in zip(out[:3], ref[:3], strict=True):
        np.testing.assert_array_equal(got, want)
    assert len(out[3]) == 10
    dc = rng.standard_normal((n_a, m))
    gc = course.lstm_cell_backward(da[:, :, 0], dc, out[3])
    for k, v in lstm.lstm_cell_backward(da[:, :, 0], dc, out[3]).items():
        np.testing.assert_array_equal(gc[k], v)


def test_rnn_cell_forward_course_expected_output():
    np.random.seed(1)
    xt, a_prev = np.random.randn(3, 10), np.random.randn(5, 10)
    a_next, yt_pred, _ = course.rnn_cell_forward(xt, a_prev, _course_rnn_params())
    np.testing.assert_allclose(
        a_next[4],
        [0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201]
        + [0.99980978, -0.18887155, 0.99815551, 0.6531151, 0.82872037],
        atol=1e-8,
    )
    np.testing.assert_allclose(
        yt_pred[1],
        [0.9888161, 0.01682021, 0.21140899, 0.36817467, 0.98988387]
        + [0.88945212, 0.36920224, 0.9966312, 0.9982559, 0.17746526],
        atol=1e-8,
    )


def test_rnn_forward_course_expected_output():
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 4), np.random.randn(5, 10)
    a, y_pred, caches = course.rnn_forward(x, a0, _course_rnn_params())
    np.testing.assert_allclose(
        a[4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267], atol=1e-8
    )
    np.testing.assert_allclose(
        y_pred[1][3], [0.79560373, 0.86224861, 0.11118257, 0.81515947], atol=1e-8
    )
    np.testing.assert_allclose(
        caches[1][1][3], [-1.1425182, -0.34934272, -0.20889423, 0.58662319], atol=1e-8
    )
    assert len(caches) == 2


def _course_gradients():
    np.random.seed(3)
    shapes = (("dWax", (5, 3)), ("dWaa", (5, 5)), ("dWya", (2, 5)), ("db", (5, 1)), ("dby", (2, 1)))
    return {k: np.random.randn(*s) * 10 for k, s in shapes}


@pytest.mark.parametrize(
    ("max_value", "expected"),
    [
        (10, (10.0, -10.0, 0.2971381536101662, 10.0, 8.45833407)),
        (5, (5.0, -5.0, 0.2971381536101662, 5.0, 5.0)),
    ],
)
def test_clip_course_expected_output(max_value, expected):
    gradients = _course_gradients()
    before = copy.deepcopy(gradients)
    g = course.clip(gradients, max_value)
    got = (g["dWaa"][1][2], g["dWax"][3][1], g["dWya"][1][2], g["db"][4][0], g["dby"][1][0])
    np.testing.assert_allclose(got, expected, atol=1e-8)
    for k in before:  # the course deep-copies: the input is left as it was
        np.testing.assert_array_equal(gradients[k], before[k])


def test_sample_course_expected_output():
    np.random.seed(24)
    n_a, vocab_size = 100, 27
    Wax, Waa = np.random.randn(n_a, vocab_size), np.random.randn(n_a, n_a)
    Wya = np.random.randn(vocab_size, n_a)
    b, by = np.random.randn(n_a, 1), np.random.randn(vocab_size, 1)
    parameters = {"Wax": Wax, "Waa": Waa, "Wya": Wya, "b": b, "by": by}
    indices = course.sample(parameters, CHAR_TO_IX, 0)
    assert indices == [
        23,
        16,
        26,
        26,
        24,
        3,
        21,
        1,
        7,
        24,
        15,
        3,
        25,
        20,
        6,
        13,
        10,
        8,
        20,
        12,
        2,
        0,
    ]


def _course_optimize_inputs():
    np.random.seed(1)
    vocab_size, n_a = 27, 100
    a_prev = np.random.randn(n_a, 1)
    Wax, Waa = np.random.randn(n_a, vocab_size), np.random.randn(n_a, n_a)
    Wya = np.random.randn(vocab_size, n_a)
    b, by = np.random.randn(n_a, 1), np.random.randn(vocab_size, 1)
    return a_prev, {"Wax": Wax, "Waa": Waa, "Wya": Wya, "b": b, "by": by}


def test_optimize_course_expected_output():
    a_prev, parameters = _course_optimize_inputs()
    old = copy.deepcopy(parameters)
    X, Y = [12, 3, 5, 11, 22, 3], [4, 14, 11, 22, 25, 26]
    loss, g, a_last = course.optimize(X, Y, a_prev, parameters, learning_rate=0.01)
    assert loss == pytest.approx(126.50397572165389, rel=1e-12)
    assert g["dWaa"][1][2] == pytest.approx(0.19470931534713587, rel=1e-9)
    assert np.argmax(g["dWax"]) == 93
    assert g["dWya"][1][2] == pytest.approx(-0.007773876032002162, rel=1e-9)
    assert g["db"][4][0] == pytest.approx(-0.06809825, abs=1e-8)
    assert g["dby"][1][0] == pytest.approx(0.01538192, abs=1e-8)
    assert a_last[4][0] == pytest.approx(-1.0, abs=1e-8)
    for k in old:  # updated in place: θ ← θ − α dθ with the clipped gradients
        np.testing.assert_allclose(parameters[k], old[k] - 0.01 * g["d" + k], atol=1e-14)


def test_optimize_is_the_char_model_summed_over_time():
    """The loss and gradients are the character model's mean ones times T_x (before clipping)."""
    rng = np.random.default_rng(5)
    n_a, vocab = 7, 27
    flat = charmodel.init_model("rnn", vocab, n_a, rng=rng)
    parameters = {
        "Wax": flat["l0.Wax"].copy(),
        "Waa": flat["l0.Waa"].copy(),
        "b": flat["l0.ba"].copy(),
        "Wya": flat["Wya"].copy(),
        "by": flat["by"].copy(),
    }
    X, Y = [None, 3, 1, 20], [3, 1, 20, 0]
    x = np.zeros((vocab, 1, 4))
    x[[3, 1, 20], 0, [1, 2, 3]] = 1
    targets = np.array([Y])
    logp, _, caches = charmodel.forward("rnn", flat, x, charmodel.initial_state("rnn", 1, n_a, 1))
    ref = charmodel.backward("rnn", flat, logp, targets, caches)
    loss, g, _ = course.optimize(X, Y, np.zeros((n_a, 1)), parameters, learning_rate=0.0)
    assert loss == pytest.approx(4 * charmodel.loss(logp, targets), rel=1e-12)
    np.testing.assert_allclose(g["dWya"], np.clip(4 * ref["dWya"], -5, 5), rtol=1e-12)
    np.testing.assert_allclose(g["db"], np.clip(4 * ref["dl0.ba"], -5, 5), rtol=1e-12)


def _rnn_parameters(n_x=3, n_a=5, n_y=2):
    """Return zero course RNN parameters Wax, Waa, Wya, ba, by."""
    return {
        "Wax": np.zeros((n_a, n_x)),
        "Waa": np.zeros((n_a, n_a)),
        "Wya": np.zeros((n_y, n_a)),
        "ba": np.zeros((n_a, 1)),
        "by": np.zeros((n_y, 1)),
    }


_R = _rnn_parameters()
_L = lstm.init_parameters(5, 3, 2)
_C = {"Wax": np.zeros((4, 6)), "Waa": np.zeros((4, 4)), "Wya": np.zeros((6, 4))}
_C |= {"b": np.zeros((4, 1)), "by": np.zeros((6, 1))}
_x, _a0 = np.zeros((3, 10, 4)), np.zeros((5, 10))

BAD = [
    (
        lambda: course.rnn_cell_forward(np.zeros((3, 10)), np.zeros((5, 9)), _R),
        ShapeError,
        "rnn_cell_forward: a_prev must be (n_a, m) with m = 10, got (5, 9)",
    ),
    (
        lambda: course.rnn_forward(np.zeros((3, 10)), _a0, _R),
        ShapeError,
        "rnn_forward: x must be (n_x, m, T_x), got (3, 10)",
    ),
    (
        lambda: course.rnn_forward(_x, _a0, _rnn_parameters(n_x=2)),
        ShapeError,
        "rnn_forward: parameters['Wax'] must be (n_a, n_x) with n_x = 3, got (5, 2)",
    ),
    (
        lambda: course.rnn_forward(_x, _a0, {"Wax": _R["Wax"], "Waa": _R["Waa"]}),
        MissingKeyError,
        "rnn_forward: parameters has no ba",
    ),
    (
        lambda: course.rnn_backward(np.zeros((5, 10, 3)), course.rnn_forward(_x, _a0, _R)[2]),
        ShapeError,
        "rnn_backward: da must be (n_a, m, T_x) with T_x = 4, got (5, 10, 3)",
    ),
    (
        lambda: course.rnn_cell_backward(np.zeros((5, 1)), (0, 0, 0)),
        ShapeError,
        "rnn_cell_backward: cache must be (a_next, a_prev, xt, parameters), got 3 items",
    ),
    (
        lambda: course.lstm_forward(_x, _a0, dict(_L, Wo=np.zeros((5, 7)))),
        ShapeError,
        "lstm_forward: parameters['Wo'] must be (n_a, n_a + n_x) with n_a + n_x = 8, got (5, 7)",
    ),
    (
        lambda: course.lstm_cell_forward(_x[:, :, 0], _a0, np.zeros(5), _L),
        ShapeError,
        "lstm_cell_forward: c_prev must be (n_a, m), got (5,)",
    ),
    (
        lambda: course.clip({"dWaa": 1}, 5),
        MissingKeyError,
        "clip: gradients has no dWax, dWya, db, dby",
    ),
    (
        lambda: course.clip(dict.fromkeys(course.CHAR_GRADIENTS, np.ones(2)), -5),
        ParameterError,
        "clip: maxValue must be a number in (0, inf), got -5",
    ),
    (
        lambda: course.sample(_C, {"a": 0}, 0),
        MissingKeyError,
        r"sample: char_to_ix has no '\n'",
    ),
    (
        lambda: course.optimize([None, 1, 6], [1, 6, 0], np.zeros((4, 1)), copy.deepcopy(_C)),
        ParameterError,
        "optimize: X[2] must be an integer in [0, 5], got 6",
    ),
    (
        lambda: course.optimize([None, 1], [1, 2, 0], np.zeros((4, 1)), copy.deepcopy(_C)),
        ShapeError,
        "optimize: X and Y must be lists of T_x ≥ 1 indices each, got 2 and 3",
    ),
    (
        lambda: course.optimize([None, 1], [1, 0], np.zeros((4, 1)), _C, learning_rate=-1),
        ParameterError,
        "optimize: learning_rate must be a number in [0, inf), got -1",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
    assert not _C["Wax"].any()  # nothing was updated
