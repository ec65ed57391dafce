"""The "Operations on word vectors" assignment's functions under the course's names.

NumPy in, NumPy out; ``word_to_vec_map`` is the course's dict ``{word: vector (d,)}``. Each
function is a thin translation onto dltool's one implementation: cosine similarity and row
normalization of :mod:`dltool_wordvec.similarity`, neutralize and equalize of
:mod:`dltool_wordvec.debias`. Inputs are checked at the boundary, in one line naming the function,
the argument and the expected layout: a vector of the wrong shape raises :class:`ShapeError`, a
word missing from ``word_to_vec_map`` :class:`MissingKeyError`; both are
:class:`~dltool.errors.DltoolError` (and ValueError or KeyError) with a hint.
"""

from __future__ import annotations

import numpy as np

from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_keys,
    check_shape,
    check_tuple,
)
from dltool_wordvec import debias as _debias
from dltool_wordvec import similarity as _similarity

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "cosine_similarity",
    "complete_analogy",
    "neutralize",
    "equalize",
]


def _vectors(func: str, word_to_vec_map, words, **named) -> dict:
    """Check the words are in the map and the map's and ``named`` vectors share one (d,) layout.

    Returns {word: vector (d,)} of ``words``; ``named`` are extra (d,) vectors such as g.
    """
    check_keys(func, "word_to_vec_map", word_to_vec_map, list(words))
    sizes: dict = {}
    for word in words:
        sizes = check_shape(
            func, f"word_to_vec_map[{word!r}]", word_to_vec_map[word], "(d,)", dims=sizes
        )
    for name, vector in named.items():
        sizes = check_shape(func, name, vector, "(d,)", dims=sizes)
    return {w: np.asarray(word_to_vec_map[w], dtype=float) for w in words}


def cosine_similarity(u, v):
    """Return u·v / (‖u‖₂ ‖v‖₂); as in the course 1 when u = v and 0 when either is zero.

    The internals give NaN for a zero vector; the course's two special cases come first.
    """
    check_shape(
        "cosine_similarity", "v", v, "(d,)", dims=check_shape("cosine_similarity", "u", u, "(d,)")
    )
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if np.all(u == v):
        return 1.0
    if not (np.any(u) and np.any(v)):
        return 0.0
    return _similarity.cosine_similarity(u, v)


def complete_analogy(word_a, word_b, word_c, word_to_vec_map):
    """Return the word w ≠ word_c maximizing cos(e_b − e_a, e_w − e_c).

    This is the course's formula and its exclusion: only word_c is skipped, so word_a or word_b
    can be the answer (the internals rank by 3CosAdd on unit vectors and skip all three); words
    are lower-cased and ties go to the first word in the map's order, as in the course.
    """
    word_a, word_b, word_c = word_a.lower(), word_b.lower(), word_c.lower()
    e = _vectors("complete_analogy", word_to_vec_map, dict.fromkeys((word_a, word_b, word_c)))
    e_a, e_b, e_c = e[word_a], e[word_b], e[word_c]
    words = [w for w in word_to_vec_map if w != word_c]
    if not words:
        return None
    E = _stack("complete_analogy", word_to_vec_map, words, e_c.shape) - e_c  # (V, d)
    if not np.any(e_b - e_a):  # the course's cosine: 1 where e_w = e_c, else 0
        return words[int(np.argmax(~E.any(axis=1)))]
    cos = _similarity.similarities(_similarity.normalize_rows(E), e_b - e_a)  # (V,)
    return words[int(np.argmax(cos))]


def neutralize(word, g, word_to_vec_map):
    """Return e_debiased = e − (e·g / ‖g‖²) g for e = word_to_vec_map[word]."""
    return _debias.neutralize(_vectors("neutralize", word_to_vec_map, [word], g=g)[word], g)


def equalize(pair, bias_axis, word_to_vec_map):
    """Return (e_1, e_2): the pair's vectors moved symmetric about μ_⊥ along ``bias_axis``.

    With μ = (e_w1 + e_w2)/2, μ_B its projection on g and μ_⊥ = μ − μ_B:
    e_i = sqrt(|1 − ‖μ_⊥‖²|) (e_wiB − μ_B) / ‖e_wi − μ_⊥ − μ_B‖ + μ_⊥ (the course's formula).
    """
    w1, w2 = check_tuple("equalize", "pair", pair, "(w1, w2)")
    e = _vectors("equalize", word_to_vec_map, [w1, w2], bias_axis=bias_axis)
    return _debias.equalize(e[w1], e[w2], bias_axis)


def _stack(func: str, word_to_vec_map, words: list, shape: tuple) -> np.ndarray:
    """Return the (V, d) stack of the words' vectors, raising ShapeError unless all are (d,)."""
    try:
        E = np.stack([np.asarray(word_to_vec_map[w], dtype=float) for w in words])
    except ValueError:  # vectors of different shapes
        E = None
    if E is None or E.shape[1:] != shape:
        bad = next(w for w in words if np.shape(word_to_vec_map[w]) != shape)
        check_shape(
            func, f"word_to_vec_map[{bad!r}]", word_to_vec_map[bad], "(d,)", dims={"d": shape[0]}
        )
    return E
