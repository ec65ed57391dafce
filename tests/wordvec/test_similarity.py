"""Cosine similarity, nearest words, 3CosAdd/3CosMul analogies: known values and torch twin."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_wordvec import similarity as S
from dltool_wordvec import similarity_torch as T


@pytest.fixture
def unit():
    rng = np.random.default_rng(3)
    return S.normalize_rows(rng.normal(size=(400, 16)))


def test_cosine_known_values():
    assert S.cosine_similarity(np.array([1.0, 0]), np.array([0, 2.0])) == 0
    assert S.cosine_similarity(np.array([1.0, 1]), np.array([2.0, 2])) == pytest.approx(1)
    assert S.cosine_similarity(np.array([1.0, 2]), np.array([-1.0, -2])) == pytest.approx(-1)
    assert S.cosine_similarity(np.array([3.0, 4]), np.array([4.0, 3])) == pytest.approx(24 / 25)


def test_normalize_rows_keeps_zero_rows():
    E = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(S.normalize_rows(E), [[0.6, 0.8], [0, 0]])


def test_most_similar_matches_brute_force(unit):
    rows, cos = S.most_similar(unit, 5, n=7)
    brute = sorted(
        ((float(unit[5] @ unit[i]), i) for i in range(len(unit)) if i != 5), reverse=True
    )[:7]
    assert list(rows) == [i for _, i in brute]
    np.testing.assert_allclose(cos, [c for c, _ in brute])


def test_analogy_excludes_inputs_and_finds_planted_answer():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(50, 10))
    E[3] = E[1] - E[0] + E[2] + 0.01 * rng.normal(size=10)  # 0 : 1 :: 2 : 3
    unit = S.normalize_rows(E)
    for method in ("add", "mul"):
        rows, scores = S.analogy(unit, 0, 1, 2, n=5, method=method)
        assert rows[0] == 3
        assert not {0, 1, 2} & set(rows.tolist())
        assert np.all(np.diff(scores) <= 0)


def test_3cosmul_formula():
    unit = S.normalize_rows(np.array([[1.0, 0], [0, 1.0], [1.0, 1.0], [-1.0, 0.5]]))
    scores = S.analogy_scores(unit, 0, 1, 2, "mul")
    cos = unit @ unit.T
    want = (cos[:, 1] + 1) / 2 * (cos[:, 2] + 1) / 2 / ((cos[:, 0] + 1) / 2 + 1e-3)
    np.testing.assert_allclose(scores, want)


def test_doesnt_match():
    unit = S.normalize_rows(np.array([[1.0, 0.1], [1.0, 0.0], [0.9, 0.2], [-0.1, 1.0]]))
    pos, cos = S.doesnt_match(unit)
    assert pos == 3 and cos.shape == (4,)


@pytest.mark.parametrize("method", ["add", "mul"])
def test_batch_equals_single_queries(unit, method):
    rng = np.random.default_rng(1)
    questions = np.stack([rng.choice(len(unit), 3, replace=False) for _ in range(40)])
    got = S.analogy_batch(unit, questions, method, batch=16)
    want = [S.analogy(unit, *q, n=1, method=method)[0][0] for q in questions]
    np.testing.assert_array_equal(got, want)
    tgot = T.analogy_batch(torch.from_numpy(unit), torch.from_numpy(questions), method, batch=7)
    np.testing.assert_array_equal(tgot.numpy(), want)


def test_torch_twin_parity(unit):
    u, v = unit[0] * 3, unit[1] * 0.5
    assert T.cosine_similarity(torch.from_numpy(u), torch.from_numpy(v)).item() == pytest.approx(
        S.cosine_similarity(u, v), abs=1e-15
    )
    E = np.random.default_rng(2).normal(size=(30, 8))
    np.testing.assert_allclose(
        T.normalize_rows(torch.from_numpy(E)).numpy(), S.normalize_rows(E), atol=1e-15
    )
    tu = torch.from_numpy(unit)
    for method in ("add", "mul"):
        np.testing.assert_allclose(
            T.analogy_scores(tu, 4, 9, 11, method).numpy(),
            S.analogy_scores(unit, 4, 9, 11, method),
            atol=1e-13,
        )


def test_agrees_with_gensim(synth):
    from dltool_wordvec.vectors import make_kv

    words, vecs = synth(dim=16, seed=4)
    kv = make_kv(words, vecs)
    unit = S.normalize_rows(vecs)
    i = words.index("king")
    rows, cos = S.most_similar(unit, i, n=5)
    theirs = kv.most_similar("king", topn=5)
    assert [words[r] for r in rows] == [w for w, _ in theirs]
    np.testing.assert_allclose(cos, [c for _, c in theirs], rtol=1e-5)
    a, b, c = (words.index(w) for w in ("man", "woman", "king"))
    rows, _ = S.analogy(unit, a, b, c, n=5)
    theirs = kv.most_similar(positive=["woman", "king"], negative=["man"], topn=5)
    assert [words[r] for r in rows] == [w for w, _ in theirs]
    odd = ["nurse", "doctor", "river", "teacher"]
    pos, _ = S.doesnt_match(unit[[words.index(w) for w in odd]])
    assert odd[pos] == kv.doesnt_match(odd)


@pytest.mark.parametrize("size,n", [(10, 3), (5000, 1), (5000, 10), (100000, 25)])
def test_top_n_equals_full_sort(size, n):
    rng = np.random.default_rng(size + n)
    scores = rng.normal(size=size).astype(np.float32)
    exclude = tuple(int(i) for i in np.argsort(-scores)[:2])  # the two best are excluded
    want = [i for i in np.argsort(-scores, kind="stable") if i not in exclude][:n]
    rows, got = S.top_n(scores.copy(), n, exclude)
    assert list(rows) == want
    np.testing.assert_array_equal(got, scores[want])
    assert len(S.top_n(np.zeros(2), 5, (0, 1))[0]) == 0
