"""Triplet loss, online mining and matching: NumPy reference vs torch twin vs autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_facerec import match as M
from dltool_facerec import match_torch as MT
from dltool_facerec import triplet as T
from dltool_facerec import triplet_torch as TT


def unit_rows(rng, m, d=128):
    """Return m random unit vectors of dimension d."""
    E = rng.standard_normal((m, d))
    return E / np.linalg.norm(E, axis=1, keepdims=True)


def test_triplet_loss_known_values():
    A = np.array([[0.0, 0.0], [0.0, 0.0]])
    P = np.array([[1.0, 0.0], [0.1, 0.0]])
    N = np.array([[0.0, 0.5], [3.0, 0.0]])
    # row 0: 1 − 0.25 + 0.2 = 0.95; row 1: 0.01 − 9 + 0.2 < 0 → 0
    assert T.triplet_loss(A, P, N) == pytest.approx(0.95)
    assert T.triplet_loss(A, P, N, alpha=0.0) == pytest.approx(0.75)


@pytest.mark.parametrize(("m", "seed"), [(1, 0), (7, 1), (32, 2)])
def test_triplet_loss_parity_and_gradients(m, seed):
    rng = np.random.default_rng(seed)
    A, P, N = (unit_rows(rng, m) * 0.6 for _ in range(3))
    tA, tP, tN = (torch.tensor(x, requires_grad=True) for x in (A, P, N))
    loss = TT.triplet_loss(tA, tP, tN)
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(T.triplet_loss(A, P, N), rel=1e-12, abs=1e-12)
    loss.backward()
    for ours, theirs in zip(T.triplet_loss_grads(A, P, N), (tA, tP, tN), strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-12)


def test_triplet_gradient_numerically():
    rng = np.random.default_rng(3)
    A, P, N = (rng.standard_normal((4, 5)) * 0.3 for _ in range(3))
    gA = T.triplet_loss_grads(A, P, N)[0]
    eps = 1e-6
    num = np.zeros_like(A)
    for idx in np.ndindex(*A.shape):
        Ap, Am = A.copy(), A.copy()
        Ap[idx] += eps
        Am[idx] -= eps
        num[idx] = (T.triplet_loss(Ap, P, N) - T.triplet_loss(Am, P, N)) / (2 * eps)
    np.testing.assert_allclose(gA, num, atol=1e-6)


def brute_batch_all(E, labels, alpha):
    """Loop over every (a, p, n) and average the hinge over the active ones."""
    losses, valid = [], 0
    m = len(E)
    for a in range(m):
        for p in range(m):
            for n in range(m):
                if a == p or labels[a] != labels[p] or labels[a] == labels[n]:
                    continue
                valid += 1
                value = T.triplet_loss(E[a : a + 1], E[p : p + 1], E[n : n + 1], alpha)
                if value > 0:
                    losses.append(value)
    return sum(losses) / max(len(losses), 1), len(losses) / max(valid, 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_batch_all_against_loops_and_torch(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=9)
    E = unit_rows(rng, 9, 16)
    loss, active = T.batch_all_triplet_loss(E, labels, 0.2)
    b_loss, b_active = brute_batch_all(E, labels, 0.2)
    assert loss == pytest.approx(b_loss, rel=1e-10)
    assert active == pytest.approx(b_active)
    assert 0 < active <= 1
    t_loss, t_active = TT.batch_all_triplet_loss(torch.tensor(E), torch.tensor(labels), 0.2)
    assert float(t_loss) == pytest.approx(loss, rel=1e-12)
    assert float(t_active) == pytest.approx(active)


def test_batch_all_zero_when_separated():
    E = np.array([[1.0, 0], [1.0, 0], [-1.0, 0], [-1.0, 0]])
    loss, active = T.batch_all_triplet_loss(E, np.array([0, 0, 1, 1]), 0.2)
    assert loss == 0.0 and active == 0.0


@pytest.mark.parametrize("seed", [0, 5, 9])
def test_semi_hard_numpy_matches_torch_and_definition(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=12)
    E = unit_rows(rng, 12, 8) * 0.4
    ours = T.semi_hard_triplets(E, labels, 0.2)
    theirs = TT.semi_hard_triplets(torch.tensor(E), torch.tensor(labels), 0.2).numpy()
    key = np.lexsort(ours.T[::-1])
    np.testing.assert_array_equal(ours[key], theirs[np.lexsort(theirs.T[::-1])])
    D = T.pairwise_sq_distances(E)
    for a, p, n in ours:
        assert labels[a] == labels[p] != labels[n] and a != p
        negs = np.nonzero(labels != labels[a])[0]
        semi = [k for k in negs if D[a, p] < D[a, k] < D[a, p] + 0.2]
        if semi:
            assert n == min(semi, key=lambda k: D[a, k])
        else:
            assert D[a, n] == D[a, negs].max()


def test_pairwise_distances_parity():
    E = unit_rows(np.random.default_rng(4), 10, 128)
    D = T.pairwise_sq_distances(E)
    np.testing.assert_allclose(D, ((E[:, None] - E[None]) ** 2).sum(-1), atol=1e-12)
    np.testing.assert_allclose(D, TT.pairwise_sq_distances(torch.tensor(E)).numpy(), atol=1e-12)


def test_identify_and_verify():
    rng = np.random.default_rng(6)
    E = unit_rows(rng, 50)
    names = [f"p{i % 5}" for i in range(50)]
    Q = E[[3, 17]] + 0.01 * rng.standard_normal((2, 128))
    Q = np.vstack([Q, unit_rows(rng, 1) * 5])  # far from everyone
    found = M.identify(Q, E, names, 0.6)
    assert [f[0] for f in found] == ["p3", "p2", M.UNKNOWN]
    assert found[0][1] == pytest.approx(np.linalg.norm(Q[0] - E[3]), rel=1e-9)
    j, d = MT.nearest(torch.tensor(Q), torch.tensor(E))
    assert j[:2].tolist() == [3, 17]
    np.testing.assert_allclose(d.numpy(), [f[1] for f in found], rtol=1e-9)
    np.testing.assert_allclose(M.distances(Q, E), MT.distances(torch.tensor(Q), torch.tensor(E)))
    assert M.verify(Q[0], E[[3, 4]], 0.6) == (True, pytest.approx(found[0][1]))
    assert M.verify(Q[2], E, 0.6)[0] is False
    assert M.identify(Q, E[:0], [], 0.6)[0][0] == M.UNKNOWN
