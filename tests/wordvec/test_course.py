"""dltool_wordvec.course: the course's functions against today's implementation (randomized
vectors) and against the course's published outputs.

Published values: a1mohamad/DeepLearning_specialization,
course5_Sequence_models/W2A1/Operations_on_word_vectors_v2a.ipynb (the public
complete_analogy_test, the triads' printed answers on GloVe 6B 50d, the printed cosine
similarities of names and of "receptionist" with g = e_woman − e_man).
"""

from __future__ import annotations

import numpy as np
import pytest
from dltool_support import caught_in_a_notebook, raises_one_line
from dltool_wordvec import course, debias, vectors
from dltool_wordvec.similarity import cosine_similarity as cos_internal

from dltool.errors import MissingKeyError, ShapeError


@pytest.fixture(scope="module")
def word_to_vec_map(glove_cache):
    """The course's {word: vector (50,)} of GloVe 6B 50d, through the shared test cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLTOOL_CACHE", str(glove_cache))
        emb = vectors.load(None)
    V = np.asarray(emb.vectors, dtype=np.float64)
    return dict(zip(emb.words, V, strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_functions_are_the_internals(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 12))
    words = [f"w{i}" for i in range(20)]
    w2v = {w: rng.standard_normal(d) for w in words}
    u, v, g = rng.standard_normal((3, d))
    assert course.cosine_similarity(u, v) == pytest.approx(cos_internal(u, v), rel=1e-12)
    np.testing.assert_allclose(course.neutralize("w3", g, w2v), debias.neutralize(w2v["w3"], g))
    e1, e2 = course.equalize(("w1", "w2"), g, w2v)
    r1, r2 = debias.equalize(w2v["w1"], w2v["w2"], g)
    np.testing.assert_allclose(e1, r1)
    np.testing.assert_allclose(e2, r2)
    best = course.complete_analogy("w0", "W1", "w2", w2v)  # lower-cased as in the course
    scores = {
        w: cos_internal(w2v["w1"] - w2v["w0"], w2v[w] - w2v["w2"]) for w in words if w != "w2"
    }
    assert best == max(scores, key=scores.get)


def test_cosine_similarity_special_cases():
    """The course's cases: u = v gives 1 (zero vectors included), one zero vector gives 0."""
    z, u = np.zeros(4), np.arange(1.0, 5.0)
    assert course.cosine_similarity(z, z) == 1.0
    assert course.cosine_similarity(u, z) == 0.0
    assert course.cosine_similarity(z, u) == 0.0
    assert course.cosine_similarity(u, u) == 1.0


def test_complete_analogy_course_public_test():
    """The course's complete_analogy_test on its hand-made two-dimensional map."""
    a, c = [3, 3], [-2, 1]
    w2v = {
        "a": a,
        "synonym_of_a": a,
        "a_nw": [2, 4],
        "a_s": [3, 2],
        "c": c,
        "c_n": [-2, 2],
        "c_ne": [-1, 2],
        "c_e": [-1, 1],
        "c_se": [-1, 0],
        "c_s": [-2, 0],
        "c_sw": [-3, 0],
        "c_w": [-3, 1],
        "c_nw": [-3, 2],
    }
    w2v = {k: np.array(v) for k, v in w2v.items()}
    assert course.complete_analogy("a", "a_nw", "c", w2v) == "c_nw"
    assert course.complete_analogy("a", "a_s", "c", w2v) == "c_s"
    assert course.complete_analogy("a", "synonym_of_a", "c", w2v) != "c"
    assert course.complete_analogy("a", "c", "a", w2v) == "c"


def test_glove_course_published_outputs(word_to_vec_map):
    w2v = word_to_vec_map
    triads = {
        ("italy", "italian", "spain"): "spanish",
        ("india", "delhi", "japan"): "tokyo",
        ("man", "woman", "boy"): "girl",
        ("small", "smaller", "large"): "smaller",  # word_b may be the answer, as in the course
    }
    for triad, answer in triads.items():
        assert course.complete_analogy(*triad, w2v) == answer
    g = w2v["woman"] - w2v["man"]
    assert course.cosine_similarity(w2v["john"], g) == pytest.approx(-0.23163356145973724, rel=1e-6)
    assert course.cosine_similarity(w2v["marie"], g) == pytest.approx(0.315597935396073, rel=1e-6)
    e = w2v["receptionist"]
    assert course.cosine_similarity(e, g) == pytest.approx(0.3307794175059374, rel=1e-6)
    assert abs(course.cosine_similarity(course.neutralize("receptionist", g, w2v), g)) < 1e-12


_M = {"man": np.array([1.0, 0.0, 0.0]), "woman": np.array([0.0, 1.0, 0.0])}
_M |= {"king": np.array([1.0, 0.0, 1.0]), "queen": np.array([0.0, 1.0, 1.0])}

BAD = [
    (
        lambda: course.cosine_similarity(np.ones(3), np.ones(4)),
        ShapeError,
        "cosine_similarity: v must be (d,) with d = 3, got (4,)",
    ),
    (
        lambda: course.cosine_similarity(np.ones((1, 3)), np.ones(3)),
        ShapeError,
        "cosine_similarity: u must be (d,), got (1, 3)",
    ),
    (
        lambda: course.complete_analogy("man", "woman", "prince", _M),
        MissingKeyError,
        "complete_analogy: word_to_vec_map has no prince",
    ),
    (
        lambda: course.complete_analogy("man", "woman", "king", dict(_M, queen=np.ones(2))),
        ShapeError,
        "complete_analogy: word_to_vec_map['queen'] must be (d,) with d = 3, got (2,)",
    ),
    (
        lambda: course.neutralize("king", np.ones(4), _M),
        ShapeError,
        "neutralize: g must be (d,) with d = 3, got (4,)",
    ),
    (
        lambda: course.equalize(("king", "queen", "man"), np.ones(3), _M),
        ShapeError,
        "equalize: pair must be (w1, w2), got 3 items",
    ),
    (
        lambda: course.equalize(("king", "actress"), np.ones(3), _M),
        MissingKeyError,
        "equalize: word_to_vec_map has no actress",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
    assert course.complete_analogy("man", "woman", "king", _M) == "queen"
