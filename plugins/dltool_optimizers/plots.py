"""PNG figures of the optimizers commands: cost curves with decision boundaries, schedules,
and the random search's dev metric against its hyperparameters."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from dltool.data import datasets
from dltool.nn import network
from dltool.report import figure


def _boundary(ax, problem, params, hidden, title):
    """Draw the predicted class over the data's 2-D range and the train points."""
    predict = partial(network.predict, params=params, hidden=hidden)
    X, y = problem.X_train, problem.y_train
    datasets.draw_decision_regions(ax, problem.ds, problem.mu, problem.sigma, predict, X, y, 200, 8)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def compare_figure(path: Path, outcomes, problem, hidden: str, title: str) -> Path:
    """Plot every optimizer's cost per epoch, then (2-D data) each decision boundary."""
    two_d = problem.ds.X.shape[1] == 2
    cols = 1 + (len(outcomes) if two_d else 0)
    with figure(path, 1, cols, figsize=(4.2 * cols, 4), squeeze=False) as (fig, axes):
        ax = axes[0, 0]
        for o, style in zip(outcomes, ("-", "--", "-.", ":") * 2, strict=False):
            ax.plot(np.arange(1, len(o.costs) + 1), o.costs, style, label=o.name, lw=1.4)
        ax.set_xlabel("epoch")
        ax.set_ylabel("cost J (mean over the epoch's batches)")
        ax.set_yscale("log" if min(min(o.costs) for o in outcomes) > 0 else "linear")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend()
        if two_d:
            for ax, o in zip(axes[0, 1:], outcomes, strict=True):
                acc = o.metrics["train_acc"]
                _boundary(ax, problem, o.params, hidden, f"{o.name}: train {acc:.1f}%")
    return path


def schedule_figure(path: Path, epochs: list[int], lrs: list[float], title: str) -> Path:
    """Plot α against the epoch as steps."""
    with figure(path, figsize=(6, 4)) as (fig, ax):
        ax.step(epochs, lrs, where="post")
        ax.set_xlabel("epoch")
        ax.set_ylabel("learning rate α")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    return path


def search_figure(path: Path, trials: list[dict], names: list[str], scales: dict) -> Path:
    """Plot the dev accuracy of every finished trial against each sampled hyperparameter."""
    names = names or ["trial"]
    with figure(path, 1, len(names), figsize=(4 * len(names), 3.6), squeeze=False) as (fig, axes):
        for ax, name in zip(axes[0], names, strict=True):
            for rnd in sorted({t["round"] for t in trials}):
                pts = [
                    t
                    for t in trials
                    if t["round"] == rnd and t["metrics"].get("dev_acc") is not None
                ]
                x = [t["config"].get(name, t["id"]) for t in pts]
                y = [t["metrics"]["dev_acc"] for t in pts]
                ax.scatter(x, y, s=16, label=f"round {rnd}")
            scale = scales.get(name, "linear")
            if scale == "log":
                ax.set_xscale("log")
            elif scale == "one_minus_log":
                ax.set_xscale("function", functions=(_oml, _oml_inv))
                ax.set_xticks([1 - 10.0**-k for k in range(1, 5)])
                ax.set_xticklabels(["0.9", "0.99", "0.999", "0.9999"])
            ax.set_xlabel(name)
            ax.set_ylabel("dev accuracy %")
            ax.grid(alpha=0.3)
        axes[0, 0].legend(fontsize=8)
    return path


def _oml(x):
    """Return −log10(1 − x), the axis on which β is sampled uniformly."""
    return -np.log10(np.clip(1 - np.asarray(x, dtype=float), 1e-12, None))


def _oml_inv(y):
    """Return 1 − 10^(−y)."""
    return 1 - 10 ** (-np.asarray(y, dtype=float))
