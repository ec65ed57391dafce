"""The classification problem the commands train on: data, split, standardization, network.

``DataSpec`` names a built-in data set (generated from its own seed) or a CSV/NPZ file;
:func:`prepare` returns the train and dev splits as the notes' (n_x, m) matrices,
standardized with the train mean and std. :func:`train_network` trains an L-layer network
from He initialization (``np.random.seed(seed)``) with :func:`dltool.nn.training.fit`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from dltool.data import datasets
from dltool.nn import network
from dltool.nn.training import Settings, fit, initial_parameters


@dataclass(frozen=True)
class DataSpec:
    """Which data to use: a built-in set (and its size/noise) or a file, and the split."""

    dataset: str = "moons"
    samples: int = 300
    noise: float = 0.2
    classes: int = 3
    file: str | None = None
    target: str | None = None
    split: str = "0.8,0.2"
    seed: int = 3

    def as_dict(self) -> dict:
        """Return the fields as a plain dict."""
        return asdict(self)


@dataclass
class Problem:
    """Standardized train/dev splits X (n_x, m), labels (m,), and what describes them."""

    ds: datasets.Dataset
    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray

    @property
    def n_x(self) -> int:
        """Return the number of input features."""
        return self.X_train.shape[0]

    @property
    def n_y(self) -> int:
        """Return the output units: 1 (sigmoid) for two classes, K (softmax) otherwise."""
        k = len(self.ds.classes)
        return 1 if k == 2 else k


def prepare(spec: DataSpec) -> Problem:
    """Return the standardized train/dev splits of ``spec``'s data (a non-empty dev set)."""
    ds = datasets.load(
        spec.dataset, spec.file, spec.target, spec.samples, spec.noise, spec.seed, spec.classes
    )
    splits, mu, sigma = datasets.standardized_splits(ds, spec.split, spec.seed, need_dev=True)
    return Problem(ds, *splits["train"], *splits["dev"], mu, sigma)


def init_params(dims: list[int], seed: int, dtype=np.float64) -> dict[str, np.ndarray]:
    """Return He-initialized W1 … WL, b1 … bL drawn after ``np.random.seed(seed)``."""
    return initial_parameters(dims, seed, "he", dtype=dtype)


def evaluate(problem: Problem, params: dict, hidden: str, settings: Settings) -> dict:
    """Return train/dev accuracy (%) and the dev cost of ``params``."""
    metrics = {
        "train_acc": 100 * network.accuracy(problem.X_train, problem.y_train, params, hidden),
        "dev_acc": 100 * network.accuracy(problem.X_dev, problem.y_dev, params, hidden),
        "dev_cost": float("nan"),
    }
    if problem.y_dev.size:
        Y = network.targets(problem.y_dev, params[f"W{network.n_layers(params)}"].shape[0])
        ZL, _ = network.forward(problem.X_dev, params, hidden)
        metrics["dev_cost"] = network.compute_cost(ZL, Y, params, settings.lambd)
    return metrics


def train_network(
    problem: Problem, params: dict, settings: Settings, backend="numpy", device=None, threads=None
):
    """Return (params, costs per epoch, seconds) of training from ``params`` (a copy);
    ``threads`` is the width the user fixed, None when not fixed."""
    params = {k: v.copy() for k, v in params.items()}
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        params, costs = fit(
            problem.X_train, problem.y_train, params, settings, backend, device, None, threads
        )
    return params, costs, time.perf_counter() - t0
