"""The figures of facerec: distance histograms with the ROC curve, and training curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_evaluation(path: Path, rep: dict[str, Any], title: str) -> None:
    """Write histograms of genuine/impostor distances and the ROC curve to ``path``."""
    import numpy as np

    from dltool.report import figure

    with figure(path, 1, 2, figsize=(10, 4)) as (_fig, (ax, ax_roc)):
        hi = max(rep["genuine"].max(initial=0), rep["impostor"].max(initial=0)) * 1.05 + 1e-9
        bins = np.linspace(0, hi, 40)
        ax.hist(rep["impostor"], bins=bins, alpha=0.6, label=f"impostor ({len(rep['impostor'])})")
        ax.hist(rep["genuine"], bins=bins, alpha=0.6, label=f"genuine ({len(rep['genuine'])})")
        ax.axvline(rep["threshold"], color="k", ls="--", label=f"threshold {rep['threshold']:.3f}")
        ax.set(xlabel="‖f(a) − f(b)‖", ylabel="pairs", title=title)
        ax.legend()
        ax_roc.plot(rep["curve"]["fpr"], rep["curve"]["tpr"], "-", lw=2)
        ax_roc.plot([0, 1], [0, 1], ":", color="grey")
        ax_roc.set(xlabel="false positive rate", ylabel="true positive rate",
                   title=f"ROC (AUC {rep['auc']:.3f})")  # fmt: skip
        ax_roc.grid(alpha=0.3)


def plot_curves(path: Path, rows: list[dict[str, float]]) -> None:
    """Write the loss and active-triplet fraction per epoch."""
    from dltool.report import figure

    epochs = [r["epoch"] for r in rows]
    with figure(path, 1, 2, figsize=(9, 3.5)) as (_fig, (ax1, ax2)):
        ax1.plot(epochs, [r["loss"] for r in rows], "o-")
        ax1.set(xlabel="epoch", ylabel="triplet loss", title="loss")
        ax2.plot(epochs, [r["active"] for r in rows], "o-", color="C1")
        ax2.set(xlabel="epoch", ylabel="fraction", title="active triplets", ylim=(0, 1.05))
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)
