"""Torch twin of :mod:`dltool_wordvec.similarity`: cosines and analogies on any device.

Same formulas (course notes' cosine similarity; 3CosAdd/3CosMul of Levy & Goldberg 2014);
the batched analogy search is what ``dltool wordvec evaluate`` and ``debias`` run on an
accelerator (on the CPU they run the NumPy reference, whose BLAS matmul measured faster).
"""

from __future__ import annotations

import torch

EPS_MUL = 1e-3


def cosine_similarity(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Return u·v / (‖u‖₂ ‖v‖₂)."""
    return torch.dot(u, v) / (torch.linalg.vector_norm(u) * torch.linalg.vector_norm(v))


def normalize_rows(E: torch.Tensor) -> torch.Tensor:
    """Return E with every row divided by its length ‖e‖₂ (zero rows stay zero)."""
    norms = torch.linalg.vector_norm(E, dim=1, keepdim=True)  # (V, 1)
    return E / torch.where(norms > 0, norms, torch.ones_like(norms))


def analogy_scores(unit: torch.Tensor, a: int, b: int, c: int, method: str = "add") -> torch.Tensor:
    """Return the 3CosAdd or 3CosMul score of every word x as the answer to a : b :: c : x."""
    cos_a, cos_b, cos_c = (unit @ unit[i] for i in (a, b, c))  # (V,) each
    if method == "add":
        return cos_b - cos_a + cos_c
    if method == "mul":
        return (cos_b + 1) / 2 * (cos_c + 1) / 2 / ((cos_a + 1) / 2 + EPS_MUL)
    raise ValueError(f"unknown analogy method {method!r}")


def analogy_batch(
    unit: torch.Tensor, questions: torch.Tensor, method: str = "add", batch: int = 1024
) -> torch.Tensor:
    """Return the predicted row for each question (a, b, c) of ``questions`` (Q, 3), inputs
    excluded, answers searched among all rows of ``unit`` (R, d)."""
    preds = []
    for start in range(0, len(questions), batch):
        q = questions[start : start + batch]  # (B, 3)
        if method == "add":  # Σ of cosines = one product with ê_b − ê_a + ê_c
            scores = (unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]) @ unit.T  # (B, R)
        else:
            cos_a, cos_b, cos_c = (unit[q[:, k]] @ unit.T for k in range(3))  # (B, R) each
            scores = (cos_b + 1) / 2 * (cos_c + 1) / 2 / ((cos_a + 1) / 2 + EPS_MUL)
        scores.scatter_(1, q, float("-inf"))
        preds.append(scores.argmax(dim=1))
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)
