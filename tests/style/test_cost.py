"""Style transfer costs: known values, NumPy vs torch parity (float64), gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_style import cost as ref
from dltool_style import cost_torch as tc

from dltool.nn.gradcheck import gradient_check


def _nhwc_to_torch(a: np.ndarray) -> torch.Tensor:
    """Return (1, n_H, n_W, n_C) NumPy activations as torch (1, n_C, n_H, n_W) float64."""
    return torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()


def _rand(rng, shape):
    return rng.standard_normal(shape)


def test_unroll_puts_filter_i_in_row_i():
    a = np.arange(2 * 3 * 4, dtype=float).reshape(1, 2, 3, 4)
    A = ref.unroll(a)
    assert A.shape == (4, 6)
    for i in range(4):
        np.testing.assert_array_equal(A[i], a[0, :, :, i].ravel())
    torch.testing.assert_close(tc.gram_matrix(_nhwc_to_torch(a))[0], torch.from_numpy(A @ A.T))


def test_known_values():
    a_C = np.zeros((1, 2, 2, 3))
    a_G = np.ones((1, 2, 2, 3))
    assert ref.compute_content_cost(a_C, a_G) == pytest.approx(12 / (4 * 12))
    # G_S = 0, G_G = n_H n_W everywhere: Σ = n_C² (n_H n_W)² -> J = 1/4
    assert ref.compute_layer_style_cost(a_C, a_G) == pytest.approx(0.25)
    np.testing.assert_array_equal(
        ref.gram_matrix(np.array([[1.0, 2.0], [3.0, 4.0]])), [[5, 11], [11, 25]]
    )
    assert ref.total_cost(2.0, 0.5) == pytest.approx(10 * 2.0 + 40 * 0.5)
    ramp = np.arange(4, dtype=float).reshape(1, 2, 2, 1)  # rows differ by 2, columns by 1
    assert ref.total_variation(ramp) == pytest.approx((2 * 4 + 2 * 1) / 4)
    assert ref.compute_layer_style_cost(a_G, a_G) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numpy_torch_parity_float64(seed):
    rng = np.random.default_rng(seed)
    n_H, n_W, n_C = rng.integers(2, 7, size=3)
    a_C, a_S, a_G = (_rand(rng, (1, n_H, n_W, n_C)) for _ in range(3))
    tC, tS, tG = map(_nhwc_to_torch, (a_C, a_S, a_G))
    assert tc.content_cost(tC, tG).item() == pytest.approx(ref.compute_content_cost(a_C, a_G))
    assert tc.layer_style_cost(tS, tG).item() == pytest.approx(
        ref.compute_layer_style_cost(a_S, a_G), rel=1e-12
    )
    assert tc.total_variation(tG).item() == pytest.approx(ref.total_variation(a_G))
    # weighted style cost over layers of different shapes
    shapes = {"l1": (1, 5, 6, 3), "l2": (1, 3, 2, 8)}
    lam = {"l1": 0.3, "l2": 0.7}
    S = {k: _rand(rng, s) for k, s in shapes.items()}
    G = {k: _rand(rng, s) for k, s in shapes.items()}
    grams = {k: tc.gram_matrix(_nhwc_to_torch(v)) for k, v in S.items()}
    j_style = tc.style_cost(grams, {k: _nhwc_to_torch(v) for k, v in G.items()}, lam)
    assert j_style.item() == pytest.approx(ref.compute_style_cost(S, G, lam), rel=1e-12)
    j = tc.total_cost(tc.content_cost(tC, tG), j_style, alpha=3.0, beta=7.0)
    expected = ref.total_cost(
        ref.compute_content_cost(a_C, a_G), ref.compute_style_cost(S, G, lam), 3.0, 7.0
    )
    assert j.item() == pytest.approx(expected, rel=1e-12)


def test_batched_costs_equal_per_example_reference():
    rng = np.random.default_rng(5)
    m, n_H, n_W, n_C = 3, 4, 5, 6
    a_S, a_G = _rand(rng, (1, n_H, n_W, n_C)), _rand(rng, (m, n_H, n_W, n_C))
    tG = torch.from_numpy(a_G).permute(0, 3, 1, 2)
    G_S = tc.gram_matrix(_nhwc_to_torch(a_S))  # (1, n_C, n_C) broadcast over the batch
    got = tc.layer_style_cost_from_gram(G_S, tG)
    assert got.shape == (m,)
    for i in range(m):
        assert got[i].item() == pytest.approx(ref.compute_layer_style_cost(a_S, a_G[i : i + 1]))
    tv = tc.total_variation(tG)
    assert [pytest.approx(ref.total_variation(a_G[i : i + 1])) for i in range(m)] == tv.tolist()


def test_blended_style_cost_is_weighted_sum_of_style_costs():
    rng = np.random.default_rng(7)
    lam = {"a": 1.0}
    S1, S2, G = (_nhwc_to_torch(_rand(rng, (1, 4, 4, 3))) for _ in range(3))
    g1, g2 = {"a": tc.gram_matrix(S1)}, {"a": tc.gram_matrix(S2)}
    got = tc.blended_style_cost([g1, g2], [0.7, 0.3], {"a": G}, lam)
    want = 0.7 * tc.style_cost(g1, {"a": G}, lam) + 0.3 * tc.style_cost(g2, {"a": G}, lam)
    torch.testing.assert_close(got, want)


def test_closed_form_gradients_match_autograd():
    rng = np.random.default_rng(3)
    a_C, a_S, a_G = (_rand(rng, (1, 3, 4, 5)) for _ in range(3))
    tG = _nhwc_to_torch(a_G).requires_grad_(True)
    tc.content_cost(_nhwc_to_torch(a_C), tG).sum().backward()
    np.testing.assert_allclose(
        tG.grad.permute(0, 2, 3, 1).numpy(), ref.content_cost_gradient(a_C, a_G), rtol=1e-12
    )
    tG.grad = None
    tc.layer_style_cost(_nhwc_to_torch(a_S), tG).sum().backward()
    np.testing.assert_allclose(
        tG.grad.permute(0, 2, 3, 1).numpy(), ref.layer_style_cost_gradient(a_S, a_G), rtol=1e-10
    )


def test_gradients_against_two_sided_differences_of_numpy_reference():
    rng = np.random.default_rng(11)
    a_C, a_S = _rand(rng, (1, 3, 3, 2)), _rand(rng, (1, 3, 3, 2))
    params = {"a_G": _rand(rng, (1, 3, 3, 2))}

    def J(p):
        g = p["a_G"]
        return ref.total_cost(
            ref.compute_content_cost(a_C, g), ref.compute_layer_style_cost(a_S, g)
        ) + 0.5 * ref.total_variation(g)

    tG = _nhwc_to_torch(params["a_G"]).requires_grad_(True)
    j = tc.total_cost(
        tc.content_cost(_nhwc_to_torch(a_C), tG), tc.layer_style_cost(_nhwc_to_torch(a_S), tG)
    )
    (j + 0.5 * tc.total_variation(tG)).sum().backward()
    grads = {"da_G": tG.grad.permute(0, 2, 3, 1).numpy()}
    result = gradient_check(J, params, grads, epsilon=1e-6)
    assert result.difference < 1e-7, result.difference


def test_torch_gradcheck():
    gen = torch.Generator().manual_seed(0)
    a_C, a_S, a_G = (torch.randn(2, 3, 4, 3, dtype=torch.float64, generator=gen) for _ in range(3))
    a_G.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda g: tc.content_cost(a_C, g), (a_G,))
    assert torch.autograd.gradcheck(lambda g: tc.layer_style_cost(a_S, g), (a_G,))
    assert torch.autograd.gradcheck(tc.total_variation, (a_G,))
