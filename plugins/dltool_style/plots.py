"""Pictures a transfer leaves in its run directory: side-by-side panel and cost curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool.report import figure


def side_by_side(path: Path, panels: list[tuple[str, np.ndarray]]) -> Path:
    """Write content | style(s) | result as one PNG with a title over each image."""
    n = len(panels)
    h, w = panels[-1][1].shape[:2]
    width = min(4.0 * n, 20.0)
    with figure(path, 1, n, figsize=(width, width / n * h / w + 0.6)) as (_fig, axes):
        for ax, (title, img) in zip(np.atleast_1d(axes), panels, strict=True):
            ax.imshow(img)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    return path


def cost_curves(path: Path, rows: list[dict], alpha: float, beta: float, tv: float) -> Path:
    """Write J, α·J_content, β·J_style (and γ·J_tv) against the iteration, log scale."""
    it = [r["iteration"] for r in rows]
    with figure(path, 1, 1, figsize=(6.4, 4.0)) as (_fig, ax):
        ax.plot(it, [r["J"] for r in rows], label="J", color="black", lw=2)
        ax.plot(it, [alpha * r["J_content"] for r in rows], label=f"α·J_content (α={alpha:g})")
        ax.plot(it, [beta * r["J_style"] for r in rows], label=f"β·J_style (β={beta:g})")
        if tv:
            ax.plot(it, [tv * r["J_tv"] for r in rows], label=f"γ·J_tv (γ={tv:g})")
        positive = all(r["J"] > 0 for r in rows)
        if positive and len(rows) > 1:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost")
        ax.set_title("Style transfer cost")
        ax.grid(alpha=0.3)
        ax.legend()
    return path
