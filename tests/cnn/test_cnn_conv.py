"""NumPy conv/pool: loop == vectorized == torch autograd (float64); gradient checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from dltool_cnn import conv

from dltool.nn.gradcheck import gradient_check


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Run torch on one thread: small models are fastest so, whatever else loads the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _nchw(x):
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def _conv_cases(n=12):
    rng = np.random.RandomState(0)
    for _ in range(n):
        f = int(rng.randint(1, 5))
        stride = int(rng.randint(1, 4))
        pad = int(rng.randint(0, 3))
        h, w = int(rng.randint(f, 10)), int(rng.randint(f, 10))
        m, cp, c = int(rng.randint(1, 4)), int(rng.randint(1, 4)), int(rng.randint(1, 5))
        yield m, h, w, cp, c, f, stride, pad


@pytest.mark.parametrize("case", list(_conv_cases()))
def test_conv_loop_vectorized_and_torch_agree(case):
    m, h, w, cp, c, f, stride, pad = case
    rng = np.random.RandomState(sum(case))
    A = rng.randn(m, h, w, cp)
    W = rng.randn(f, f, cp, c)
    b = rng.randn(1, 1, 1, c)
    hp = {"stride": stride, "pad": pad}
    Z_loop, cache = conv.conv_forward_loop(A, W, b, **hp)
    Z_vec, cache_v = conv.conv_forward(A, W, b, **hp)
    dZ = rng.randn(*Z_loop.shape)
    grads_loop = conv.conv_backward_loop(dZ, cache)
    grads_vec = conv.conv_backward(dZ, cache_v)

    At = _nchw(A)
    Wt = torch.tensor(np.ascontiguousarray(W.transpose(3, 2, 0, 1)), requires_grad=True)
    bt = torch.tensor(b.reshape(-1), requires_grad=True)
    Zt = F.conv2d(At, Wt, bt, stride=stride, padding=pad)
    Zt.backward(torch.tensor(np.ascontiguousarray(dZ.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(Z_loop, Z_vec, atol=1e-10)
    np.testing.assert_allclose(Z_vec, _nhwc(Zt), atol=1e-10)
    torch_grads = (_nhwc(At.grad), Wt.grad.numpy().transpose(2, 3, 1, 0), bt.grad.numpy())
    for g_loop, g_vec, g_t in zip(grads_loop, grads_vec, torch_grads, strict=True):
        assert g_loop.shape == g_vec.shape
        np.testing.assert_allclose(g_loop, g_vec, atol=1e-10)
        np.testing.assert_allclose(g_vec.reshape(g_t.shape), g_t, atol=1e-10)


def _pool_cases(n=10):
    rng = np.random.RandomState(1)
    for i in range(n):
        f, stride = int(rng.randint(1, 4)), int(rng.randint(1, 4))
        h, w = int(rng.randint(f, 9)), int(rng.randint(f, 9))
        yield (
            int(rng.randint(1, 3)),
            h,
            w,
            int(rng.randint(1, 4)),
            f,
            stride,
            ("max", "average")[i % 2],
        )


@pytest.mark.parametrize("case", list(_pool_cases()))
def test_pool_loop_vectorized_and_torch_agree(case):
    m, h, w, c, f, stride, mode = case
    rng = np.random.RandomState(sum(case[:-1]))
    A = rng.randn(m, h, w, c)
    hp = {"f": f, "stride": stride}
    A_loop, cache = conv.pool_forward_loop(A, mode=mode, **hp)
    A_vec, _ = conv.pool_forward(A, mode=mode, **hp)
    dA = rng.randn(*A_loop.shape)
    dprev_loop = conv.pool_backward_loop(dA, cache, mode)
    dprev_vec = conv.pool_backward(dA, cache, mode)
    At = _nchw(A)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    Pt = pool(At, kernel_size=f, stride=stride)
    Pt.backward(torch.tensor(np.ascontiguousarray(dA.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(A_loop, A_vec, atol=1e-12)
    np.testing.assert_allclose(A_vec, _nhwc(Pt), atol=1e-12)
    np.testing.assert_allclose(dprev_loop, dprev_vec, atol=1e-12)
    np.testing.assert_allclose(dprev_vec, _nhwc(At.grad), atol=1e-12)


def test_zero_pad_and_single_step_known_values():
    x = np.ones((2, 3, 3, 2))
    x_pad = conv.zero_pad(x, 2)
    assert x_pad.shape == (2, 7, 7, 2)
    assert x_pad[:, :2].sum() == 0 and x_pad[:, 2:5, 2:5].sum() == x.sum()
    a = np.arange(12.0).reshape(2, 2, 3)
    assert conv.conv_single_step(a, np.ones((2, 2, 3)), np.array([[[-66.0]]])) == 0.0


def test_output_size_formula_and_no_output():
    assert conv.output_size(6, 3, 1, 0) == 4
    assert conv.output_size(7, 3, 2, 1) == 4
    assert conv.output_size(224, 7, 2, 3) == 112
    assert conv.same_padding(5) == 2
    with pytest.raises(ValueError, match="no output"):
        conv.check_output(2, 2, 5, 1, 1)
    with pytest.raises(ValueError, match="no output"):
        conv.conv_forward(
            np.zeros((1, 3, 3, 1)),
            np.zeros((5, 5, 1, 1)),
            np.zeros((1, 1, 1, 1)),
            stride=1,
            pad=0,
        )


def test_vertical_edge_detector_known_output():
    """The notes' 6x6 half-bright image and 3x3 vertical edge filter give a bright middle stripe."""
    image = np.array([[10.0] * 3 + [0.0] * 3] * 6).reshape(1, 6, 6, 1)
    W = np.array([[1.0, 0.0, -1.0]] * 3).reshape(3, 3, 1, 1)
    Z, _ = conv.conv_forward(image, W, np.zeros((1, 1, 1, 1)), stride=1, pad=0)
    assert Z[0, :, :, 0].tolist() == [[0.0, 30.0, 30.0, 0.0]] * 4


def test_max_mask_and_distribute_value():
    x = np.array([[1.0, 3.0], [4.0, 2.0]])
    assert conv.create_mask_from_window(x).tolist() == [[False, False], [True, False]]
    assert conv.distribute_value(2.0, (2, 2)).tolist() == [[0.5, 0.5], [0.5, 0.5]]


@pytest.mark.parametrize("backward", ["loop", "vectorized"])
def test_conv_gradient_check(backward):
    """Two-sided differences of J = Σ Z·G agree with conv_backward (dltool.nn.gradcheck)."""
    rng = np.random.RandomState(3)
    params = {"A": rng.randn(1, 4, 4, 2), "W": rng.randn(3, 3, 2, 2), "b": rng.randn(1, 1, 1, 2)}
    hp = {"stride": 2, "pad": 1}
    Z, cache = conv.conv_forward(params["A"], params["W"], params["b"], **hp)
    G = rng.randn(*Z.shape)

    def cost(p):
        return float(np.sum(conv.conv_forward(p["A"], p["W"], p["b"], **hp)[0] * G))

    back = conv.conv_backward_loop if backward == "loop" else conv.conv_backward
    dA, dW, db = back(G, cache)
    result = gradient_check(cost, params, {"dA": dA, "dW": dW, "db": db}, epsilon=1e-6)
    assert result.difference < 1e-7, result.per_parameter


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_gradient_check(mode):
    rng = np.random.RandomState(4)
    params = {"A": rng.randn(1, 5, 5, 2)}
    hp = {"f": 2, "stride": 1}
    P, cache = conv.pool_forward(params["A"], mode=mode, **hp)
    G = rng.randn(*P.shape)

    def cost(p):
        return float(np.sum(conv.pool_forward(p["A"], mode=mode, **hp)[0] * G))

    dA = conv.pool_backward(G, cache, mode)
    result = gradient_check(cost, params, {"dA": dA}, epsilon=1e-6)
    assert result.difference < 1e-7


def test_pool_rejects_unknown_mode():
    with pytest.raises(ValueError, match="pooling mode"):
        conv.pool_forward(np.zeros((1, 4, 4, 1)), f=2, stride=2, mode="min")
    with pytest.raises(ValueError, match="pooling mode"):
        conv.pool_forward_loop(np.zeros((1, 4, 4, 1)), f=2, stride=2, mode="avg")


@pytest.mark.parametrize("case", list(_conv_cases(4)))
def test_torch_twin_matches_numpy(case):
    from dltool_cnn import conv_torch

    m, h, w, cp, c, f, stride, pad = case
    rng = np.random.RandomState(sum(case) + 7)
    A, W, b = rng.randn(m, h, w, cp), rng.randn(f, f, cp, c), rng.randn(1, 1, 1, c)
    tensors = [torch.tensor(x, requires_grad=True) for x in (A, W, b)]
    Z_t = conv_torch.conv_forward(*tensors, stride=stride, pad=pad)
    Z, cache = conv.conv_forward(A, W, b, stride=stride, pad=pad)
    np.testing.assert_allclose(Z_t.detach().numpy(), Z, atol=1e-10)
    dZ = rng.randn(*Z.shape)
    Z_t.backward(torch.tensor(dZ))
    for t, g in zip(tensors, conv.conv_backward(dZ, cache), strict=True):
        np.testing.assert_allclose(t.grad.numpy(), g, atol=1e-10)
    for mode in ("max", "average"):
        P_t = conv_torch.pool_forward(torch.tensor(A), 2, 1, mode) if min(h, w) >= 2 else None
        if P_t is not None:
            P, _ = conv.pool_forward(A, 2, 1, mode)
            np.testing.assert_allclose(P_t.numpy(), P, atol=1e-12)


def test_chunked_im2col_matches_the_loop(monkeypatch):
    """With a tiny chunk budget every example is its own chunk; results must not change."""
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)
    rng = np.random.RandomState(9)
    A, W, b = rng.randn(5, 7, 6, 3), rng.randn(3, 3, 3, 4), rng.randn(1, 1, 1, 4)
    Z, cache = conv.conv_forward(A, W, b, 2, 1)
    Z_loop, cache_loop = conv.conv_forward_loop(A, W, b, 2, 1)
    np.testing.assert_allclose(Z, Z_loop, atol=1e-10)
    dZ = rng.randn(*Z.shape)
    for g, g_loop in zip(conv.conv_backward(dZ, cache), conv.conv_backward_loop(dZ, cache_loop),
                         strict=True):  # fmt: skip
        np.testing.assert_allclose(g, g_loop, atol=1e-10)
