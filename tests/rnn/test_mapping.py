"""Notes parameters ↔ torch.nn.RNN/GRU/LSTM weights: identical outputs after mapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_rnn import charmodel, mapping

N_X, N_A, M, T, LAYERS = 4, 6, 3, 7, 2


def _layers(cell, reset_after, rng):
    """Return LAYERS layers of random notes parameters with non-zero biases."""
    p = charmodel.init_model(cell, N_X, N_A, LAYERS, rng, reset_after=reset_after)
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}
    return [charmodel.layer_params(p, i) for i in range(LAYERS)]


def _notes_forward(cell, layers, x, state):
    """Return the top layer's a (n_a, m, T_x) and the last states of every layer."""
    h, lasts = x, []
    for p, st in zip(layers, state, strict=True):
        h, last, _ = charmodel.layer_forward(cell, h, st, p)
        lasts.append(last)
    return h, lasts


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_notes_to_torch_gives_identical_outputs(cell):
    rng = np.random.default_rng(0)
    layers = _layers(cell, cell == "gru", rng)
    module = mapping.torch_module(cell, N_X, N_A, LAYERS).double()
    sd = {k: torch.from_numpy(v) for k, v in mapping.to_torch(cell, layers).items()}
    module.load_state_dict(sd)  # strict: every torch weight is set
    x = rng.standard_normal((N_X, M, T))
    a0 = rng.standard_normal((LAYERS, N_A, M))
    c0 = rng.standard_normal((LAYERS, N_A, M))
    state = [(a0[i], c0[i]) if cell == "lstm" else (a0[i],) for i in range(LAYERS)]
    a, lasts = _notes_forward(cell, layers, x, state)
    h0 = torch.from_numpy(a0.transpose(0, 2, 1).copy())  # (layers, m, n_a)
    c0_t = torch.from_numpy(c0.transpose(0, 2, 1).copy())
    with torch.no_grad():
        out, hn = module(
            torch.from_numpy(mapping.time_major(x)), (h0, c0_t) if cell == "lstm" else h0
        )
    np.testing.assert_allclose(mapping.from_time_major(out.numpy()), a, rtol=0, atol=1e-13)
    h_last = hn[0] if cell == "lstm" else hn
    for i in range(LAYERS):
        np.testing.assert_allclose(h_last[i].numpy().T, lasts[i][0], atol=1e-13)
        if cell == "lstm":
            np.testing.assert_allclose(hn[1][i].numpy().T, lasts[i][1], atol=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_torch_to_notes_gives_identical_outputs(cell):
    torch.manual_seed(0)
    module = mapping.torch_module(cell, N_X, N_A, LAYERS).double()
    layers = mapping.from_torch(cell, module.state_dict())
    assert len(layers) == LAYERS
    if cell == "gru":
        assert "bch" in layers[0]
    x = np.random.default_rng(1).standard_normal((N_X, M, T))
    state = charmodel.initial_state(cell, LAYERS, N_A, M)
    a, _ = _notes_forward(cell, layers, x, state)
    with torch.no_grad():
        out, _ = module(torch.from_numpy(mapping.time_major(x)))
    np.testing.assert_allclose(mapping.from_time_major(out.numpy()), a, rtol=0, atol=1e-13)
    # and back again: every weight exactly; biases folded into b_ih (GRU keeps b_hn apart)
    again = mapping.to_torch(cell, layers)
    for k, v in module.state_dict().items():
        if k.startswith("weight"):
            np.testing.assert_array_equal(again[k], v.numpy())
        elif cell == "gru" and k.startswith("bias_hh"):
            np.testing.assert_array_equal(again[k][2 * N_A :], v.numpy()[2 * N_A :])
    total = {k: v.numpy() for k, v in module.state_dict().items()}
    for i in range(LAYERS):
        folded = again[f"bias_ih_l{i}"] + again[f"bias_hh_l{i}"]
        np.testing.assert_allclose(folded, total[f"bias_ih_l{i}"] + total[f"bias_hh_l{i}"])


def test_lstm_gate_order_is_i_f_g_o():
    p = {
        k: np.zeros((2, 5)) if k[0] == "W" else np.zeros((2, 1))
        for k in charmodel.layer_names("lstm")
    }
    for n, g in enumerate("ifco"):
        p["b" + g][:] = n + 1
    sd = mapping.layer_to_torch("lstm", p)
    np.testing.assert_array_equal(sd["bias_ih_l0"], [1, 1, 2, 2, 3, 3, 4, 4])
    assert sd["weight_ih_l0"].shape == (8, 3) and sd["weight_hh_l0"].shape == (8, 2)


def test_notes_gru_does_not_map_and_differs_from_reset_after():
    rng = np.random.default_rng(2)
    (notes,) = [charmodel.layer_params(charmodel.init_model("gru", N_X, N_A, 1, rng), 0)]
    notes = {k: v + 0.5 * rng.standard_normal(v.shape) for k, v in notes.items()}
    with pytest.raises(ValueError, match="relevance gate"):
        mapping.layer_to_torch("gru", notes)
    after = {**notes, "bch": np.zeros((N_A, 1))}
    x = rng.standard_normal((N_X, M, T))
    state = (rng.standard_normal((N_A, M)),)
    a_notes, _, _ = charmodel.layer_forward("gru", x, state, notes)
    a_after, _, _ = charmodel.layer_forward("gru", x, state, after)
    assert np.abs(a_notes - a_after).max() > 1e-3  # different functions, not a rounding gap
    # with the relevance gate saturated at 1 the two coincide
    sat = {k: v.copy() for k, v in notes.items()}
    sat["Wr"][:] = 0
    sat["br"][:] = 50.0
    a1, _, _ = charmodel.layer_forward("gru", x, state, sat)
    a2, _, _ = charmodel.layer_forward("gru", x, state, {**sat, "bch": np.zeros((N_A, 1))})
    np.testing.assert_allclose(a1, a2, atol=1e-12)
