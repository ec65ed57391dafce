"""PNG figures of basicnn: cost curve, decision boundary of 2-D data, activation functions."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from dltool.data import datasets
from dltool.nn import activations as act
from dltool.nn import network
from dltool.report import figure


def cost_curve(path: Path, costs: list[float], title: str, first: int = 1) -> Path:
    """Plot J per epoch, the first cost at epoch ``first`` (log scale when every J > 0)."""
    with figure(path, figsize=(6, 4)) as (fig, ax):
        ax.plot(np.arange(first, first + len(costs)), costs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("cost J")
        ax.set_yscale("log" if min(costs) > 0 else "linear")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    return path


def decision_boundary(path: Path, ds, X, y, params, hidden, mu, sigma) -> Path:
    """Plot the predicted class over the data's 2-D range and the points X (2, m) coloured by y."""
    with figure(path, figsize=(6, 5)) as (fig, ax):
        predict = partial(network.predict, params=params, hidden=hidden)
        datasets.draw_decision_regions(ax, ds, mu, sigma, predict, X, y)
        ax.set_xlabel(ds.features[0])
        ax.set_ylabel(ds.features[1])
        ax.set_title(f"decision boundary ({ds.name}, train set)")
    return path


def activations(path: Path, span: float) -> Path:
    """Plot each elementwise activation with its derivative, and softmax of (z, 0, −z/2)."""
    grid = np.linspace(-span, span, 401)
    with figure(path, 2, 3, figsize=(12, 7)) as (fig, axes):
        for ax, name in zip(axes.flat, ("sigmoid", "tanh", "relu", "leaky_relu"), strict=False):
            ax.plot(grid, act.activation(name)(grid), label=f"{name}(z)")
            ax.plot(grid, act.derivative(name)(grid), "--", label=f"{name}'(z)")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        S = act.softmax(np.stack([grid, np.zeros_like(grid), -grid / 2]), axis=0)  # (3, 401)
        ax = axes.flat[4]
        for j, label in enumerate(("z", "0", "−z/2")):
            ax.plot(grid, S[j], label=f"softmax_{j + 1} (logit {label})")
        # ∂s1/∂z = s1(1 − s1)·1 − s1 s3·(−1/2)
        ax.plot(grid, S[0] * (1 - S[0]) + S[0] * S[2] / 2, "--", label="∂softmax_1/∂z")
        ax.set_title("softmax of (z, 0, −z/2)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        axes.flat[5].axis("off")
    return path
