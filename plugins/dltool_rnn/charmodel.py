"""A stack of RNN/GRU/LSTM layers with a softmax output: the NumPy character model.

Layer ℓ reads x (n_x, m, T_x) (one-hot characters for ℓ = 0, the hidden states of layer
ℓ − 1 above that) and returns a (n_a, m, T_x); the top layer feeds
ŷ⟨t⟩ = softmax(Wy a⟨t⟩ + by). The loss is the mean cross-entropy per character,
J = −(1/(m T_x)) Σ_{i,t} log ŷ⟨t⟩[y⟨t⟩], whose gradient is dz = (ŷ − y)/(m T_x).
Parameters live in one flat dict: ``l0.Wf`` … for the layers, ``Wy``/``by`` (``Wya``/``by``
for the basic RNN, as in the notes) for the output; gradients use the same keys with ``d``.
"""

from __future__ import annotations

import numpy as np

from dltool.nn.activations import log_softmax
from dltool_rnn import gru, lstm, rnn


def output_key(cell: str) -> str:
    """Return the name of the output weight: Wya for the basic RNN, Wy for GRU and LSTM."""
    return "Wya" if cell == "rnn" else "Wy"


def layer_names(cell: str, reset_after: bool = False) -> tuple[str, ...]:
    """Return the parameter names of one recurrent layer of ``cell``."""
    if cell == "rnn":
        return rnn.PARAMETERS
    if cell == "lstm":
        return lstm.PARAMETERS
    return gru.PARAMETERS + ((gru.RESET_AFTER_BIAS,) if reset_after else ())


def init_model(cell, n_x, n_a, layers=1, rng=None, reset_after=False, dtype=np.float64):
    """Return the flat parameter dict of ``layers`` layers of ``cell`` and the output layer."""
    rng = np.random.default_rng(0) if rng is None else rng
    params = {}
    for layer in range(layers):
        n_in = n_x if layer == 0 else n_a
        if cell == "rnn":
            p = rnn.init_parameters(n_a, n_in, rng=rng, dtype=dtype)
        elif cell == "lstm":
            p = lstm.init_parameters(n_a, n_in, rng=rng, dtype=dtype)
        else:
            p = gru.init_parameters(n_a, n_in, rng=rng, dtype=dtype, reset_after=reset_after)
        params.update({f"l{layer}.{k}": v for k, v in p.items()})
    params[output_key(cell)] = (rng.standard_normal((n_x, n_a)) / np.sqrt(n_a)).astype(dtype)
    params["by"] = np.zeros((n_x, 1), dtype=dtype)
    return params


def describe(params: dict) -> tuple[str, int, int, int, bool]:
    """Return (cell, n_x, n_a, layers, reset_after) read off a flat parameter dict."""
    cell = "rnn" if "l0.Wax" in params else "lstm" if "l0.Wf" in params else "gru"
    n_a = params[output_key(cell)].shape[1]
    n_x = params["by"].shape[0]
    layers = len({k.split(".")[0] for k in params if k.startswith("l")})
    return cell, n_x, n_a, layers, f"l0.{gru.RESET_AFTER_BIAS}" in params


def layer_params(params: dict, layer: int) -> dict:
    """Return layer ``layer``'s parameters with their notes names (Wf, bf, …)."""
    prefix = f"l{layer}."
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def initial_state(cell: str, layers: int, n_a: int, m: int, dtype=np.float64) -> list:
    """Return zero states: per layer a0 (n_a, m), or (a0, c0) for the LSTM."""
    zero = np.zeros((n_a, m), dtype=dtype)
    return [(zero, zero) if cell == "lstm" else (zero,) for _ in range(layers)]


def layer_forward(cell, x, state, p):
    """Return a (n_a, m, T_x), the last state and the cache of one layer."""
    if cell == "lstm":
        a, _, c, caches = lstm.lstm_forward(x, state[0], p, c0=state[1])
        return a, (a[:, :, -1], c[:, :, -1]), caches
    a, _, caches = (rnn.rnn_forward if cell == "rnn" else gru.gru_forward)(x, state[0], p)
    return a, (a[:, :, -1],), caches


def layer_backward(cell, da, caches):
    """Return the gradients of one layer (dx and d<parameter>) given da (n_a, m, T_x)."""
    if cell == "lstm":
        return lstm.lstm_backward(da, caches)
    return (rnn.rnn_backward if cell == "rnn" else gru.gru_backward)(da, caches)


def forward(cell, params, x, state):
    """Return log ŷ (n_y, m, T_x), the new states and the caches of the whole model."""
    _, _, n_a, layers, _ = describe(params)
    h, new_state, caches = x, [], []
    for layer in range(layers):
        h, last, cache = layer_forward(cell, h, state[layer], layer_params(params, layer))
        new_state.append(last)
        caches.append(cache)
    _, m, T_x = h.shape
    z = params[output_key(cell)] @ h.reshape(n_a, m * T_x) + params["by"]  # (n_y, m T_x)
    logp = log_softmax(z, axis=0).reshape(-1, m, T_x)  # (n_y, m, T_x)
    return logp, new_state, (caches, h)


def loss(logp: np.ndarray, targets: np.ndarray) -> float:
    """Return J = −mean over (m, T_x) of log ŷ⟨t⟩[target]; targets are indices (m, T_x)."""
    m, T_x = targets.shape
    picked = np.take_along_axis(logp, targets[None], axis=0)  # (1, m, T_x)
    return float(-picked.sum() / (m * T_x))


def backward(cell, params, logp, targets, caches):
    """Return dJ/dθ for every parameter (keys ``d`` + name) and dJ/dx."""
    layer_caches, h = caches
    m, T_x = targets.shape
    n_y = logp.shape[0]
    dz = np.exp(logp)  # ŷ (n_y, m, T_x)
    np.put_along_axis(dz, targets[None], np.take_along_axis(dz, targets[None], 0) - 1, axis=0)
    dz = dz.reshape(n_y, m * T_x) / (m * T_x)
    n_a = h.shape[0]
    Wy = params[output_key(cell)]
    grads = {
        "d" + output_key(cell): dz @ h.reshape(n_a, m * T_x).T,
        "dby": dz.sum(axis=1, keepdims=True),
    }
    da = (Wy.T @ dz).reshape(n_a, m, T_x)
    for layer in reversed(range(len(layer_caches))):
        g = layer_backward(cell, da, layer_caches[layer])
        for k in layer_params(params, layer):
            grads[f"dl{layer}.{k}"] = g["d" + k]
        da = g["dx"]
    grads["dx"] = da
    return grads


def one_hot(indices: np.ndarray, n_x: int, dtype=np.float64) -> np.ndarray:
    """Return x (n_x, m, T_x) with x[indices[i, t], i, t] = 1 for indices (m, T_x)."""
    m, T_x = indices.shape
    x = np.zeros((n_x, m, T_x), dtype=dtype)
    x[indices, np.arange(m)[:, None], np.arange(T_x)[None, :]] = 1
    return x
