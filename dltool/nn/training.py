"""Mini-batch training loop for the L-layer network, with a NumPy and a torch backend.

Per epoch: the mini-batches (see :func:`batches`); per mini-batch: the dropout masks
D1 … D{L-1} (see ``network``), then one update by the chosen rule of
:mod:`dltool.nn.optimizers` (gradient descent θ ← θ − α dθ, momentum, RMSprop or Adam) at
the epoch's learning rate (a :class:`dltool.nn.schedules.Schedule`, or α constant). The torch
backend uses the matching ``torch.optim`` optimizer and a ``LambdaLR`` scheduler. Both
backends draw permutations and masks from NumPy in the same order, so with the same seed
they follow the same path (up to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dltool.data import minibatches
from dltool.nn import network
from dltool.nn.optimizers import HyperparameterError, Optimizer, check_hyperparameters
from dltool.nn.schedules import Schedule

MAX_LEARNING_RATE = 10.0  # α above this overshoots any standardized problem at once
MAX_L2 = 100.0  # λ of λ/2m Σ‖W‖²: above this the penalty alone decides the weights (zero)
MAX_EPSILON = 1.0  # ε of RMSprop/Adam: above this it swamps √s and the update vanishes
MEMORY_LIMIT = 4 << 30  # bytes a training run may need before the user must say --force
WEIGHT_COPIES = 8  # θ, dθ, two optimizer moments, checkpoint copies, update temporaries
ACTIVATION_COPIES = 4  # Z, A, dropout mask D and dA of every unit, per example of a batch
DATA_COPIES = 2  # the training set as read and as standardized/cast


class NonFiniteCost(Exception):
    """The cost became NaN or infinite at ``epoch``."""

    def __init__(self, epoch: int, cost: float):
        super().__init__(f"cost is {cost} at epoch {epoch}")
        self.epoch, self.cost = epoch, cost


@dataclass
class Settings:
    """Hyperparameters of one training run.

    ``shuffle_seed`` None draws each epoch's permutation from NumPy's global generator;
    an integer s gives epoch e (from 1) the permutation of ``RandomState(s + e)``, so runs
    with different optimizers see the same batches whatever else they draw.
    """

    hidden: str = "relu"
    learning_rate: float = 0.0075
    epochs: int = 2500
    batch_size: int | None = None
    keep_prob: float = 1.0
    lambd: float = 0.0
    optimizer: str = "gd"
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    schedule: Schedule | None = None
    shuffle_seed: int | None = None

    def __post_init__(self):
        check_settings(self)

    def lr(self, epoch: int) -> float:
        """Return α for ``epoch`` (from 1): the schedule's α(epoch − 1), else learning_rate."""
        return self.learning_rate if self.schedule is None else self.schedule.lr(epoch - 1)

    def make_optimizer(self) -> Optimizer:
        """Return a fresh NumPy optimizer for these settings."""
        return Optimizer(self.optimizer, self.learning_rate, self.beta1, self.beta2, self.epsilon)


def training_bytes(
    dims: list[int], m: int, batch: int | None = None, dtype: str = "float64"
) -> int:
    """Return B·(8·P + 4·b·Σn_l + 2·m·n_x), the bytes training layers ``dims`` needs.

    P = Σ n_l (n_{l−1} + 1) parameters (8 copies: θ, dθ, the optimizer's two moments,
    checkpoint copies and update temporaries), b = min(batch, m) examples of a mini-batch
    times Σ n_l units (4 copies: Z, A, the dropout mask and dA), the m training examples of
    n_x features (2 copies), B bytes per number of ``dtype``. One estimate for every command
    that trains this network (basicnn train, optimizers compare).
    """
    weights = sum(dims[k] * (dims[k - 1] + 1) for k in range(1, len(dims)))
    b = min(batch or m, m)
    numbers = WEIGHT_COPIES * weights + ACTIVATION_COPIES * b * sum(dims)
    return np.dtype(dtype).itemsize * (numbers + DATA_COPIES * m * dims[0])


def check_training_memory(
    dims: list[int],
    m: int,
    batch: int | None,
    dtype: str = "float64",
    force: bool = False,
    sizes: str = "--layers",
    hint: str | None = None,
) -> None:
    """Raise a DltoolError when ``training_bytes`` passes MEMORY_LIMIT, unless ``force``.

    ``sizes`` names the option that sets the layer sizes (the hint tells to shrink it);
    ``hint`` replaces the whole hint where ``--batch-size``/``--force`` are not options.
    """
    from dltool.errors import DltoolError

    need = training_bytes(dims, m, batch, dtype)
    if need > MEMORY_LIMIT and not force:
        raise DltoolError(
            f"training layers {','.join(map(str, dims))} on {m:,} examples needs about "
            f"{need / 2**30:,.1f} GiB of memory (limit {MEMORY_LIMIT / 2**30:,.0f} GiB)",
            hint=hint
            or f"use smaller {sizes} or --batch-size, or --force if this machine has the memory",
        )


def initial_parameters(
    dims: list[int], seed: int, method: str = "he", scale: float = 0.01, dtype="float64"
) -> dict[str, np.ndarray]:
    """Return W1 … WL, b1 … bL by ``method`` drawn after ``np.random.seed(seed)``, in ``dtype``."""
    from dltool.nn import init

    np.random.seed(seed)
    params = init.initialize_parameters(dims, method, scale)
    return {k: v.astype(dtype) for k, v in params.items()}


def check_settings(s: Settings) -> None:
    """Raise HyperparameterError for a value out of range (NaN and ±inf included)."""
    check_hyperparameters(s.optimizer, s.learning_rate, s.beta1, s.beta2, s.epsilon)
    if s.learning_rate > MAX_LEARNING_RATE:
        rule = f"must be at most {MAX_LEARNING_RATE:g}, got {s.learning_rate:g}"
        raise HyperparameterError("learning_rate", rule)
    if s.epsilon > MAX_EPSILON:
        raise HyperparameterError("epsilon", f"must be at most {MAX_EPSILON:g}, got {s.epsilon:g}")
    if s.epochs < 1:
        raise HyperparameterError("epochs", f"must be ≥ 1, got {s.epochs}")
    if s.batch_size is not None and s.batch_size < 1:
        raise HyperparameterError("batch_size", f"must be at least 1, got {s.batch_size}")
    if not 0 < s.keep_prob <= 1:
        raise HyperparameterError("keep_prob", f"must be in (0, 1], got {s.keep_prob:g}")
    if not (math.isfinite(s.lambd) and 0 <= s.lambd <= MAX_L2):
        raise HyperparameterError("lambd", f"must be in [0, {MAX_L2:g}], got {s.lambd:g}")


def batches(m: int, batch_size: int | None, seed: int | None = None) -> list[np.ndarray]:
    """Return index arrays of the mini-batches of one epoch (a permutation when shuffled)."""
    if batch_size is None or batch_size >= m:
        return [np.arange(m)]
    if seed is not None:
        return minibatches.batch_indices(m, batch_size, seed)
    order = np.random.permutation(m)
    return [order[i : i + batch_size] for i in range(0, m, batch_size)]


def _epoch_batches(m: int, s: Settings, epoch: int) -> list[np.ndarray]:
    """Return the batches of ``epoch`` under the settings' shuffling rule."""
    seed = None if s.shuffle_seed is None else s.shuffle_seed + epoch
    return batches(m, s.batch_size, seed)


def step_numpy(X, Y, params, s: Settings, opt: Optimizer | None = None, lr=None) -> float:
    """Run one forward/backward/update on (X, Y); return the cost before the update."""
    ZL, caches = network.forward(X, params, s.hidden, s.keep_prob)
    cost = network.compute_cost(ZL, Y, params, s.lambd)
    if not math.isfinite(cost):
        return cost
    grads = network.backward(ZL, Y, caches, s.hidden, s.keep_prob, s.lambd, input_grad=False)
    lr = s.learning_rate if lr is None else lr
    if opt is None:
        network.update_parameters(params, grads, lr)
    else:
        opt.step(params, grads, lr)
    return cost


def fit(
    X: np.ndarray,
    labels: np.ndarray,
    params: dict[str, np.ndarray],
    s: Settings,
    backend: str = "numpy",
    device=None,
    on_epoch: Callable[[int, float, Callable[[], dict]], None] | None = None,
    threads: int | None = None,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train on X (n_x, m), labels (m,); return the params and the cost of every epoch.

    The arithmetic runs in X's dtype (float64 or float32); params must have the same dtype.
    ``threads`` is the width the user fixed (``--threads``), None when not fixed.
    """
    if backend == "torch":
        return _fit_torch(X, labels, params, s, device, on_epoch, threads)
    dims = network.layer_dims_of(params)
    Y = network.targets(labels, dims[-1], dtype=X.dtype)
    opt = None if s.optimizer == "gd" else s.make_optimizer()
    costs: list[float] = []
    m = X.shape[1]
    for epoch in range(1, s.epochs + 1):
        total, lr = 0.0, s.lr(epoch)
        for idx in _epoch_batches(m, s, epoch):
            Xb, Yb = (X, Y) if idx.shape[0] == m else (X[:, idx], Y[:, idx])
            cost = step_numpy(Xb, Yb, params, s, opt, lr)
            if not math.isfinite(cost):
                raise NonFiniteCost(epoch, cost)
            total += cost * idx.shape[0]
        costs.append(total / m)
        if on_epoch is not None:
            on_epoch(epoch, costs[-1], lambda: params)
    return params, costs


SMALL_STEP_FLOPS = 2_000_000  # below this many multiply-adds a CPU step runs best on 1 thread


def _small_step(params: dict, batch: int) -> bool:
    """Return True when batch · Σ|W| multiply-adds is too little work to share between threads."""
    return batch * sum(v.size for k, v in params.items() if k.startswith("W")) < SMALL_STEP_FLOPS


def _fit_torch(X, labels, params, s: Settings, device, on_epoch, threads: int | None = None):
    """Train the torch twin on ``device``; small CPU steps at the small-step width.

    Thread hand-offs cost more than a small step's arithmetic, so a CPU run whose step is
    below SMALL_STEP_FLOPS runs in ``thread_limit(small_step_threads(threads))``: one thread
    unless the user fixed ``threads`` (then that width); the pools are restored after.
    """
    import torch

    from dltool.device import small_step_threads, thread_limit

    cpu = device is None or torch.device(device).type == "cpu"
    small = cpu and _small_step(params, s.batch_size or X.shape[1])
    with thread_limit(small_step_threads(threads) if small else None):
        return _run_torch(X, labels, params, s, device, on_epoch)


def _run_torch(X, labels, params, s: Settings, device, on_epoch):
    """Train the torch twin on ``device`` in X's dtype, drawing batches and masks from NumPy."""
    import torch

    from dltool.nn import network_torch as nt
    from dltool.nn.optimizers import torch_optimizer

    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    dims = network.layer_dims_of(params)
    model = nt.build(dims, s.hidden, s.keep_prob, params, device, dtype)
    opt = torch_optimizer(
        s.optimizer, model.parameters(), s.learning_rate, s.beta1, s.beta2, s.epsilon
    )
    factor = (lambda e: s.lr(e + 1) / s.learning_rate) if s.schedule is not None else None
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor) if factor else None
    Xt = torch.as_tensor(X.T, dtype=dtype, device=device)  # (m, n_x)
    yt = torch.as_tensor(labels, device=device)
    m = X.shape[1]
    costs: list[float] = []
    for epoch in range(1, s.epochs + 1):
        total = 0.0
        for idx in _epoch_batches(m, s, epoch):
            full = idx.shape[0] == m
            ti = None if full else torch.as_tensor(idx, device=device)
            Xb, yb = (Xt, yt) if full else (Xt[ti], yt[ti])
            masks = None
            if s.keep_prob < 1:
                drawn = network.draw_masks(dims, idx.shape[0], s.keep_prob)
                masks = nt.masks_to_torch(drawn, device=device, dtype=dtype)
            J = nt.cost(model, model(Xb, masks), yb, s.lambd)
            cost = J.item()
            if not math.isfinite(cost):
                raise NonFiniteCost(epoch, cost)
            opt.zero_grad(set_to_none=True)
            J.backward()
            opt.step()
            total += cost * idx.shape[0]
        if sched is not None:
            sched.step()
        costs.append(total / m)
        if on_epoch is not None:
            on_epoch(epoch, costs[-1], lambda: nt.to_params(model))
    return nt.to_params(model), costs
