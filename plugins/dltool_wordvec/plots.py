"""The figures of wordvec: gender-direction projections as bars, words on 2-D PCA axes."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def bar_chart(path: Path, table: list[dict], method: str) -> None:
    """Draw the projections as horizontal bars (female side right, male side left)."""
    from dltool.report import figure

    height = max(3.0, 0.22 * len(table) + 1)
    with figure(path, figsize=(7, height)) as (_fig, ax):
        values = [t["projection"] for t in table]
        colors = ["tab:red" if v > 0 else "tab:blue" for v in values]
        ax.barh([t["word"] for t in table], values, color=colors)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("cos(e_w, g)   ← male · female →")
        ax.set_title(f"Projection on the gender direction g ({method})")
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(y=0.01)


def scatter(path: Path, Z: Any, labels: list[str], explained: list[float], name: str) -> None:
    """Draw the 2-D points ``Z`` (k, 2) with their labels."""
    import numpy as np

    from dltool.report import figure

    with figure(path, figsize=(7, 6)) as (_fig, ax):
        Z = Z if Z.shape[1] > 1 else np.c_[Z, np.zeros(len(Z))]  # (k, 2)
        ax.scatter(Z[:, 0], Z[:, 1], s=18)
        for (x, y), label in zip(Z, labels, strict=True):
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 3))
        ax.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
        if len(explained) > 1:
            ax.set_ylabel(f"PC2 ({explained[1]:.0%} of variance)")
        ax.set_title(f"{len(labels)} words, 2-D PCA of {name}")
