"""Train one network with several update rules from the same start on the same batches.

Every optimizer gets a copy of the same He-initialized parameters and
``Settings.shuffle_seed`` (epoch e shuffles with ``RandomState(seed + e)``), so the only
difference between the runs is the update rule of :mod:`dltool.nn.optimizers`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from dltool.nn.training import Settings
from dltool_optimizers.problem import Problem, evaluate, init_params, train_network


@dataclass
class Outcome:
    """One optimizer's run: final parameters, cost per epoch, metrics and seconds."""

    name: str
    params: dict
    costs: list[float]
    metrics: dict
    seconds: float


def compare(
    problem: Problem,
    dims: list[int],
    names: list[str],
    settings: Settings,
    seed: int,
    backend: str = "numpy",
    device=None,
    on_done=None,
    threads: int | None = None,
) -> list[Outcome]:
    """Return the outcome of training ``dims`` with each optimizer in ``names``.

    ``threads`` is the width the user fixed (--threads), None when not fixed.
    """
    start = init_params(dims, seed)
    outcomes = []
    for name in names:
        s = replace(settings, optimizer=name, shuffle_seed=seed)
        params, costs, secs = train_network(problem, start, s, backend, device, threads)
        metrics = {"final_cost": costs[-1], **evaluate(problem, params, s.hidden, s)}
        outcomes.append(Outcome(name, params, costs, metrics, secs))
        if on_done is not None:
            on_done(outcomes[-1])
    return outcomes


def rows(outcomes: list[Outcome]) -> list[dict]:
    """Return one table row per optimizer."""
    return [
        {
            "optimizer": o.name,
            "final_cost": round(float(o.metrics["final_cost"]), 5),
            "train_acc_%": round(o.metrics["train_acc"], 2),
            "dev_acc_%": round(o.metrics["dev_acc"], 2)
            if np.isfinite(o.metrics["dev_acc"])
            else None,
            "time_s": round(o.seconds, 3),
        }
        for o in outcomes
    ]
