"""Torch twin vs NumPy reference in float64: forward, cost and every gradient (≤ 1e-8 rel)."""

import numpy as np
import pytest
import torch

from dltool.nn import gradcheck, init, network
from dltool.nn import network_torch as nt

CASES = [
    ([5, 4, 1], "relu", 0.0, 1.0),
    ([6, 7, 5, 3, 1], "relu", 0.5, 1.0),
    ([6, 7, 5, 3, 1], "relu", 0.0, 0.7),
    ([4, 8, 3], "tanh", 0.2, 0.8),
    ([8, 10, 6, 10], "leaky_relu", 0.1, 0.9),
    ([3, 5, 2], "sigmoid", 0.0, 1.0),
]


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def _setup(dims, keep_prob, seed):
    np.random.seed(seed)
    m = 11
    X = np.random.randn(dims[0], m)
    labels = np.random.randint(0, max(dims[-1], 2), m)
    params = init.initialize_parameters(dims, "he")
    for k in range(1, len(dims)):
        params[f"b{k}"] = np.random.randn(dims[k], 1) * 0.1
    masks = network.draw_masks(dims, m, keep_prob) if keep_prob < 1 else None
    return X, labels, params, masks


@pytest.mark.parametrize("dims,hidden,lambd,keep_prob", CASES)
def test_forward_cost_and_gradients_match_autograd(dims, hidden, lambd, keep_prob):
    X, labels, params, masks = _setup(dims, keep_prob, seed=len(dims) + int(10 * keep_prob))
    Y = network.targets(labels, dims[-1])
    ZL, caches = network.forward(X, params, hidden, keep_prob, masks)
    J = network.compute_cost(ZL, Y, params, lambd)
    grads = network.backward(ZL, Y, caches, hidden, keep_prob, lambd)

    model = nt.build(dims, hidden, keep_prob, params, "cpu", torch.float64)
    Xt = torch.tensor(X.T, requires_grad=True)
    tmasks = nt.masks_to_torch(masks, dtype=torch.float64) if masks else None
    logits = model(Xt, tmasks, record=True)
    Jt = nt.cost(model, logits, torch.tensor(labels), lambd)
    Jt.backward()
    tgrads = nt.to_grads(model)

    assert _rel(logits.detach().numpy().T, ZL) < 1e-12
    for k, cache in enumerate(caches[1:], start=1):
        assert _rel(model.inputs[k].detach().numpy().T, cache["A_prev"]) < 1e-12
    assert Jt.item() == pytest.approx(J, rel=1e-12)
    expected = {f"{p}{k}" for k in range(1, len(dims)) for p in ("dW", "db")}
    expected |= {f"dA{k}" for k in range(len(dims) - 1)}
    assert set(grads) == expected == set(tgrads)
    for key in expected:
        assert _rel(grads[key], tgrads[key]) <= 1e-8, key


def test_params_round_trip():
    X, labels, params, _ = _setup([3, 4, 2], 1.0, seed=0)
    model = nt.build([3, 4, 2], "relu", 1.0, params, "cpu", torch.float64)
    back = nt.to_params(model)
    for k, v in params.items():
        np.testing.assert_array_equal(back[k], v)


def test_torch_autograd_passes_gradient_check():
    dims = [4, 5, 3, 1]
    X, labels, params, masks = _setup(dims, 0.8, seed=3)
    tmasks = nt.masks_to_torch(masks, dtype=torch.float64)
    Yt = torch.tensor(labels)

    def cost(p):
        model = nt.build(dims, "tanh", 0.8, p, "cpu", torch.float64)
        with torch.no_grad():
            return nt.cost(model, model(torch.tensor(X.T), tmasks), Yt, 0.4).item()

    model = nt.build(dims, "tanh", 0.8, params, "cpu", torch.float64)
    nt.cost(model, model(torch.tensor(X.T), tmasks), Yt, 0.4).backward()
    res = gradcheck.gradient_check(cost, params, nt.to_grads(model))
    assert res.difference < 1e-7


def test_random_dropout_in_torch_keeps_expected_fraction():
    torch.manual_seed(0)
    model = nt.DeepNet([50, 400, 1], "relu", keep_prob=0.75).double()
    model(torch.randn(64, 50, dtype=torch.float64), record=True)
    # inputs of layer 2 are zero where dropped (and where ReLU is 0)
    A = model.inputs[1].detach()
    model.eval()
    model(torch.zeros(1, 50, dtype=torch.float64))
    frac_zero = (A == 0).double().mean().item()
    assert 0.55 < frac_zero < 0.7  # ≈ 1 − 0.5·0.75 = 0.625
