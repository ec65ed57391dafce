"""The LSTM of the course notes, forward and backward (NumPy reference).

Gates act on the concatenation concat = [a⟨t−1⟩; x⟨t⟩] of shape (n_a + n_x, m):
Γf = σ(Wf concat + bf), Γi = σ(Wi concat + bi), c̃ = tanh(Wc concat + bc),
c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γi ⊙ c̃, Γo = σ(Wo concat + bo), a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩),
ŷ⟨t⟩ = softmax(Wy a⟨t⟩ + by). Backward (notes, "LSTM — Backpropagation"), with
dc = dc_next + da_next ⊙ Γo ⊙ (1 − tanh²c⟨t⟩): dΓo = da_next ⊙ tanh c⟨t⟩ ⊙ Γo(1 − Γo),
dc̃ = dc ⊙ Γi ⊙ (1 − c̃²), dΓi = dc ⊙ c̃ ⊙ Γi(1 − Γi), dΓf = dc ⊙ c⟨t−1⟩ ⊙ Γf(1 − Γf);
dW_g = dΓ_g concatᵀ, db_g = Σ_m dΓ_g, [da_prev; dx] = Σ_g W_gᵀ dΓ_g, dc_prev = dc ⊙ Γf.
Shapes: W_f, W_i, W_c, W_o (n_a, n_a + n_x); biases (n_a, 1); Wy (n_y, n_a), by (n_y, 1).
"""

from __future__ import annotations

import numpy as np

from dltool.nn.activations import sigmoid
from dltool_rnn.rnn import output

GATES = ("f", "i", "c", "o")
PARAMETERS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")


def init_parameters(n_a: int, n_x: int, n_y: int | None = None, rng=None, dtype=np.float64):
    """Return W_g ~ N(0, 1/(n_a + n_x)) for g in f, i, c, o, biases 0 (bf = 1) [and Wy, by]."""
    rng = np.random.default_rng(0) if rng is None else rng
    p = {}
    for g in GATES:
        p["W" + g] = rng.standard_normal((n_a, n_a + n_x)) / np.sqrt(n_a + n_x)
        p["b" + g] = np.full((n_a, 1), 1.0 if g == "f" else 0.0)
    if n_y is not None:
        p["Wy"] = rng.standard_normal((n_y, n_a)) / np.sqrt(n_a)
        p["by"] = np.zeros((n_y, 1))
    return {k: v.astype(dtype) for k, v in p.items()}


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """Return a_next, c_next, ŷ⟨t⟩ and the cache of one LSTM step."""
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])  # (n_a, m)
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])
    a_next = ot * np.tanh(c_next)  # (n_a, m)
    yt_pred = output(a_next, parameters, "Wy")
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_cell_backward(da_next, dc_next, cache):
    """Return dxt, da_prev, dc_prev and dW_g, db_g of one LSTM step."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c**2)  # (n_a, m)
    dz = {
        "o": da_next * tanh_c * ot * (1 - ot),
        "c": dc * it * (1 - cct**2),
        "i": dc * cct * it * (1 - it),
        "f": dc * c_prev * ft * (1 - ft),
    }
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    dconcat = sum(parameters["W" + g].T @ dz[g] for g in GATES)  # (n_a + n_x, m)
    grads = {"da_prev": dconcat[:n_a], "dxt": dconcat[n_a:], "dc_prev": dc * ft}
    for g in GATES:
        grads["dW" + g] = dz[g] @ concat.T
        grads["db" + g] = np.sum(dz[g], axis=1, keepdims=True)
    return grads


def lstm_forward(x, a0, parameters, c0=None):
    """Run the LSTM over T_x steps: return a, y_pred, c (each (·, m, T_x)) and caches."""
    n_x, m, T_x = x.shape
    n_a = parameters["Wf"].shape[0]
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    c = np.zeros_like(a)
    a_next, c_next = a0, np.zeros_like(a0) if c0 is None else c0
    ys, caches = [], []
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t] = a_next, c_next
        ys.append(yt)
        caches.append(cache)
    y_pred = None if ys[0] is None else np.stack(ys, axis=2)
    return a, y_pred, c, (caches, x)


def lstm_backward(da, caches):
    """Backpropagate through time: da (n_a, m, T_x) is dJ/da⟨t⟩ from outside the recurrence."""
    caches, x = caches
    n_x, m, T_x = x.shape
    params = caches[0][-1]
    grads = {"dx": np.zeros_like(x)}
    grads.update({"d" + k: np.zeros_like(params[k]) for k in PARAMETERS})
    da_prevt = np.zeros_like(da[:, :, 0])
    dc_prevt = np.zeros_like(da_prevt)
    for t in reversed(range(T_x)):
        g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        grads["dx"][:, :, t] = g["dxt"]
        da_prevt, dc_prevt = g["da_prev"], g["dc_prev"]
        for k in PARAMETERS:
            grads["d" + k] += g["d" + k]
    grads["da0"], grads["dc0"] = da_prevt, dc_prevt
    return grads
