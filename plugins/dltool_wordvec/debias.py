"""Hard debiasing of word vectors: bias direction, neutralize, equalize (NumPy reference).

Formulas from the course notes (NLP, "Debiasing word vectors"), after Bolukbasi et al. (2016):

* bias direction ``g = e_woman − e_man`` (notes), or the first principal component of the
  definitional pairs, each pair centred on its mean (Bolukbasi et al., ``--method bolukbasi``);
* neutralize: ``e_bias = (e·g / ‖g‖²) g`` and ``e_debiased = e − e_bias``;
* equalize a pair (w1, w2): ``μ = (e_w1 + e_w2)/2``, ``μ_B = (μ·g/‖g‖²) g``, ``μ_⊥ = μ − μ_B``,
  ``e_wiB = (e_wi·g/‖g‖²) g``,
  ``e_wiB_corrected = sqrt(|1 − ‖μ_⊥‖²|) (e_wiB − μ_B) / ‖(e_wi − μ_⊥) − μ_B‖``,
  ``e_i = e_wiB_corrected + μ_⊥``.

Per-word functions follow the notes; ``*_all`` functions apply the same formulas to a whole
vocabulary ``E`` (V, d) or to all pairs ``E1, E2`` (P, d) at once.
"""

from __future__ import annotations

import numpy as np

from dltool_wordvec.similarity import normalize_rows


def bias_direction(e_woman: np.ndarray, e_man: np.ndarray) -> np.ndarray:
    """Return g = e_woman − e_man."""
    return e_woman - e_man


def bias_direction_pca(pairs: np.ndarray) -> np.ndarray:
    """Return the unit first principal component of the pairs (P, 2, d), each centred on its
    mean, signed to point from the second word of the pairs to the first."""
    centred = pairs - pairs.mean(axis=1, keepdims=True)  # (P, 2, d)
    _, _, vt = np.linalg.svd(centred.reshape(-1, pairs.shape[2]), full_matrices=False)
    g = vt[0]  # (d,)
    return g if np.mean((pairs[:, 0] - pairs[:, 1]) @ g) >= 0 else -g


def projection(e: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Return e_bias = (e·g / ‖g‖²) g."""
    return (np.dot(e, g) / np.dot(g, g)) * g


def neutralize(e: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Return e_debiased = e − (e·g / ‖g‖²) g."""
    return e - projection(e, g)


def equalize(e_w1: np.ndarray, e_w2: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (e_1, e_2): the pair moved symmetric about μ_⊥ along g (notes' formulas)."""
    mu = (e_w1 + e_w2) / 2
    mu_B = projection(mu, g)
    mu_orth = mu - mu_B
    e_w1B, e_w2B = projection(e_w1, g), projection(e_w2, g)
    scale = np.sqrt(np.abs(1 - np.dot(mu_orth, mu_orth)))
    corrected_e_w1B = scale * (e_w1B - mu_B) / np.linalg.norm((e_w1 - mu_orth) - mu_B)
    corrected_e_w2B = scale * (e_w2B - mu_B) / np.linalg.norm((e_w2 - mu_orth) - mu_B)
    return corrected_e_w1B + mu_orth, corrected_e_w2B + mu_orth


def project_all(E: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Return the rows' projections (E g / ‖g‖²) gᵀ, shape (V, d)."""
    return np.outer(E @ g / np.dot(g, g), g)  # (V, d)


def neutralize_all(E: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Return E − (E g / ‖g‖²) gᵀ: every row neutralized, shape (V, d)."""
    return E - project_all(E, g)


def equalize_all(E1: np.ndarray, E2: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return equalize applied to every pair (E1[i], E2[i]), each of shape (P, d)."""
    mu = (E1 + E2) / 2  # (P, d)
    mu_B = project_all(mu, g)
    mu_orth = mu - mu_B
    scale = np.sqrt(np.abs(1 - np.sum(mu_orth * mu_orth, axis=1, keepdims=True)))  # (P, 1)
    out = []
    for E in (E1, E2):
        denom = np.linalg.norm((E - mu_orth) - mu_B, axis=1, keepdims=True)  # (P, 1)
        denom = np.where(denom > 0, denom, 1)
        out.append(scale * (project_all(E, g) - mu_B) / denom + mu_orth)
    return out[0], out[1]


def cosine_to(E: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Return cos(e, g) for every row e of E (V, d), shape (V,)."""
    norms = np.linalg.norm(E, axis=1)
    return E @ g / (np.where(norms > 0, norms, 1) * np.linalg.norm(g))


def hard_debias(E: np.ndarray, g: np.ndarray, neutral: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Return the hard-debiased vocabulary: rows scaled to unit length, the ``neutral`` rows
    (bool mask, V) neutralized and rescaled, the row pairs (P, 2) equalized, all rescaled.

    ``g`` must be the bias direction of the unit rows; a row may appear in one pair only.
    """
    D = normalize_rows(np.array(E, dtype=np.result_type(E.dtype, np.float32)))  # (V, d)
    D[neutral] = normalize_rows(neutralize_all(D[neutral], g))
    if len(pairs):
        D[pairs[:, 0]], D[pairs[:, 1]] = equalize_all(D[pairs[:, 0]], D[pairs[:, 1]], g)
    return normalize_rows(D)
