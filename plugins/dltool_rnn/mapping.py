"""Map the notes' parameters to and from torch.nn.RNN, nn.GRU and nn.LSTM weights.

torch stores, per layer k, ``weight_ih_lk`` (G·n_a, n_x), ``weight_hh_lk`` (G·n_a, n_a) and
two biases ``bias_ih_lk``, ``bias_hh_lk`` (G·n_a,), gates stacked in the order
LSTM i, f, g, o and GRU r, z, n; inputs are time-major (T_x, m, n_x). The notes keep
one (n_a, n_a + n_x) matrix per gate on [a⟨t−1⟩; x⟨t⟩] and one bias (n_a, 1).

What maps exactly (every number copied, negated or added once):

* RNN and LSTM, both ways: W_g = [W_hh_g | W_ih_g]; the notes' bias is b_ih + b_hh
  (torch → notes adds the two biases, one rounding; notes → torch sets b_hh = 0).
* GRU, reset-after variant (``bch`` present) both ways: Γr = r, Γu = 1 − z, so
  Wr = [W_hr | W_ir], br = b_ir + b_hr, Wu = −[W_hz | W_iz], bu = −(b_iz + b_hz),
  Wc = [W_hn | W_in], bc = b_in, bch = b_hn.
* GRU as written in the notes (Γr ⊙ a⟨t−1⟩ inside the product, no ``bch``): torch
  computes r ⊙ (W_hn h + b_hn) instead of W_hn (r ⊙ h); no choice of weights makes
  these equal for every input, so this direction raises ``ValueError``.

Outputs after mapping agree up to floating-point summation order (≤ 1e-12 in float64).
"""

from __future__ import annotations

import numpy as np

from dltool_rnn import gru

TORCH_ORDER = {"rnn": ("a",), "lstm": ("i", "f", "c", "o"), "gru": ("r", "u", "c")}


def _split(W: np.ndarray, n_a: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (W_hh part (n_a, n_a), W_ih part (n_a, n_x)) of a notes matrix [W_h | W_x]."""
    return W[:, :n_a], W[:, n_a:]


def layer_to_torch(cell: str, p: dict, k: int = 0) -> dict[str, np.ndarray]:
    """Return nn.RNN/nn.GRU/nn.LSTM weights of layer ``k`` from notes parameters ``p``."""
    if cell == "rnn":
        n_a = p["Waa"].shape[0]
        W_ih, W_hh, b_ih = p["Wax"], p["Waa"], p["ba"][:, 0]
    elif cell == "lstm":
        n_a = p["Wf"].shape[0]
        parts = [_split(p["W" + g], n_a) for g in TORCH_ORDER["lstm"]]
        W_hh = np.concatenate([h for h, _ in parts])
        W_ih = np.concatenate([x for _, x in parts])
        b_ih = np.concatenate([p["b" + g][:, 0] for g in TORCH_ORDER["lstm"]])
    elif cell == "gru":
        if gru.RESET_AFTER_BIAS not in p:
            raise ValueError(
                "the notes' GRU applies the relevance gate before Wc (Wc [Γr ⊙ a; x]); "
                "torch.nn.GRU applies it after (r ⊙ (W_hn h + b_hn)): no exact mapping. "
                "Use the reset-after variant (parameters with 'bch')."
            )
        n_a = p["Wu"].shape[0]
        r, u, c = _split(p["Wr"], n_a), _split(p["Wu"], n_a), _split(p["Wc"], n_a)
        W_hh = np.concatenate([r[0], -u[0], c[0]])
        W_ih = np.concatenate([r[1], -u[1], c[1]])
        b_ih = np.concatenate([p["br"][:, 0], -p["bu"][:, 0], p["bc"][:, 0]])
        b_hh = np.concatenate([np.zeros(2 * n_a), p[gru.RESET_AFTER_BIAS][:, 0]])
        return _named(k, W_ih, W_hh, b_ih, b_hh.astype(W_ih.dtype))
    else:
        raise ValueError(f"unknown cell '{cell}'")
    return _named(k, W_ih, W_hh, b_ih, np.zeros_like(b_ih))


def _named(k, W_ih, W_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    """Return the four arrays under torch's names for layer ``k``."""
    return {
        f"weight_ih_l{k}": W_ih,
        f"weight_hh_l{k}": W_hh,
        f"bias_ih_l{k}": b_ih,
        f"bias_hh_l{k}": b_hh,
    }


def layer_from_torch(cell: str, sd: dict, k: int = 0) -> dict[str, np.ndarray]:
    """Return notes parameters of layer ``k`` from torch weights ``sd`` (arrays or tensors)."""
    W_ih, W_hh = np.asarray(sd[f"weight_ih_l{k}"]), np.asarray(sd[f"weight_hh_l{k}"])
    b_ih, b_hh = np.asarray(sd[f"bias_ih_l{k}"]), np.asarray(sd[f"bias_hh_l{k}"])
    if cell == "rnn":
        return {"Wax": W_ih.copy(), "Waa": W_hh.copy(), "ba": (b_ih + b_hh)[:, None]}
    n_a = W_hh.shape[1]
    gates = TORCH_ORDER[cell]
    rows = {g: slice(i * n_a, (i + 1) * n_a) for i, g in enumerate(gates)}
    p = {}
    for g in gates:
        sign = -1 if (cell, g) == ("gru", "u") else 1
        p["W" + g] = sign * np.concatenate([W_hh[rows[g]], W_ih[rows[g]]], axis=1)
        if (cell, g) == ("gru", "c"):
            p["bc"], p[gru.RESET_AFTER_BIAS] = b_ih[rows[g]][:, None], b_hh[rows[g]][:, None]
        else:
            p["b" + g] = sign * (b_ih[rows[g]] + b_hh[rows[g]])[:, None]
    return p


def to_torch(cell: str, layers: list[dict]) -> dict[str, np.ndarray]:
    """Return the state dict (NumPy arrays) of a torch recurrent module of len(layers) layers."""
    out: dict[str, np.ndarray] = {}
    for k, p in enumerate(layers):
        out.update(layer_to_torch(cell, p, k))
    return out


def from_torch(cell: str, state_dict: dict) -> list[dict]:
    """Return the notes parameters of every layer in a torch recurrent module's state dict."""
    sd = {k: v.detach().cpu().numpy() if hasattr(v, "detach") else v for k, v in state_dict.items()}
    n_layers = len([k for k in sd if k.startswith("weight_ih_l")])
    return [layer_from_torch(cell, sd, k) for k in range(n_layers)]


def torch_module(cell: str, n_x: int, n_a: int, layers: int = 1):
    """Return an empty torch.nn.RNN/GRU/LSTM (tanh, biases) of the given size."""
    from torch import nn

    cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
    return cls(n_x, n_a, num_layers=layers)


def time_major(x: np.ndarray) -> np.ndarray:
    """Return the notes' x (n_x, m, T_x) as torch's (T_x, m, n_x)."""
    return np.ascontiguousarray(np.transpose(x, (2, 1, 0)))


def from_time_major(h: np.ndarray) -> np.ndarray:
    """Return torch's (T_x, m, n_a) as the notes' a (n_a, m, T_x)."""
    return np.ascontiguousarray(np.transpose(h, (2, 1, 0)))
