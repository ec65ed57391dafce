"""Random hyperparameter search with coarse-to-fine zooming (the notes' tuning process).

A search space maps each hyperparameter to a fixed value or a spec
``{distribution: uniform|int|choice, range: [low, high] | values: [...], scale: …}``.
Sampling happens on the scale that matters:

- ``log``: r ~ U[log10 low, log10 high], value 10^r (α from 10^-4 to 1 spends as many
  trials in [10^-4, 10^-3] as in [0.1, 1]);
- ``one_minus_log`` (β): r ~ U[log10(1 − high), log10(1 − low)], value 1 − 10^r, so β is
  as often in [0.9, 0.99] as in [0.99, 0.999];
- ``linear``: uniform on [low, high] (``int``: a uniform integer).

No grid: every trial draws every hyperparameter afresh from ``RandomState([seed, round,
trial])``. Coarse to fine: after a round, each numeric range shrinks (on its scale) to the
span of the best quarter of the finished trials, widened by a quarter of that span on each
side and kept inside the original range; the next round samples there.

Trials are independent processes' work: :func:`run_trial` takes a plain dict and returns
one, so it runs in a ``ProcessPoolExecutor``. Each finished trial is written to
``trials/<id>.json`` atomically; a resumed search skips the ids already there.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass

import numpy as np

from dltool.errors import DltoolError

DISTRIBUTIONS = ("uniform", "int", "choice")
SCALES = ("linear", "log", "one_minus_log")
HYPER = {
    "lr": "learning rate α in (0, 10]",
    "beta1": "momentum β / Adam β₁ in [0, 1)",
    "beta2": "RMSprop/Adam β₂ in [0, 1)",
    "optimizer": "gd|momentum|rmsprop|adam",
    "layers": "number of hidden layers (1 … 100)",
    "units": "units per hidden layer (1 … 10,000)",
    "batch_size": "mini-batch size (1 … 1,000,000)",
    "epochs": "passes over the training set (1 … 1,000,000)",
    "l2": "L2 strength λ in [0, 100]",
    "keep_prob": "dropout keep probability in (0, 1]",
    "decay_rate": "inverse-time learning-rate decay in [0, 100]",
    "activation": "relu|tanh|sigmoid|leaky_relu",
}
DEFAULTS = {
    "lr": 0.01,
    "beta1": 0.9,
    "beta2": 0.999,
    "optimizer": "adam",
    "layers": 2,
    "units": 10,
    "batch_size": 64,
    "epochs": 200,
    "l2": 0.0,
    "keep_prob": 1.0,
    "decay_rate": 0.0,
    "activation": "relu",
}
INTEGER = ("layers", "units", "batch_size", "epochs")
LIMITS = {  # upper bounds the training checks do not set themselves
    "layers": 100,
    "units": 10_000,
    "batch_size": 1_000_000,
    "epochs": 1_000_000,
    "decay_rate": 100,  # as --decay-rate of compare
}
DATA_TYPES = {  # data: key → (accepted types, what to write)
    "dataset": (str, "a data set name such as moons"),
    "samples": (int, "a whole number"),
    "noise": (int | float, "a number"),
    "classes": (int, "a whole number"),
    "file": (str, "a file path"),
    "target": (str, "a column or array name"),
    "split": (str, 'fractions such as "0.8,0.2"'),
    "seed": (int, "a whole number"),
}
DATA_KEYS = tuple(DATA_TYPES)
SETTINGS_FIELDS = {  # hyperparameter → the field of dltool.nn.training.Settings that checks it
    "lr": "learning_rate",
    "beta1": "beta1",
    "beta2": "beta2",
    "l2": "lambd",
    "keep_prob": "keep_prob",
    "epochs": "epochs",
    "batch_size": "batch_size",
}


@dataclass(frozen=True)
class Param:
    """How one hyperparameter is drawn: distribution, range or values, scale."""

    name: str
    distribution: str
    low: float = 0.0
    high: float = 0.0
    scale: str = "linear"
    values: tuple = ()

    def to_unit(self, x: float) -> float:
        """Return x on the sampling axis (log10 x, log10(1 − x) or x)."""
        if self.scale == "log":
            return math.log10(x)
        if self.scale == "one_minus_log":
            return math.log10(1 - x)
        return float(x)

    def from_unit(self, r: float):
        """Return the value at r on the sampling axis (rounded for ``int``)."""
        x = 10**r if self.scale == "log" else 1 - 10**r if self.scale == "one_minus_log" else r
        return int(round(x)) if self.distribution == "int" else float(x)

    def axis(self) -> tuple[float, float]:
        """Return the sampling interval (lo, hi) on the scale's axis."""
        a, b = self.to_unit(self.low), self.to_unit(self.high)
        return min(a, b), max(a, b)

    def sample(self, rng: np.random.RandomState, axis: tuple[float, float] | None = None):
        """Draw one value, uniformly on the scale's axis (restricted to ``axis``)."""
        if self.distribution == "choice":
            return self.values[rng.randint(len(self.values))]
        lo, hi = axis or self.axis()
        if self.distribution == "int" and self.scale == "linear":
            return int(rng.randint(int(math.ceil(lo - 1e-9)), int(math.floor(hi + 1e-9)) + 1))
        value = self.from_unit(rng.uniform(lo, hi))
        if self.distribution == "int":
            value = int(min(max(value, self.low), self.high))
        return value


def _bad(name: str, message: str, hint: str | None = None) -> DltoolError:
    """Return the error for hyperparameter ``name`` of the search space."""
    hint = hint or "see 'dltool optimizers tune --help' for a search space"
    return DltoolError(f"search space: '{name}' {message}", hint=hint)


def _check_value(name: str, value) -> None:
    """Raise unless ``value`` is allowed for hyperparameter ``name``."""
    from dltool.nn.network import HIDDEN
    from dltool.nn.optimizers import NAMES

    if name == "optimizer":
        if value not in NAMES:
            raise _bad(name, f"has unknown optimizer '{value}'", hint=f"use {'|'.join(NAMES)}")
        return
    if name == "activation":
        if value not in HIDDEN:
            raise _bad(name, f"has unknown activation '{value}'", hint=f"use {'|'.join(HIDDEN)}")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(name, f"must be a number, got {value!r}")
    if name in INTEGER and float(value) != int(value):
        raise _bad(name, f"must be a whole number, got {value}")
    if not _in_range(name, value):
        raise _bad(name, f"value {value} is out of range", hint=f"{name}: {HYPER[name]}")


def _in_range(name: str, value: float) -> bool:
    """Return whether the training checks (Settings, Schedule) accept ``value`` for ``name``."""
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.schedules import Schedule
    from dltool.nn.training import Settings

    if value > LIMITS.get(name, math.inf):
        return False
    try:
        if name in SETTINGS_FIELDS:
            Settings(**{SETTINGS_FIELDS[name]: value})
        elif name == "decay_rate":
            Schedule("inverse", decay_rate=value)
        else:
            return value >= 1  # layers, units
    except HyperparameterError:
        return False
    return True


def _check_data(data) -> None:
    """Raise unless ``data`` maps known keys to values of the right type."""
    if not isinstance(data, dict) or set(data) - set(DATA_KEYS):
        raise DltoolError(
            "search space: 'data' has unknown keys", hint=f"keys: {', '.join(DATA_KEYS)}"
        )
    for key, value in data.items():
        kind, what = DATA_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise DltoolError(
                f"search space: data.{key} must be {what}, got {value!r}",
                hint="e.g. data: {dataset: moons, samples: 300, noise: 0.2, split: '0.8,0.2'}",
            )


def _check_keys(name: str, spec: dict) -> str:
    """Return the spec's distribution; raise on unknown keys or distribution."""
    unknown = set(spec) - {"distribution", "range", "scale", "values"}
    if unknown:
        raise _bad(
            name,
            f"has unknown key(s) {', '.join(sorted(unknown))}",
            hint="keys: distribution, range, scale, values",
        )
    dist = spec.get("distribution")
    if dist not in DISTRIBUTIONS:
        raise _bad(
            name, f"has unknown distribution '{dist}'", hint=f"use {'|'.join(DISTRIBUTIONS)}"
        )
    return dist


def _choice(name: str, spec: dict) -> Param:
    """Return the Param of a ``choice`` spec (every value checked)."""
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise _bad(name, "choice needs a non-empty list 'values'", hint="e.g. values: [adam, gd]")
    for v in values:
        _check_value(name, v)
    return Param(name, "choice", values=tuple(values))


def _range(name: str, spec: dict, scale: str) -> tuple[float, float]:
    """Return the spec's (low, high), checked for form, order and the scale's domain."""
    rng = spec.get("range")
    if not (isinstance(rng, list) and len(rng) == 2):
        raise _bad(name, "needs 'range: [low, high]'", hint="e.g. range: [1.0e-4, 1]")
    low, high = rng
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        raise _bad(name, f"range must hold two numbers, got {rng}", hint="e.g. range: [1, 10]")
    if not low < high:
        raise _bad(
            name, f"has an inverted or empty range [{low}, {high}]", hint="write [low, high]"
        )
    if scale == "log" and low <= 0:
        raise _bad(
            name,
            f"log scale needs a positive range, got [{low}, {high}]",
            hint="sample log-uniformly between two positive numbers, e.g. [1e-4, 1]",
        )
    if scale == "one_minus_log" and not (low >= 0 and high < 1):
        raise _bad(
            name,
            f"one_minus_log scale needs 0 ≤ low < high < 1, got [{low}, {high}]",
            hint="e.g. range: [0.9, 0.999]",
        )
    return low, high


def parse_param(name: str, spec: dict) -> Param:
    """Return the Param of a spec dict; raise a DltoolError naming what is wrong."""
    dist = _check_keys(name, spec)
    if dist == "choice":
        return _choice(name, spec)
    if name in ("optimizer", "activation"):
        raise _bad(name, f"takes names: use distribution 'choice', not '{dist}'")
    scale = spec.get("scale", "linear")
    if scale not in SCALES:
        raise _bad(name, f"has unknown scale '{scale}'", hint=f"use {'|'.join(SCALES)}")
    low, high = _range(name, spec, scale)
    for v in (low, high):
        _check_value(name, v)
    if dist == "int" and name not in INTEGER:
        raise _bad(name, "takes real values: use distribution 'uniform'")
    return Param(name, dist, float(low), float(high), scale)


@dataclass
class Space:
    """A parsed search space: sampled Params, fixed values and the data to train on."""

    params: dict[str, Param]
    fixed: dict
    data: dict
    metric: str = "dev_acc"

    def fingerprint(self, seed: int, trials: int) -> str:
        """Return a hash that identifies this search (space, data, seed, trials per round)."""
        doc = {
            "params": {k: vars(p) | {"values": list(p.values)} for k, p in self.params.items()},
            "fixed": self.fixed,
            "data": self.data,
            "seed": seed,
            "trials": trials,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def largest(space: Space, name: str) -> float:
    """Return the largest value hyperparameter ``name`` takes in ``space`` (fixed or drawn)."""
    p = space.params.get(name)
    if p is None:
        return space.fixed.get(name, DEFAULTS[name])
    return max(p.values) if p.distribution == "choice" else max(p.low, p.high)


def parse_space(doc) -> Space:
    """Return the Space of a loaded YAML document (``data:`` and ``params:`` mappings)."""
    if not isinstance(doc, dict):
        raise DltoolError(
            "the search space must be a YAML mapping", hint="see dltool optimizers tune --help"
        )
    unknown = set(doc) - {"data", "params"}
    if unknown:
        raise DltoolError(
            f"search space: unknown top-level key(s) {', '.join(sorted(unknown))}",
            hint="use 'data:' and 'params:'",
        )
    data = doc.get("data") or {}
    _check_data(data)
    raw = doc.get("params")
    if not isinstance(raw, dict) or not raw:
        raise DltoolError(
            "search space: 'params' must map hyperparameters to specs or values",
            hint="e.g. params: {lr: {distribution: uniform, range: [1.0e-4, 1], scale: log}}",
        )
    params, fixed = {}, {}
    for name, spec in raw.items():
        if name not in HYPER:
            raise DltoolError(
                f"search space: unknown hyperparameter '{name}'", hint=f"known: {', '.join(HYPER)}"
            )
        if isinstance(spec, dict):
            params[name] = parse_param(name, spec)
        else:
            _check_value(name, spec)
            fixed[name] = spec
    if not params:
        raise DltoolError(
            "search space: nothing to search", hint="give at least one spec with a distribution"
        )
    return Space(params, fixed, data)


def zoom(space: Space, finished: list[dict], axes: dict) -> dict[str, tuple[float, float]]:
    """Return new sampling axes around the best quarter of ``finished`` trials."""
    ok = [t for t in finished if t["metrics"].get("dev_acc") is not None]
    if len(ok) < 2:
        return dict(axes)
    best = sorted(ok, key=rank_key)[: max(2, len(ok) // 4)]
    out = {}
    for name, p in space.params.items():
        if p.distribution == "choice":
            continue
        full_lo, full_hi = p.axis()
        pts = [p.to_unit(t["config"][name]) for t in best]
        lo, hi = min(pts), max(pts)
        pad = max(0.25 * (hi - lo), 0.05 * (full_hi - full_lo))
        out[name] = (max(full_lo, lo - pad), min(full_hi, hi + pad))
    return out


def sample_config(space: Space, seed: int, rnd: int, index: int, axes: dict) -> dict:
    """Return trial ``index`` of round ``rnd``: defaults, fixed values, then draws."""
    rng = np.random.RandomState([seed, rnd, index])
    config = {**DEFAULTS, **space.fixed}
    for name, p in space.params.items():
        config[name] = p.sample(rng, axes.get(name))
    return config


def rank_key(trial: dict):
    """Sort key: best dev accuracy first, then lowest dev cost; failed trials last."""
    m = trial["metrics"]
    acc = m.get("dev_acc")
    cost = m.get("dev_cost")
    if acc is None or not math.isfinite(acc):
        return (1, 0.0, 0.0, trial["id"])
    return (0, -acc, cost if cost is not None and math.isfinite(cost) else math.inf, trial["id"])


_PROBLEMS: dict = {}


def _problem(data: dict):
    """Return the prepared data for ``data`` (cached per process)."""
    from dltool_optimizers.problem import DataSpec, prepare

    key = json.dumps(data, sort_keys=True)
    if key not in _PROBLEMS:
        _PROBLEMS[key] = prepare(DataSpec(**data))
    return _PROBLEMS[key]


def run_trial(task: dict) -> dict:
    """Train one configuration; return the task with its metrics (a diverged run says so)."""
    from dltool.nn.schedules import Schedule
    from dltool.nn.training import NonFiniteCost, Settings
    from dltool_optimizers.problem import evaluate, init_params, train_network

    c, problem = task["config"], _problem(task["data"])
    dims = [problem.n_x] + [int(c["units"])] * int(c["layers"]) + [problem.n_y]
    schedule = Schedule("inverse", c["lr"], decay_rate=c["decay_rate"]) if c["decay_rate"] else None
    s = Settings(
        c["activation"],
        c["lr"],
        int(c["epochs"]),
        int(c["batch_size"]),
        c["keep_prob"],
        c["l2"],
        c["optimizer"],
        c["beta1"],
        c["beta2"],
        schedule=schedule,
        shuffle_seed=task["seed"],
    )
    t0 = time.perf_counter()
    try:
        params, costs, secs = train_network(problem, init_params(dims, task["seed"]), s)
        metrics = {
            "final_cost": costs[-1],
            **evaluate(problem, params, s.hidden, s),
            "seconds": secs,
        }
        status = "ok"
    except NonFiniteCost as exc:
        metrics = {
            "dev_acc": None,
            "diverged_at_epoch": exc.epoch,
            "seconds": time.perf_counter() - t0,
        }
        status = "diverged"
    return {**task, "status": status, "metrics": metrics}


def init_worker(threads: int = 1, parent: int | None = None) -> None:
    """Set a worker process's thread width and make it die with the search's process.

    The worker's own parent (the forkserver) kills it on exit (``PR_SET_PDEATHSIG`` on
    Linux), and a watch thread ends it as soon as process ``parent`` (the command) has
    exited, even by SIGKILL: no worker outlives the search.
    """
    from dltool.device import set_threads

    set_threads(threads)
    _die_with_parent()
    if parent is not None:
        import threading

        threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (no-op elsewhere)."""
    import os
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the request
        os._exit(1)


def _watch(pid: int) -> None:
    """End this process once process ``pid`` has exited (a pidfd where Linux has one)."""
    import os
    import select

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    while True:
        if fd is not None:
            select.select([fd], [], [])
            os._exit(1)
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)


def load_finished(trials_dir) -> dict[str, dict]:
    """Return the finished trials stored in ``trials_dir`` by id (unreadable files skipped)."""
    done = {}
    for path in sorted(trials_dir.glob("*.json")):
        try:
            trial = json.loads(path.read_text())
            done[trial["id"]] = trial
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return done


def save_trial(trials_dir, trial: dict) -> None:
    """Write one finished trial to ``trials_dir/<id>.json`` atomically."""
    from dltool import atomic

    atomic.write_text(trials_dir / f"{trial['id']}.json", json.dumps(trial, indent=1))


def round_tasks(space: Space, seed: int, rnd: int, trials: int, axes: dict) -> list[dict]:
    """Return the ``trials`` tasks of round ``rnd`` sampled inside ``axes``."""
    return [
        {
            "id": f"r{rnd}-t{i:03d}",
            "round": rnd,
            "config": sample_config(space, seed, rnd, i, axes),
            "data": space.data,
            "seed": seed,
        }
        for i in range(trials)
    ]


def run_tasks(tasks: list[dict], workers: int, on_done, threads: int = 1) -> None:
    """Run ``tasks`` in ``workers`` processes (in this one when 1), each ``threads`` wide;
    call on_done per result."""
    if workers <= 1:
        from dltool.device import thread_limit

        with thread_limit(threads):
            for task in tasks:
                on_done(run_trial(task))
        return
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    init = (threads, os.getpid())
    pool = ProcessPoolExecutor(workers, mp.get_context(method), init_worker, init)
    try:
        futures = [pool.submit(run_trial, t) for t in tasks]
        for fut in as_completed(futures):
            on_done(fut.result())
    except BaseException:  # Ctrl-C or a failed trial: stop the workers, keep what is saved
        for proc in list((pool._processes or {}).values()):
            proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()


def search(
    space: Space, seed: int, trials: int, rounds: int, workers: int, trials_dir, on_done, threads=1
):
    """Run rounds 0 … ``rounds`` of ``trials`` trials (each ``threads`` wide), skipping stored
    ones; return all."""
    done = load_finished(trials_dir)
    axes: dict = {}
    for rnd in range(rounds + 1):
        if rnd:
            previous = [t for t in done.values() if t["round"] == rnd - 1]
            axes = zoom(
                space,
                previous,
                axes
                or {n: p.axis() for n, p in space.params.items() if p.distribution != "choice"},
            )
        tasks = round_tasks(space, seed, rnd, trials, axes)
        for task in tasks:
            stored = done.get(task["id"])
            if stored is not None and stored["config"] != task["config"]:
                raise DltoolError(
                    f"stored trial {task['id']} has another configuration than this search draws",
                    hint="the run directory belongs to another search; start a new one",
                )
        todo = [t for t in tasks if t["id"] not in done]

        def finish(trial):
            save_trial(trials_dir, trial)
            done[trial["id"]] = trial
            on_done(trial)

        run_tasks(todo, workers, finish, threads)
    return sorted(done.values(), key=rank_key), axes
