"""The Gated Recurrent Unit of the course notes, forward and backward (NumPy reference).

Notes' GRU (the memory cell c⟨t⟩ is the hidden state a⟨t⟩), on concat = [a⟨t−1⟩; x⟨t⟩]:
Γu = σ(Wu concat + bu) (update gate), Γr = σ(Wr concat + br) (relevance gate),
c̃ = tanh(Wc [Γr ⊙ a⟨t−1⟩; x⟨t⟩] + bc), a⟨t⟩ = Γu ⊙ c̃ + (1 − Γu) ⊙ a⟨t−1⟩,
ŷ⟨t⟩ = softmax(Wy a⟨t⟩ + by). Shapes: Wu, Wr, Wc (n_a, n_a + n_x), biases (n_a, 1).

Variant "reset after" (what torch.nn.GRU and cuDNN compute): the relevance gate is
applied after the matrix product, with a bias of its own on the hidden side:
c̃ = tanh(Wc[:, n_x part] x⟨t⟩ + bc + Γr ⊙ (Wc[:, n_a part] a⟨t−1⟩ + bch)).
A parameter dict holding ``bch`` (n_a, 1) selects this variant; without it the notes'
form is used. The two are different functions whenever Γr ≠ 1.
"""

from __future__ import annotations

import numpy as np

from dltool.nn.activations import sigmoid
from dltool_rnn.rnn import backward_through_time, forward_through_time, output

PARAMETERS = ("Wu", "bu", "Wr", "br", "Wc", "bc")
RESET_AFTER_BIAS = "bch"


def parameter_names(parameters: dict) -> tuple[str, ...]:
    """Return the recurrent parameter names of this GRU (with ``bch`` for reset-after)."""
    return PARAMETERS + ((RESET_AFTER_BIAS,) if RESET_AFTER_BIAS in parameters else ())


def init_parameters(
    n_a: int, n_x: int, n_y: int | None = None, rng=None, dtype=np.float64, reset_after=False
):
    """Return Wu, Wr, Wc ~ N(0, 1/(n_a + n_x)), zero biases [bch] [and Wy, by]."""
    rng = np.random.default_rng(0) if rng is None else rng
    p = {}
    for g in ("u", "r", "c"):
        p["W" + g] = rng.standard_normal((n_a, n_a + n_x)) / np.sqrt(n_a + n_x)
        p["b" + g] = np.zeros((n_a, 1))
    if reset_after:
        p[RESET_AFTER_BIAS] = np.zeros((n_a, 1))
    if n_y is not None:
        p["Wy"] = rng.standard_normal((n_y, n_a)) / np.sqrt(n_a)
        p["by"] = np.zeros((n_y, 1))
    return {k: v.astype(dtype) for k, v in p.items()}


def gru_cell_forward(xt, a_prev, parameters):
    """Return a_next = Γu ⊙ c̃ + (1 − Γu) ⊙ a_prev, ŷ⟨t⟩ and the cache of one GRU step."""
    n_a = a_prev.shape[0]
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    gu = sigmoid(parameters["Wu"] @ concat + parameters["bu"])  # (n_a, m)
    gr = sigmoid(parameters["Wr"] @ concat + parameters["br"])
    Wc = parameters["Wc"]
    if RESET_AFTER_BIAS in parameters:
        hpart = Wc[:, :n_a] @ a_prev + parameters[RESET_AFTER_BIAS]  # (n_a, m)
        cct = np.tanh(Wc[:, n_a:] @ xt + parameters["bc"] + gr * hpart)
    else:
        hpart = np.concatenate([gr * a_prev, xt], axis=0)  # (n_a + n_x, m)
        cct = np.tanh(Wc @ hpart + parameters["bc"])
    a_next = gu * cct + (1 - gu) * a_prev  # (n_a, m)
    yt_pred = output(a_next, parameters, "Wy")
    return a_next, yt_pred, (a_next, a_prev, xt, gu, gr, cct, hpart, parameters)


def gru_cell_backward(da_next, cache):
    """Return dxt, da_prev and dWu, dbu, dWr, dbr, dWc, dbc [dbch] of one GRU step."""
    a_next, a_prev, xt, gu, gr, cct, hpart, parameters = cache
    n_a = a_prev.shape[0]
    Wc = parameters["Wc"]
    dzu = da_next * (cct - a_prev) * gu * (1 - gu)  # (n_a, m)
    dzc = da_next * gu * (1 - cct**2)
    da_prev = da_next * (1 - gu)
    grads = {"dbc": np.sum(dzc, axis=1, keepdims=True)}
    if RESET_AFTER_BIAS in parameters:
        dh = dzc * gr  # dJ/d(Wc_a a_prev + bch)
        dzr = dzc * hpart * gr * (1 - gr)
        grads["dWc"] = np.concatenate([dh @ a_prev.T, dzc @ xt.T], axis=1)
        grads["d" + RESET_AFTER_BIAS] = np.sum(dh, axis=1, keepdims=True)
        da_prev = da_prev + Wc[:, :n_a].T @ dh
        dxt = Wc[:, n_a:].T @ dzc
    else:
        dhpart = Wc.T @ dzc  # (n_a + n_x, m)
        dzr = dhpart[:n_a] * a_prev * gr * (1 - gr)
        grads["dWc"] = dzc @ hpart.T
        da_prev = da_prev + dhpart[:n_a] * gr
        dxt = dhpart[n_a:]
    concat = np.concatenate([a_prev, xt], axis=0)  # (n_a + n_x, m)
    dconcat = parameters["Wu"].T @ dzu + parameters["Wr"].T @ dzr
    grads.update(
        dWu=dzu @ concat.T,
        dbu=np.sum(dzu, axis=1, keepdims=True),
        dWr=dzr @ concat.T,
        dbr=np.sum(dzr, axis=1, keepdims=True),
        da_prev=da_prev + dconcat[:n_a],
        dxt=dxt + dconcat[n_a:],
    )
    return grads


def gru_forward(x, a0, parameters):
    """Run the GRU over T_x steps: return a (n_a, m, T_x), y_pred and caches."""
    return forward_through_time(gru_cell_forward, x, a0, parameters)


def gru_backward(da, caches):
    """Backpropagate through time: da (n_a, m, T_x) is dJ/da⟨t⟩ from outside the recurrence."""
    names = parameter_names(caches[0][0][-1])
    return backward_through_time(gru_cell_backward, names, da, caches)
