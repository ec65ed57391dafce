"""RNN, GRU and LSTM cells and BPTT: known values, numerical gradients, torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_rnn import cells_torch, charmodel, clipping, gru, lstm, rnn

from dltool.nn.gradcheck import gradient_check

N_X, N_A, M, T = 3, 4, 2, 5
VARIANTS = [("rnn", False), ("lstm", False), ("gru", False), ("gru", True)]


def _layer_params(cell, reset_after, rng):
    """Return one layer's parameters with non-zero biases, in float64."""
    p = charmodel.layer_params(
        charmodel.init_model(cell, N_X, N_A, 1, rng, reset_after=reset_after), 0
    )
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}


def _cell_step(cell, xt, state, p):
    """Return the new state of one NumPy cell step and its cache."""
    if cell == "rnn":
        a, _, cache = rnn.rnn_cell_forward(xt, state[0], p)
        return (a,), cache
    if cell == "gru":
        a, _, cache = gru.gru_cell_forward(xt, state[0], p)
        return (a,), cache
    a, c, _, cache = lstm.lstm_cell_forward(xt, state[0], state[1], p)
    return (a, c), cache


def _cell_back(cell, dstate, cache):
    """Return the gradients of one NumPy cell step given dJ/d(new state)."""
    if cell == "rnn":
        return rnn.rnn_cell_backward(dstate[0], cache)
    if cell == "gru":
        return gru.gru_cell_backward(dstate[0], cache)
    return lstm.lstm_cell_backward(dstate[0], dstate[1], cache)


def test_course_known_values_rnn_cell_and_sequence():
    np.random.seed(1)
    xt, a_prev = np.random.randn(3, 10), np.random.randn(5, 10)
    Waa, Wax, Wya = np.random.randn(5, 5), np.random.randn(5, 3), np.random.randn(2, 5)
    ba, by = np.random.randn(5, 1), np.random.randn(2, 1)
    p = {"Waa": Waa, "Wax": Wax, "Wya": Wya, "ba": ba, "by": by}
    a_next, yt, _ = rnn.rnn_cell_forward(xt, a_prev, p)
    np.testing.assert_allclose(
        a_next[4],
        [0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201]
        + [0.99980978, -0.18887155, 0.99815551, 0.6531151, 0.82872037],
        atol=1e-8,
    )
    np.testing.assert_allclose(yt[1][:3], [0.9888161, 0.01682021, 0.21140899], atol=1e-8)
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 4), np.random.randn(5, 10)
    p = {"Waa": np.random.randn(5, 5), "Wax": np.random.randn(5, 3)}
    p.update(Wya=np.random.randn(2, 5), ba=np.random.randn(5, 1), by=np.random.randn(2, 1))
    a, y, _ = rnn.rnn_forward(x, a0, p)
    assert a.shape == (5, 10, 4) and y.shape == (2, 10, 4)
    np.testing.assert_allclose(
        a[4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267], atol=1e-8
    )


def test_course_known_values_lstm_cell():
    np.random.seed(1)
    xt, a_prev, c_prev = np.random.randn(3, 10), np.random.randn(5, 10), np.random.randn(5, 10)
    p = {}
    for g in "fioc":
        p["W" + g], p["b" + g] = np.random.randn(5, 8), np.random.randn(5, 1)
    p["Wy"], p["by"] = np.random.randn(2, 5), np.random.randn(2, 1)
    a_next, c_next, yt, _ = lstm.lstm_cell_forward(xt, a_prev, c_prev, p)
    np.testing.assert_allclose(
        a_next[4][:5], [-0.66408471, 0.0036921, 0.02088357, 0.22834167, -0.85575339], atol=1e-8
    )
    assert c_next.shape == (5, 10) and yt.shape == (2, 10)
    np.testing.assert_allclose(yt.sum(axis=0), 1.0)


def test_hand_computed_values():
    p = {"Wax": np.array([[2.0]]), "Waa": np.array([[0.5]]), "ba": np.zeros((1, 1))}
    a, _, _ = rnn.rnn_cell_forward(np.array([[0.25]]), np.array([[1.0]]), p)
    assert a[0, 0] == pytest.approx(np.tanh(1.0))
    zeros = {k: np.zeros_like(v) for k, v in lstm.init_parameters(1, 1).items()}
    a, c, _, _ = lstm.lstm_cell_forward(
        np.ones((1, 1)), np.ones((1, 1)), 2 * np.ones((1, 1)), zeros
    )
    assert c[0, 0] == pytest.approx(1.0) and a[0, 0] == pytest.approx(0.5 * np.tanh(1.0))
    zeros = {k: np.zeros_like(v) for k, v in gru.init_parameters(1, 1).items()}
    a, _, _ = gru.gru_cell_forward(np.ones((1, 1)), 0.8 * np.ones((1, 1)), zeros)
    assert a[0, 0] == pytest.approx(0.4)  # Γu = 1/2, c̃ = tanh(0) = 0


@pytest.mark.parametrize("cell,reset_after", VARIANTS)
def test_cell_backward_matches_numerical_and_autograd(cell, reset_after):
    rng = np.random.default_rng(3)
    p = _layer_params(cell, reset_after, rng)
    xt = rng.standard_normal((N_X, M))
    state = tuple(rng.standard_normal((N_A, M)) for _ in range(2 if cell == "lstm" else 1))
    G = [rng.standard_normal((N_A, M)) for _ in state]

    def cost(q):
        new, _ = _cell_step(cell, q["xt"], tuple(q[f"s{i}"] for i in range(len(state))), q)
        return float(sum((s * g).sum() for s, g in zip(new, G, strict=True)))

    _, cache = _cell_step(cell, xt, state, p)
    grads = _cell_back(cell, G, cache)
    grads = {**grads, "ds0": grads["da_prev"]}
    if cell == "lstm":
        grads["ds1"] = grads["dc_prev"]
    full = {**p, "xt": xt, **{f"s{i}": s for i, s in enumerate(state)}}
    result = gradient_check(cost, full, grads)
    assert result.difference < 1e-7, result.per_parameter

    torch_cell = cells_torch.make_cell(cell, N_X, N_A, reset_after).double()
    with torch.no_grad():
        for k in torch_cell.names:
            getattr(torch_cell, k).copy_(torch.from_numpy(p[k]))
    xt_t = torch.tensor(xt, requires_grad=True)
    st_t = tuple(torch.tensor(s, requires_grad=True) for s in state)
    new = torch_cell(xt_t, st_t)
    sum((s * torch.from_numpy(g)).sum() for s, g in zip(new, G, strict=True)).backward()
    for k in torch_cell.names:
        np.testing.assert_allclose(grads["d" + k], getattr(torch_cell, k).grad, atol=1e-12)
    np.testing.assert_allclose(grads["dxt"], xt_t.grad, atol=1e-12)
    np.testing.assert_allclose(grads["da_prev"], st_t[0].grad, atol=1e-12)


@pytest.mark.parametrize("cell,reset_after", VARIANTS)
def test_sequence_backward_matches_numerical_and_autograd(cell, reset_after):
    rng = np.random.default_rng(5)
    p = _layer_params(cell, reset_after, rng)
    x = rng.standard_normal((N_X, M, T))
    a0 = rng.standard_normal((N_A, M))
    c0 = rng.standard_normal((N_A, M))
    G = rng.standard_normal((N_A, M, T))
    state = (a0, c0) if cell == "lstm" else (a0,)

    def cost(q):
        st = (q["a0"], q["c0"]) if cell == "lstm" else (q["a0"],)
        a, _, _ = charmodel.layer_forward(cell, q["x"], st, q)
        return float((a * G).sum())

    a, _, caches = charmodel.layer_forward(cell, x, state, p)
    grads = charmodel.layer_backward(cell, G, caches)
    full = {**p, "x": x, "a0": a0} | ({"c0": c0} if cell == "lstm" else {})
    result = gradient_check(cost, full, grads)
    assert result.difference < 1e-7, result.per_parameter

    layer = cells_torch.Recurrent(cells_torch.make_cell(cell, N_X, N_A, reset_after)).double()
    with torch.no_grad():
        for k in layer.cell.names:
            getattr(layer.cell, k).copy_(torch.from_numpy(p[k]))
    x_t = torch.tensor(x, requires_grad=True)
    st_t = tuple(torch.tensor(s, requires_grad=True) for s in state)
    a_t, _ = layer(x_t, st_t)
    np.testing.assert_allclose(a, a_t.detach(), atol=1e-13)
    (a_t * torch.from_numpy(G)).sum().backward()
    for k in layer.cell.names:
        np.testing.assert_allclose(grads["d" + k], getattr(layer.cell, k).grad, atol=1e-12)
    np.testing.assert_allclose(grads["dx"], x_t.grad, atol=1e-12)
    np.testing.assert_allclose(grads["da0"], st_t[0].grad, atol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(grads["dc0"], st_t[1].grad, atol=1e-12)


@pytest.mark.parametrize("cell,reset_after", VARIANTS)
@pytest.mark.parametrize("layers", [1, 2])
def test_char_model_gradients(cell, reset_after, layers):
    rng = np.random.default_rng(layers)
    n_x = 5
    p = charmodel.init_model(cell, n_x, N_A, layers, rng, reset_after=reset_after)
    p = {k: v + 0.2 * rng.standard_normal(v.shape) for k, v in p.items()}
    x = charmodel.one_hot(rng.integers(0, n_x, (M, T)), n_x)
    targets = rng.integers(0, n_x, (M, T))
    state = charmodel.initial_state(cell, layers, N_A, M)
    logp, _, caches = charmodel.forward(cell, p, x, state)
    grads = charmodel.backward(cell, p, logp, targets, caches)

    def cost(q):
        return charmodel.loss(charmodel.forward(cell, q, x, state)[0], targets)

    assert gradient_check(cost, p, grads).difference < 1e-7

    model = cells_torch.CharModel.from_flat(p)
    logp_t, _ = model(torch.from_numpy(x))
    loss_t = cells_torch.sequence_loss(logp_t, torch.from_numpy(targets))
    assert loss_t.item() == pytest.approx(charmodel.loss(logp, targets), abs=1e-13)
    loss_t.backward()
    for key, param in model.flat_items():
        np.testing.assert_allclose(grads["d" + key], param.grad, atol=1e-12)


def test_flat_round_trip_and_describe():
    p = charmodel.init_model("gru", 7, 6, 2, reset_after=True)
    assert charmodel.describe(p) == ("gru", 7, 6, 2, True)
    back = cells_torch.CharModel.from_flat(p).to_flat()
    assert back.keys() == p.keys()
    for k in p:
        np.testing.assert_array_equal(back[k], p[k])


def test_clip_by_value_and_norm():
    g = {"dW": np.array([[3.0, -12.0]]), "db": np.array([[4.0]])}
    clipped = clipping.clip_by_value(g, 5.0)
    np.testing.assert_array_equal(clipped["dW"], [[3.0, -5.0]])
    np.testing.assert_array_equal(g["dW"], [[3.0, -12.0]])  # inputs untouched
    by_norm, norm = clipping.clip_by_norm(g, 6.5)
    assert norm == pytest.approx(13.0)
    assert clipping.global_norm(by_norm) == pytest.approx(6.5)
    np.testing.assert_allclose(by_norm["dW"] / g["dW"], 0.5)
    same, _ = clipping.clip_by_norm(g, 100.0)
    np.testing.assert_array_equal(same["db"], g["db"])
    tg = {"dW": torch.tensor([[3.0, -12.0]])}
    assert clipping.clip_by_value(tg, 5.0)["dW"].tolist() == [[3.0, -5.0]]
    with pytest.raises(ValueError):
        clipping.clip_by_norm(g, 0.0)
