"""Teaching aids behind ``dltool rnn gradcheck`` and ``dltool rnn shapes``.

``gradcheck_rows`` runs the NumPy BPTT of a small model (cells + softmax output,
mean cross-entropy) against two-sided numerical gradients (``dltool.nn.gradcheck``)
and against torch autograd of the same computation, in float64. ``shape_rows`` runs
one step and one sequence forward and backward and reads every tensor's shape.
"""

from __future__ import annotations

import numpy as np

from dltool.nn.gradcheck import band, gradient_check
from dltool_rnn import charmodel, gru, lstm, rnn


def gradcheck_rows(cell, n_x, n_a, m, T, layers=1, reset_after=False, seed=0):
    """Return (rows per parameter, overall difference, verdict) of the gradient check."""
    import torch

    from dltool_rnn.cells_torch import CharModel, sequence_loss

    rng = np.random.default_rng(seed)
    p = charmodel.init_model(cell, n_x, n_a, layers, rng, reset_after=reset_after)
    p = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in p.items()}
    x = rng.standard_normal((n_x, m, T))
    targets = rng.integers(0, n_x, (m, T))
    state = charmodel.initial_state(cell, layers, n_a, m)
    logp, _, caches = charmodel.forward(cell, p, x, state)
    grads = charmodel.backward(cell, p, logp, targets, caches)

    def cost(q):
        return charmodel.loss(charmodel.forward(cell, q, x, state)[0], targets)

    result = gradient_check(cost, p, grads)
    model = CharModel.from_flat(p)
    sequence_loss(model(torch.from_numpy(x))[0], torch.from_numpy(targets)).backward()
    auto = {k: prm.grad.numpy() for k, prm in model.flat_items()}
    rows = []
    for k, diff in result.per_parameter.items():
        name = k[3:] if layers == 1 and k.startswith("l0.") else k
        rows.append(
            {
                "parameter": name,
                "shape": str(p[k].shape),
                "difference": diff,
                "band": band(diff),
                "max |numpy - autograd|": float(np.abs(grads["d" + k] - auto[k]).max()),
            }
        )
    return rows, result.difference, result.verdict


def _row(name, arr, formula) -> dict:
    """Return one table row: tensor name, shape and formula."""
    return {"tensor": name, "shape": str(tuple(np.shape(arr))), "formula": formula}


def _step(cell, n_x, n_a, n_y, m, reset_after, rng):
    """Return the rows of one cell step, forward and backward."""
    xt, a_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
    if cell == "rnn":
        p = rnn.init_parameters(n_a, n_x, n_y, rng)
        a, y, cache = rnn.rnn_cell_forward(xt, a_prev, p)
        g = rnn.rnn_cell_backward(np.ones_like(a), cache)
        fw = [
            ("Wax", p["Wax"], ""),
            ("Waa", p["Waa"], ""),
            ("ba", p["ba"], ""),
            ("a_next", a, "tanh(Waa a_prev + Wax xt + ba)"),
            ("Wya", p["Wya"], ""),
            ("yt_pred", y, "softmax(Wya a_next + by)"),
        ]
    elif cell == "lstm":
        p = lstm.init_parameters(n_a, n_x, n_y, rng)
        c_prev = rng.standard_normal((n_a, m))
        a, c, y, cache = lstm.lstm_cell_forward(xt, a_prev, c_prev, p)
        _, _, _, _, ft, it, cct, ot, _, _ = cache
        g = lstm.lstm_cell_backward(np.ones_like(a), np.zeros_like(c), cache)
        fw = [
            ("c_prev", c_prev, ""),
            ("concat", np.concatenate([a_prev, xt]), "[a_prev; xt]"),
            ("Wf, Wi, Wc, Wo", p["Wf"], "one per gate"),
            ("bf, bi, bc, bo", p["bf"], ""),
            ("ft", ft, "σ(Wf concat + bf)"),
            ("it", it, "σ(Wi concat + bi)"),
            ("cct", cct, "tanh(Wc concat + bc)"),
            ("c_next", c, "ft ⊙ c_prev + it ⊙ cct"),
            ("ot", ot, "σ(Wo concat + bo)"),
            ("a_next", a, "ot ⊙ tanh(c_next)"),
            ("Wy", p["Wy"], ""),
            ("yt_pred", y, "softmax(Wy a_next + by)"),
        ]
    else:
        p = gru.init_parameters(n_a, n_x, n_y, rng, reset_after=reset_after)
        a, y, cache = gru.gru_cell_forward(xt, a_prev, p)
        _, _, _, gu, gr, cct, _, _ = cache
        g = gru.gru_cell_backward(np.ones_like(a), cache)
        cand = (
            "tanh(Wc[:, x] xt + bc + Γr ⊙ (Wc[:, a] a_prev + bch))"
            if reset_after
            else "tanh(Wc [Γr ⊙ a_prev; xt] + bc)"
        )
        fw = [
            ("concat", np.concatenate([a_prev, xt]), "[a_prev; xt]"),
            ("Wu, Wr, Wc", p["Wu"], "one per gate"),
            ("bu, br, bc", p["bu"], ""),
            ("Γu", gu, "σ(Wu concat + bu)"),
            ("Γr", gr, "σ(Wr concat + br)"),
            ("c̃", cct, cand),
            ("a_next", a, "Γu ⊙ c̃ + (1 − Γu) ⊙ a_prev"),
            ("Wy", p["Wy"], ""),
            ("yt_pred", y, "softmax(Wy a_next + by)"),
        ]
    rows = [_row("xt", xt, "input at step t"), _row("a_prev", a_prev, "a⟨t−1⟩")]
    rows += [_row(*r) for r in fw]
    rows += [_row(k, v, "backward") for k, v in g.items()]
    return rows


def _sequence(cell, n_x, n_a, n_y, m, T, reset_after, rng):
    """Return the rows of a whole sequence, forward and BPTT."""
    from dltool.nn.activations import softmax

    x = rng.standard_normal((n_x, m, T))
    p = charmodel.layer_params(
        charmodel.init_model(cell, n_x, n_a, 1, rng, reset_after=reset_after), 0
    )
    Wy = rng.standard_normal((n_y, n_a))  # a stand-in output layer, without bias
    W = charmodel.output_key(cell)  # its notes name: Wya (basic RNN) or Wy
    state = charmodel.initial_state(cell, 1, n_a, m)[0]
    a, _, caches = charmodel.layer_forward(cell, x, state, p)
    y_pred = softmax(np.einsum("ya,amt->ymt", Wy, a), axis=0)  # (n_y, m, T_x)
    da = np.einsum("ya,ymt->amt", Wy, y_pred)  # a stand-in dJ/da, shaped like a
    g = charmodel.layer_backward(cell, da, caches)
    rows = [
        _row("x", x, "inputs, T_x steps"),
        _row("a0", state[0], "initial hidden state"),
        _row("a", a, "hidden states, one per step"),
        _row(W, Wy, "output weights (random here, no bias)"),
        _row("y_pred", y_pred, f"softmax({W} a⟨t⟩) over axis 0, every step"),
        {"tensor": "caches", "shape": f"list of {len(caches[0])}", "formula": "one cache per step"},
        _row("da", da, f"stand-in for dJ/da⟨t⟩: {W}ᵀ y_pred⟨t⟩"),
    ]
    rows += [
        _row(k, v, "BPTT: summed over steps" if k[1].isupper() or k.startswith("db") else "BPTT")
        for k, v in g.items()
    ]
    return rows


def shape_rows(cell, n_x, n_a, n_y, m, T, reset_after=False):
    """Return [(title, key, rows)] for one step and for the sequence."""
    rng = np.random.default_rng(0)
    return [
        (
            f"{cell} cell, one step (n_x={n_x}, n_a={n_a}, n_y={n_y}, m={m})",
            "step",
            _step(cell, n_x, n_a, n_y, m, reset_after, rng),
        ),
        (
            f"{cell} over the sequence (T_x={T})",
            "sequence",
            _sequence(cell, n_x, n_a, n_y, m, T, reset_after, rng),
        ),
    ]


def shape_bytes(cell, n_x, n_a, n_y, m, T) -> int:
    """Return an upper estimate of the bytes ``shape_rows`` allocates (float64 arrays).

    Per step and example: the inputs and outputs (4 n_x + 4 n_y) and about a dozen hidden-
    sized tensors (cache, gates, gradients: 12 n_a); plus the weights and the step tables.
    Measured peaks are 1.1 to 7 times below it for every cell.
    """
    per_step = m * T * (4 * n_x + 12 * n_a + 4 * n_y)
    weights = 4 * n_a * (n_a + n_x) + 4 * n_y * n_a
    return 8 * (per_step + weights + 64 * m * (n_a + n_x + n_y))
