"""The sequence-model assignments' functions under the course's names (NumPy in, NumPy out).

"Building your Recurrent Neural Network - Step by Step" and "Dinosaurus Island", each function a
thin translation onto dltool's one implementation: the cells and time loops of
:mod:`dltool_rnn.rnn` and :mod:`dltool_rnn.lstm`, the character model of
:mod:`dltool_rnn.charmodel`, :mod:`dltool_rnn.clipping` and the gradient-descent rule of
:mod:`dltool.nn.optimizers`. Layouts are the course's: x ``(n_x, m, T_x)``, a ``(n_a, m, T_x)``;
caches are the course's tuples (``(a_next, a_prev, xt, parameters)``, ``(caches, x)``, …);
the character model's parameters are the course's ``Wax, Waa, Wya, b, by``. Inputs are checked
at the boundary, in one line naming the function, the argument and the expected layout or
range: a wrong shape raises :class:`ShapeError`, a maxValue, seed or learning rate out of range
:class:`ParameterError`, a parameters or gradients dict without a key :class:`MissingKeyError`;
all three are :class:`~dltool.errors.DltoolError` (and ValueError or KeyError) with a hint.
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
from dltool.nn.optimizers import update_parameters_with_gd
from dltool_rnn import charmodel as _charmodel
from dltool_rnn import clipping as _clipping
from dltool_rnn import lstm as _lstm
from dltool_rnn import rnn as _rnn

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "rnn_cell_forward",
    "rnn_forward",
    "rnn_cell_backward",
    "rnn_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "lstm_cell_backward",
    "lstm_backward",
    "clip",
    "sample",
    "optimize",
]

CHAR_GRADIENTS = ("dWaa", "dWax", "dWya", "db", "dby")
CHAR_PARAMETERS = ("Wax", "Waa", "Wya", "b", "by")
RNN_CACHE = "(a_next, a_prev, xt, parameters)"
LSTM_CACHE = "(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)"


def _output(func: str, parameters: dict, weight: str, sizes: dict) -> None:
    """Check the optional output layer: ``weight`` (n_y, n_a) and by (n_y, 1), both or neither."""
    if weight in parameters or "by" in parameters:
        check_keys(func, "parameters", parameters, [weight, "by"])
        sizes = check_shape(
            func, f"parameters['{weight}']", parameters[weight], "(n_y, n_a)", dims=sizes
        )
        check_shape(func, "parameters['by']", parameters["by"], "(n_y, 1)", dims=sizes)


def _rnn_parameters(func: str, parameters, sizes: dict) -> dict:
    """Check Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1) [Wya (n_y, n_a), by (n_y, 1)]."""
    check_keys(func, "parameters", parameters, ["Wax", "Waa", "ba"])
    sizes = check_shape(func, "parameters['Wax']", parameters["Wax"], "(n_a, n_x)", dims=sizes)
    check_shape(func, "parameters['Waa']", parameters["Waa"], "(n_a, n_a)", dims=sizes)
    check_shape(func, "parameters['ba']", parameters["ba"], "(n_a, 1)", dims=sizes)
    _output(func, parameters, "Wya", sizes)
    return sizes


def _lstm_parameters(func: str, parameters, sizes: dict) -> dict:
    """Check W_g (n_a, n_a + n_x) and b_g (n_a, 1) for g in f, i, c, o [Wy, by]."""
    check_keys(func, "parameters", parameters, _lstm.PARAMETERS)
    sizes = dict(sizes, **{"n_a + n_x": sizes["n_a"] + sizes["n_x"]})
    for g in _lstm.GATES:
        check_shape(
            func, f"parameters['W{g}']", parameters["W" + g], "(n_a, n_a + n_x)", dims=sizes
        )
        check_shape(func, f"parameters['b{g}']", parameters["b" + g], "(n_a, 1)", dims=sizes)
    _output(func, parameters, "Wy", sizes)
    return sizes


def _inputs(func: str, x, a0, layout: str = "(n_x, m, T_x)", a_name: str = "a0") -> dict:
    """Return the sizes of x (``layout``) and a0 (n_a, m), checked for the same m."""
    sizes = check_shape(func, "x" if "T_x" in layout else "xt", x, layout)
    return check_shape(func, a_name, a0, "(n_a, m)", dims=sizes)


def _backward_caches(func: str, da, caches) -> None:
    """Check caches = (list of caches, x) and da (n_a, m, T_x) against x and the first cache."""
    steps, x = check_tuple(func, "caches", caches, "(caches, x)")
    sizes = check_shape(func, "caches' x", x, "(n_x, m, T_x)")
    if not isinstance(steps, (list, tuple)) or len(steps) != sizes["T_x"]:
        raise ShapeError(f"{func}: caches must hold one cache per time step ({sizes['T_x']})")
    sizes["n_a"] = np.shape(steps[0][0])[0]
    check_shape(func, "da", da, "(n_a, m, T_x)", dims=sizes)


def rnn_cell_forward(xt, a_prev, parameters):
    """Return a_next = tanh(Waa a_prev + Wax xt + ba), ŷ⟨t⟩ = softmax(Wya a_next + by), cache."""
    func = "rnn_cell_forward"
    _rnn_parameters(func, parameters, _inputs(func, xt, a_prev, "(n_x, m)", "a_prev"))
    return _rnn.rnn_cell_forward(xt, a_prev, parameters)


def rnn_forward(x, a0, parameters):
    """Return a (n_a, m, T_x), y_pred (n_y, m, T_x) and caches = (list of caches, x)."""
    _rnn_parameters("rnn_forward", parameters, _inputs("rnn_forward", x, a0))
    return _rnn.rnn_forward(x, a0, parameters)


def rnn_cell_backward(da_next, cache):
    """Return dxt = Waxᵀ dz, da_prev = Waaᵀ dz, dWax = dz xtᵀ, dWaa = dz a_prevᵀ, dba = Σ dz,
    with dz = da_next ⊙ (1 − a_next²)."""
    a_next = check_tuple("rnn_cell_backward", "cache", cache, RNN_CACHE)[0]
    sizes = check_shape("rnn_cell_backward", "cache's a_next", a_next, "(n_a, m)")
    check_shape("rnn_cell_backward", "da_next", da_next, "(n_a, m)", dims=sizes)
    return _rnn.rnn_cell_backward(da_next, cache)


def rnn_backward(da, caches):
    """Return dx, da0, dWax, dWaa, dba by backpropagation through time of da (n_a, m, T_x)."""
    _backward_caches("rnn_backward", da, caches)
    return _rnn.rnn_backward(da, caches)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """Return a_next = Γo ⊙ tanh(c_next), c_next = Γf ⊙ c_prev + Γi ⊙ c̃, ŷ⟨t⟩ and the cache."""
    func = "lstm_cell_forward"
    sizes = _inputs(func, xt, a_prev, "(n_x, m)", "a_prev")
    check_shape(func, "c_prev", c_prev, "(n_a, m)", dims=sizes)
    _lstm_parameters(func, parameters, sizes)
    return _lstm.lstm_cell_forward(xt, a_prev, c_prev, parameters)


def lstm_forward(x, a0, parameters):
    """Return a, y, c (each (·, m, T_x)) and caches, the cell state starting at c⟨0⟩ = 0."""
    _lstm_parameters("lstm_forward", parameters, _inputs("lstm_forward", x, a0))
    return _lstm.lstm_forward(x, a0, parameters)


def lstm_cell_backward(da_next, dc_next, cache):
    """Return dxt, da_prev, dc_prev = dc ⊙ Γf and dW_g = dΓ_g concatᵀ, db_g = Σ dΓ_g."""
    func = "lstm_cell_backward"
    a_next = check_tuple(func, "cache", cache, LSTM_CACHE)[0]
    sizes = check_shape(func, "cache's a_next", a_next, "(n_a, m)")
    check_shape(func, "da_next", da_next, "(n_a, m)", dims=sizes)
    check_shape(func, "dc_next", dc_next, "(n_a, m)", dims=sizes)
    return _lstm.lstm_cell_backward(da_next, dc_next, cache)


def lstm_backward(da, caches):
    """Return dx, da0 and dW_g, db_g by backpropagation through time of da (n_a, m, T_x).

    The course's dictionary has no dc0; the internals' extra dc0 entry is dropped.
    """
    _backward_caches("lstm_backward", da, caches)
    gradients = _lstm.lstm_backward(da, caches)
    gradients.pop("dc0", None)
    return gradients


def clip(gradients, maxValue):  # noqa: N803
    """Return {k: clip(dk, −maxValue, maxValue)} for dWaa, dWax, dWya, db, dby.

    As in the course, the input dictionary is left untouched (the clipped arrays are copies).
    """
    check_keys("clip", "gradients", gradients, CHAR_GRADIENTS)
    check_range("clip", "maxValue", maxValue, "(0, inf)")
    return _clipping.clip_by_value({k: gradients[k] for k in CHAR_GRADIENTS}, maxValue)


def _flat(parameters):
    """Return the character model's flat dict (``l0.Wax`` …) of the course's parameters."""
    return {
        "l0.Wax": parameters["Wax"],
        "l0.Waa": parameters["Waa"],
        "l0.ba": parameters["b"],
        "Wya": parameters["Wya"],
        "by": parameters["by"],
    }


def sample(parameters, char_to_ix, seed):
    """Return indices drawn one by one from ŷ⟨t+1⟩ = softmax(Wya a⟨t+1⟩ + by), newline-ended.

    As in the course: x⟨1⟩ = 0, a⟨0⟩ = 0; before each draw NumPy's global generator is seeded with
    ``counter + seed`` (both grow by one per step) and ``np.random.choice`` picks the index; after
    50 characters a newline is appended.
    """
    _char_parameters("sample", parameters)
    check_keys("sample", "char_to_ix", char_to_ix, ["\n"])
    # np.random.seed(counter + seed) reaches seed + 98 after 50 characters: stay below 2³²
    check_range("sample", "seed", seed, "[0, 4294967197]", integer=True)
    cell = {k: parameters[k] for k in ("Wax", "Waa", "Wya", "by")} | {"ba": parameters["b"]}
    vocab_size, n_a = parameters["by"].shape[0], parameters["Waa"].shape[1]
    x, a_prev = np.zeros((vocab_size, 1)), np.zeros((n_a, 1))
    newline_character = char_to_ix["\n"]
    indices, idx, counter = [], -1, 0
    while idx != newline_character and counter != 50:
        a_prev, y, _ = _rnn.rnn_cell_forward(x, a_prev, cell)
        np.random.seed(counter + seed)
        idx = int(np.random.choice(range(vocab_size), p=y.ravel()))
        indices.append(idx)
        x = np.zeros((vocab_size, 1))
        x[idx] = 1
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(newline_character)
    return indices


def optimize(X, Y, a_prev, parameters, learning_rate=0.01):  # noqa: N803
    """Return loss, clipped gradients, a⟨T_x⟩ of one SGD step; the loss is summed over t.

    The course's loss J = −Σ_t log ŷ⟨t⟩[Y_t] is the sum over time steps (the internals average),
    X[t] = None is the zero input, gradients are clipped to ±5 and ``parameters`` is updated
    in place, θ ← θ − α dθ, as in the course.
    """
    n_a = _char_parameters("optimize", parameters)
    _check_sequence(X, Y, parameters["by"].shape[0])
    check_shape("optimize", "a_prev", a_prev, "(n_a, 1)", dims=n_a)
    check_range("optimize", "learning_rate", learning_rate, "[0, inf)")
    vocab_size, T_x = parameters["by"].shape[0], len(X)
    x = np.zeros((vocab_size, 1, T_x))
    for t, ix in enumerate(X):
        if ix is not None:
            x[ix, 0, t] = 1
    targets = np.asarray(Y, dtype=np.int64).reshape(1, T_x)
    flat = _flat(parameters)
    logp, state, caches = _charmodel.forward("rnn", flat, x, [(a_prev,)])
    loss = _charmodel.loss(logp, targets) * T_x  # the course sums over t; the internals average
    g = _charmodel.backward("rnn", flat, logp, targets, caches)
    names = {"dl0.Waa": "dWaa", "dl0.Wax": "dWax", "dWya": "dWya", "dl0.ba": "db", "dby": "dby"}
    gradients = clip({course: g[ours] * T_x for ours, course in names.items()}, 5)
    update_parameters_with_gd(parameters, gradients, learning_rate)
    return loss, gradients, state[0][0]


def _char_parameters(func: str, parameters) -> dict:
    """Check the character model's Wax (n_a, V), Waa (n_a, n_a), Wya (V, n_a), b, by; return n_a."""
    check_keys(func, "parameters", parameters, CHAR_PARAMETERS)
    sizes = check_shape(func, "parameters['Wax']", parameters["Wax"], "(n_a, vocab_size)")
    for key, layout in (("Waa", "(n_a, n_a)"), ("Wya", "(vocab_size, n_a)"), ("b", "(n_a, 1)")):
        check_shape(func, f"parameters['{key}']", parameters[key], layout, dims=sizes)
    check_shape(func, "parameters['by']", parameters["by"], "(vocab_size, 1)", dims=sizes)
    return {"n_a": sizes["n_a"]}


def _check_sequence(X, Y, vocab_size: int) -> None:
    """Check X (T_x indices, None for the zero input) and Y (T_x indices) in [0, vocab_size)."""
    if not hasattr(X, "__len__") or not hasattr(Y, "__len__") or len(X) != len(Y) or not X:
        got = (
            f"{len(X)} and {len(Y)}"
            if hasattr(X, "__len__") and hasattr(Y, "__len__")
            else "no list"
        )
        raise ShapeError(f"optimize: X and Y must be lists of T_x ≥ 1 indices each, got {got}")
    interval = f"[0, {vocab_size - 1}]"
    for name, seq in (("X", X), ("Y", Y)):
        for t, ix in enumerate(seq):
            if not (ix is None and name == "X"):
                check_range("optimize", f"{name}[{t}]", ix, interval, integer=True)
