"""The sequence-model assignments' functions under the course's names (NumPy in, NumPy out).

"Building your Recurrent Neural Network - Step by Step" and "Dinosaurus Island", each function a
thin translation onto dltool's one implementation: the cells and time loops of
:mod:`dltool_rnn.rnn` and :mod:`dltool_rnn.lstm`, the character model of
:mod:`dltool_rnn.charmodel`, :mod:`dltool_rnn.clipping` and the gradient-descent rule of
:mod:`dltool.nn.optimizers`. Layouts are the course's: x ``(n_x, m, T_x)``, a ``(n_a, m, T_x)``;
caches are the course's tuples (``(a_next, a_prev, xt, parameters)``, ``(caches, x)``, …);
the character model's parameters are the course's ``Wax, Waa, Wya, b, by``.
"""

from __future__ import annotations

import numpy as np

from dltool.nn.optimizers import update_parameters_with_gd
from dltool_rnn import charmodel as _charmodel
from dltool_rnn import clipping as _clipping
from dltool_rnn import lstm as _lstm
from dltool_rnn import rnn as _rnn

CHAR_GRADIENTS = ("dWaa", "dWax", "dWya", "db", "dby")


def rnn_cell_forward(xt, a_prev, parameters):
    """Return a_next = tanh(Waa a_prev + Wax xt + ba), ŷ⟨t⟩ = softmax(Wya a_next + by), cache."""
    return _rnn.rnn_cell_forward(xt, a_prev, parameters)


def rnn_forward(x, a0, parameters):
    """Return a (n_a, m, T_x), y_pred (n_y, m, T_x) and caches = (list of caches, x)."""
    return _rnn.rnn_forward(x, a0, parameters)


def rnn_cell_backward(da_next, cache):
    """Return dxt = Waxᵀ dz, da_prev = Waaᵀ dz, dWax = dz xtᵀ, dWaa = dz a_prevᵀ, dba = Σ dz,
    with dz = da_next ⊙ (1 − a_next²)."""
    return _rnn.rnn_cell_backward(da_next, cache)


def rnn_backward(da, caches):
    """Return dx, da0, dWax, dWaa, dba by backpropagation through time of da (n_a, m, T_x)."""
    return _rnn.rnn_backward(da, caches)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """Return a_next = Γo ⊙ tanh(c_next), c_next = Γf ⊙ c_prev + Γi ⊙ c̃, ŷ⟨t⟩ and the cache."""
    return _lstm.lstm_cell_forward(xt, a_prev, c_prev, parameters)


def lstm_forward(x, a0, parameters):
    """Return a, y, c (each (·, m, T_x)) and caches, the cell state starting at c⟨0⟩ = 0."""
    return _lstm.lstm_forward(x, a0, parameters)


def lstm_cell_backward(da_next, dc_next, cache):
    """Return dxt, da_prev, dc_prev = dc ⊙ Γf and dW_g = dΓ_g concatᵀ, db_g = Σ dΓ_g."""
    return _lstm.lstm_cell_backward(da_next, dc_next, cache)


def lstm_backward(da, caches):
    """Return dx, da0 and dW_g, db_g by backpropagation through time of da (n_a, m, T_x).

    The course's dictionary has no dc0; the internals' extra dc0 entry is dropped.
    """
    gradients = _lstm.lstm_backward(da, caches)
    gradients.pop("dc0", None)
    return gradients


def clip(gradients, maxValue):  # noqa: N803
    """Return {k: clip(dk, −maxValue, maxValue)} for dWaa, dWax, dWya, db, dby.

    As in the course, the input dictionary is left untouched (the clipped arrays are copies).
    """
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
