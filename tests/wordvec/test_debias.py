"""Neutralize/equalize (course notes' formulas): properties, vectorized == per word, torch twin."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_wordvec import debias, debias_torch


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_projection_known_value():
    g = np.array([2.0, 0.0, 0.0])
    e = np.array([3.0, 4.0, 5.0])
    np.testing.assert_allclose(debias.projection(e, g), [3.0, 0.0, 0.0])
    np.testing.assert_allclose(debias.neutralize(e, g), [0.0, 4.0, 5.0])


@pytest.mark.parametrize("d", [3, 50, 300])
def test_neutralize_leaves_no_projection(rng, d):
    g = rng.normal(size=d)
    for _ in range(20):
        e = rng.normal(size=d) * 5
        out = debias.neutralize(e, g)
        assert abs(out @ g / np.linalg.norm(g)) < 1e-12
        np.testing.assert_allclose(out + debias.projection(e, g), e, atol=1e-12)


def test_equalize_equidistant_and_opposite(rng):
    d = 50
    g = rng.normal(size=d)
    neutral = [debias.neutralize(rng.normal(size=d), g) for _ in range(25)]
    for scale in (0.3, 1.0, 4.0):  # unit-ish vectors as in debiasing, and raw GloVe-like norms
        e1, e2 = (rng.normal(size=d) * scale for _ in range(2))
        a, b = debias.equalize(e1, e2, g)
        np.testing.assert_allclose(a @ g, -(b @ g), rtol=1e-12, atol=1e-12)
        assert abs(a @ g) > 1e-6
        np.testing.assert_allclose(np.linalg.norm(a), np.linalg.norm(b), rtol=1e-12)
        for w in neutral:
            np.testing.assert_allclose(
                np.linalg.norm(a - w), np.linalg.norm(b - w), rtol=1e-12, atol=1e-12
            )
            np.testing.assert_allclose(a @ w, b @ w, rtol=1e-10, atol=1e-12)


def test_equalize_matches_notes_by_hand():
    g = np.array([1.0, 0.0])
    e1, e2 = np.array([0.6, 0.3]), np.array([-0.2, 0.5])
    mu = (e1 + e2) / 2  # (0.2, 0.4)
    mu_orth = np.array([0.0, 0.4])
    scale = np.sqrt(abs(1 - 0.16))
    want1 = scale * (np.array([0.6, 0]) - [0.2, 0]) / np.linalg.norm(e1 - mu_orth - [0.2, 0])
    want2 = scale * (np.array([-0.2, 0]) - [0.2, 0]) / np.linalg.norm(e2 - mu_orth - [0.2, 0])
    a, b = debias.equalize(e1, e2, g)
    np.testing.assert_allclose(a, want1 + mu_orth)
    np.testing.assert_allclose(b, want2 + mu_orth)
    assert mu[1] == 0.4


def test_vectorized_equals_per_word(rng):
    V, P, d = 200, 12, 50
    E = rng.normal(size=(V, d))
    g = rng.normal(size=d)
    want = np.stack([debias.neutralize(e, g) for e in E])
    np.testing.assert_allclose(debias.neutralize_all(E, g), want, atol=1e-13)
    E1, E2 = rng.normal(size=(P, d)), rng.normal(size=(P, d))
    A, B = debias.equalize_all(E1, E2, g)
    for i in range(P):
        a, b = debias.equalize(E1[i], E2[i], g)
        np.testing.assert_allclose(A[i], a, atol=1e-13)
        np.testing.assert_allclose(B[i], b, atol=1e-13)


def _per_word_hard_debias(E, g, neutral, pairs):
    """Hard debias one word at a time with the notes' per-word functions."""
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    D = np.stack([unit(e) for e in E])
    for i in np.flatnonzero(neutral):
        D[i] = unit(debias.neutralize(D[i], g))
    for i, j in pairs:
        D[i], D[j] = debias.equalize(D[i], D[j], g)
    return np.stack([unit(e) for e in D])


def test_hard_debias_whole_vocabulary(rng):
    V, d = 300, 50
    E = rng.normal(size=(V, d)) * 3
    g = rng.normal(size=d)
    pairs = np.array([[0, 1], [2, 3], [4, 5]])
    neutral = np.ones(V, dtype=bool)
    neutral[:10] = False
    D = debias.hard_debias(E, g, neutral, pairs)
    np.testing.assert_allclose(D, _per_word_hard_debias(E, g, neutral, pairs), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1, atol=1e-12)
    assert np.max(np.abs(D[neutral] @ g)) / np.linalg.norm(g) < 1e-12
    for i, j in pairs:
        np.testing.assert_allclose(D[i] @ g, -(D[j] @ g), atol=1e-12)
        np.testing.assert_allclose(D[neutral] @ D[i], D[neutral] @ D[j], atol=1e-12)
    np.testing.assert_allclose(
        D[6:10], E[6:10] / np.linalg.norm(E[6:10], axis=1)[:, None], atol=1e-15
    )


def test_bias_direction_pca_recovers_planted_axis(rng):
    d, P = 20, 10
    axis = np.zeros(d)
    axis[3] = 1.0
    base = rng.normal(size=(P, d))
    pairs = np.stack([base + axis * 2 + 0.01 * rng.normal(size=(P, d)), base - axis * 2], axis=1)
    g = debias.bias_direction_pca(pairs)
    assert g @ axis > 0.999
    np.testing.assert_allclose(np.linalg.norm(g), 1)
    np.testing.assert_allclose(
        debias.bias_direction(pairs[0, 0], pairs[0, 1]) / 4 @ axis, 1, atol=0.02
    )


def test_torch_twin_parity(rng):
    V, P, d = 150, 8, 30
    E = rng.normal(size=(V, d))
    g = rng.normal(size=d)
    tE, tg = torch.from_numpy(E), torch.from_numpy(g)
    np.testing.assert_allclose(
        debias_torch.neutralize_all(tE, tg).numpy(), debias.neutralize_all(E, g), atol=1e-13
    )
    A, B = debias.equalize_all(E[:P], E[P : 2 * P], g)
    tA, tB = debias_torch.equalize_all(tE[:P], tE[P : 2 * P], tg)
    np.testing.assert_allclose(tA.numpy(), A, atol=1e-13)
    np.testing.assert_allclose(tB.numpy(), B, atol=1e-13)
    np.testing.assert_allclose(
        debias_torch.cosine_to(tE, tg).numpy(), debias.cosine_to(E, g), atol=1e-13
    )
    pairs3 = np.stack([E[:P] + 2 * g, E[:P] - 2 * g], axis=1)
    np.testing.assert_allclose(
        debias_torch.bias_direction_pca(torch.from_numpy(pairs3)).numpy(),
        debias.bias_direction_pca(pairs3),
        atol=1e-10,
    )
    neutral = np.ones(V, dtype=bool)
    neutral[: 2 * P] = False
    pairs = np.stack([np.arange(P), np.arange(P, 2 * P)], axis=1)
    want = debias.hard_debias(E, g, neutral, pairs)
    got = debias_torch.hard_debias(tE, tg, torch.from_numpy(neutral), torch.from_numpy(pairs))
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
