"""The "Operations on word vectors" assignment's functions under the course's names.

NumPy in, NumPy out; ``word_to_vec_map`` is the course's dict ``{word: vector (d,)}``. Each
function is a thin translation onto dltool's one implementation: cosine similarity and row
normalization of :mod:`dltool_wordvec.similarity`, neutralize and equalize of
:mod:`dltool_wordvec.debias`.
"""

from __future__ import annotations

import numpy as np

from dltool_wordvec import debias as _debias
from dltool_wordvec import similarity as _similarity


def cosine_similarity(u, v):
    """Return u·v / (‖u‖₂ ‖v‖₂); as in the course 1 when u = v and 0 when either is zero.

    The internals give NaN for a zero vector; the course's two special cases come first.
    """
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
    e_a, e_b, e_c = (np.asarray(word_to_vec_map[w], dtype=float) for w in (word_a, word_b, word_c))
    words = [w for w in word_to_vec_map if w != word_c]
    if not words:
        return None
    E = np.stack([np.asarray(word_to_vec_map[w], dtype=float) for w in words]) - e_c  # (V, d)
    if not np.any(e_b - e_a):  # the course's cosine: 1 where e_w = e_c, else 0
        return words[int(np.argmax(~E.any(axis=1)))]
    cos = _similarity.similarities(_similarity.normalize_rows(E), e_b - e_a)  # (V,)
    return words[int(np.argmax(cos))]


def neutralize(word, g, word_to_vec_map):
    """Return e_debiased = e − (e·g / ‖g‖²) g for e = word_to_vec_map[word]."""
    return _debias.neutralize(np.asarray(word_to_vec_map[word], dtype=float), g)


def equalize(pair, bias_axis, word_to_vec_map):
    """Return (e_1, e_2): the pair's vectors moved symmetric about μ_⊥ along ``bias_axis``.

    With μ = (e_w1 + e_w2)/2, μ_B its projection on g and μ_⊥ = μ − μ_B:
    e_i = sqrt(|1 − ‖μ_⊥‖²|) (e_wiB − μ_B) / ‖e_wi − μ_⊥ − μ_B‖ + μ_⊥ (the course's formula).
    """
    w1, w2 = pair
    return _debias.equalize(
        np.asarray(word_to_vec_map[w1], dtype=float),
        np.asarray(word_to_vec_map[w2], dtype=float),
        bias_axis,
    )
