"""The basic RNN of the course notes, forward and backward (NumPy reference).

Shapes follow the notes: x (n_x, m, T_x), a (n_a, m, T_x), y (n_y, m, T_x).
Cell: a⟨t⟩ = tanh(Waa a⟨t−1⟩ + Wax x⟨t⟩ + ba), ŷ⟨t⟩ = softmax(Wya a⟨t⟩ + by).
Backward (notes, "Backpropagation"): with dz = da ⊙ (1 − a⟨t⟩²),
dWax = dz x⟨t⟩ᵀ, dWaa = dz a⟨t−1⟩ᵀ, dba = Σ_m dz, dx⟨t⟩ = Waxᵀ dz, da⟨t−1⟩ = Waaᵀ dz.
``Wya, by`` are optional: without them the layer returns hidden states only and
``y_pred`` is None (stacked layers, or an output layer kept apart).
The output layer and the two time loops (forward over t = 1…T_x, BPTT back from T_x) are
written once here and also serve the GRU, whose cell functions have the same form.
"""

from __future__ import annotations

import numpy as np

from dltool.nn.activations import softmax

PARAMETERS = ("Wax", "Waa", "ba")


def init_parameters(n_a: int, n_x: int, n_y: int | None = None, rng=None, dtype=np.float64):
    """Return Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1) [and Wya, by] ~ N(0, 1/fan_in)."""
    rng = np.random.default_rng(0) if rng is None else rng
    p = {
        "Wax": rng.standard_normal((n_a, n_x)) / np.sqrt(n_x),
        "Waa": rng.standard_normal((n_a, n_a)) / np.sqrt(n_a),
        "ba": np.zeros((n_a, 1)),
    }
    if n_y is not None:
        p["Wya"] = rng.standard_normal((n_y, n_a)) / np.sqrt(n_a)
        p["by"] = np.zeros((n_y, 1))
    return {k: v.astype(dtype) for k, v in p.items()}


def output(a: np.ndarray, parameters: dict, weight: str = "Wya") -> np.ndarray | None:
    """Return ŷ = softmax(W a + by) over axis 0 (W = parameters[weight]), or None without it."""
    if weight not in parameters:
        return None
    return softmax(parameters[weight] @ a + parameters["by"], axis=0)


def rnn_cell_forward(xt, a_prev, parameters):
    """Return a_next = tanh(Waa a_prev + Wax xt + ba), ŷ⟨t⟩ and the cache."""
    Wax, Waa, ba = parameters["Wax"], parameters["Waa"], parameters["ba"]
    a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)  # (n_a, m)
    yt_pred = output(a_next, parameters)  # (n_y, m) or None
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def rnn_cell_backward(da_next, cache):
    """Return dxt, da_prev, dWax, dWaa, dba given dJ/da_next and the cell's cache."""
    a_next, a_prev, xt, parameters = cache
    dz = da_next * (1 - a_next**2)  # (n_a, m)
    return {
        "dxt": parameters["Wax"].T @ dz,  # (n_x, m)
        "da_prev": parameters["Waa"].T @ dz,  # (n_a, m)
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": np.sum(dz, axis=1, keepdims=True),
    }


def forward_through_time(cell_forward, x, a0, parameters):
    """Run ``cell_forward(xt, a_prev, parameters)`` over T_x steps: return a (n_a, m, T_x),
    y_pred (n_y, m, T_x) or None, and the caches."""
    n_x, m, T_x = x.shape
    a = np.zeros((a0.shape[0], m, T_x), dtype=x.dtype)
    ys, caches = [], []
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        ys.append(yt_pred)
        caches.append(cache)
    y_pred = None if ys[0] is None else np.stack(ys, axis=2)
    return a, y_pred, (caches, x)


def backward_through_time(cell_backward, names, da, caches):
    """BPTT: da (n_a, m, T_x) is dJ/da⟨t⟩ from outside the recurrence; da⟨t−1⟩ adds
    ``cell_backward``'s da_prev, and the gradients of ``names`` are summed over t."""
    caches, x = caches
    n_x, m, T_x = x.shape
    parameters = caches[0][-1]  # every cache ends with the parameters
    grads = {"dx": np.zeros_like(x)}
    grads.update({"d" + k: np.zeros_like(parameters[k]) for k in names})
    da_prevt = np.zeros_like(da[:, :, 0])
    for t in reversed(range(T_x)):
        g = cell_backward(da[:, :, t] + da_prevt, caches[t])
        grads["dx"][:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
        for k in names:
            grads["d" + k] += g["d" + k]
    grads["da0"] = da_prevt
    return grads


def rnn_forward(x, a0, parameters):
    """Run the cell over T_x steps: return a (n_a, m, T_x), y_pred (n_y, m, T_x), caches."""
    return forward_through_time(rnn_cell_forward, x, a0, parameters)


def rnn_backward(da, caches):
    """Backpropagate through time: da (n_a, m, T_x) is dJ/da⟨t⟩ from outside the recurrence."""
    return backward_through_time(rnn_cell_backward, PARAMETERS, da, caches)
