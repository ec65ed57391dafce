"""The course exercise's expected outputs on GloVe 6B 50d: cosine similarity, neutralize and
equalize (values printed by the notes' assignment, reproduced to float32 precision)."""

from __future__ import annotations

import numpy as np
import pytest
from dltool_wordvec import debias, vectors
from dltool_wordvec.similarity import cosine_similarity


@pytest.fixture(scope="module")
def vec(glove_cache):
    """Return word -> float64 GloVe vector, through the shared test cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLTOOL_CACHE", str(glove_cache))
        emb = vectors.load(None)
    return lambda w: np.asarray(emb.vectors[emb.index(w)], dtype=np.float64)


def test_cosine_similarity_exercise(vec):
    assert cosine_similarity(vec("father"), vec("mother")) == pytest.approx(0.890903844289, 1e-7)
    assert cosine_similarity(vec("ball"), vec("crocodile")) == pytest.approx(0.274392462614, 1e-7)
    diff = cosine_similarity(vec("france") - vec("paris"), vec("rome") - vec("italy"))
    assert diff == pytest.approx(-0.675147930817, 1e-7)


def test_neutralize_and_equalize_exercise(vec):
    g = debias.bias_direction(vec("woman"), vec("man"))
    e = vec("receptionist")
    assert cosine_similarity(e, g) == pytest.approx(0.330779417506, 1e-7)
    assert abs(cosine_similarity(debias.neutralize(e, g), g)) < 1e-12
    assert cosine_similarity(vec("man"), g) == pytest.approx(-0.117110957653, 1e-6)
    assert cosine_similarity(vec("woman"), g) == pytest.approx(0.356666188463, 1e-6)
    e1, e2 = debias.equalize(vec("man"), vec("woman"), g)
    assert cosine_similarity(e1, g) == pytest.approx(-0.700436428931, 1e-7)
    assert cosine_similarity(e2, g) == pytest.approx(0.700436428931, 1e-7)
