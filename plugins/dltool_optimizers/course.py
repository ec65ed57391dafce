"""The course's "Optimization" assignment functions under their own names, NumPy in, NumPy out.

Mini-batches, momentum, Adam and learning-rate decay with the course's names, argument order
and return values: X (n_x, m), Y (1, m); parameters {W1, b1, …}, gradients and optimizer
state keyed {dW1, db1, …}. Each function is a thin translation onto the project's one
implementation: :mod:`dltool.data.minibatches` (mini-batches), :mod:`dltool.nn.optimizers`
(update rules) and :mod:`dltool.nn.schedules` (decay). Inputs are checked at the boundary, in
one line naming the function, the argument and the expected layout or range: a wrong shape
raises :class:`ShapeError`, a hyperparameter out of range (α < 0, β ∉ [0, 1), t < 1, …)
:class:`ParameterError`, a dict without W{l}/b{l} (or dW{l}/db{l}) :class:`MissingKeyError`;
all three are :class:`~dltool.errors.DltoolError` (and ValueError or KeyError) with a hint.
"""

from __future__ import annotations

import numpy as np

from dltool.data import minibatches
from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_keys,
    check_range,
    check_shape,
)
from dltool.nn import optimizers, schedules

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "random_mini_batches",
    "update_parameters_with_gd",
    "initialize_velocity",
    "update_parameters_with_momentum",
    "initialize_adam",
    "update_parameters_with_adam",
    "update_lr",
    "schedule_lr_decay",
]


def _layers(func: str, parameters, *states: tuple[str, dict]) -> int:
    """Return L after checking parameters holds W1, b1 … WL, bL and each state dW{l}, db{l}.

    ``states`` are (name, dict) pairs such as ("grads", grads), ("v", v); a state entry must be
    shaped as its parameter (ShapeError), a missing key raises MissingKeyError.
    """
    check_keys(func, "parameters", parameters, ["W1", "b1"])
    L = sum(1 for k in parameters if str(k).startswith("W"))
    keys = [f"{p}{k}" for k in range(1, L + 1) for p in "Wb"]
    check_keys(func, "parameters", parameters, keys)
    for name, state in states:
        check_keys(func, name, state, ["d" + k for k in keys])
        for k in keys:
            if np.shape(state["d" + k]) != np.shape(parameters[k]):
                want, got = np.shape(parameters[k]), np.shape(state["d" + k])
                raise ShapeError(f"{func}: {name}['d{k}'] must be {want} as {k}, got {got}")
    return L


def random_mini_batches(X, Y, mini_batch_size: int = 64, seed: int = 0) -> list[tuple]:
    """Return [(X_b (n_x, size), Y_b (1, size)), …]: one shuffle of the columns, then cut.

    The shuffle is the course's ``np.random.seed(seed); np.random.permutation(m)``, so its
    published mini-batches are reproduced; it is drawn from ``RandomState(seed)`` and leaves
    NumPy's global generator untouched. ⌊m/size⌋ full batches, then one of m mod size.
    """
    func = "random_mini_batches"
    check_shape(func, "Y", Y, "(1, m)", dims=check_shape(func, "X", X, "(n_x, m)"))
    check_range(func, "mini_batch_size", mini_batch_size, "[1, inf)", integer=True)
    check_range(func, "seed", seed, "[0, 4294967295]", integer=True)
    return minibatches.random_mini_batches(np.asarray(X), np.asarray(Y), mini_batch_size, seed)


def update_parameters_with_gd(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """Return parameters after θ ← θ − α dθ for every W{l}, b{l} (in place, as the course does)."""
    func = "update_parameters_with_gd"
    check_range(func, "learning_rate", learning_rate, "[0, inf)")
    _layers(func, parameters, ("grads", grads))
    return optimizers.update_parameters_with_gd(parameters, grads, learning_rate)


def initialize_velocity(parameters: dict) -> dict:
    """Return v with v["dW{l}"], v["db{l}"] = zeros shaped like W{l}, b{l}."""
    _layers("initialize_velocity", parameters)
    return optimizers.initialize_velocity(parameters)


def update_parameters_with_momentum(
    parameters: dict, grads: dict, v: dict, beta: float, learning_rate: float
):
    """Return (parameters, v) after v = β v + (1 − β) dθ, θ ← θ − α v (updated in place)."""
    func = "update_parameters_with_momentum"
    check_range(func, "beta", beta, "[0, 1)")
    check_range(func, "learning_rate", learning_rate, "[0, inf)")
    _layers(func, parameters, ("grads", grads), ("v", v))
    return optimizers.update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)


def initialize_adam(parameters: dict) -> tuple[dict, dict]:
    """Return (v, s), zeros shaped like each parameter and keyed "dW{l}", "db{l}"."""
    _layers("initialize_adam", parameters)
    return optimizers.initialize_adam(parameters)


def update_parameters_with_adam(
    parameters: dict,
    grads: dict,
    v: dict,
    s: dict,
    t: int,
    learning_rate: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
):
    """Return (parameters, v, s, v_corrected, s_corrected) after θ ← θ − α v̂ / (√ŝ + ε).

    v = β₁v + (1 − β₁)dθ, s = β₂s + (1 − β₂)dθ², v̂ = v / (1 − β₁ᵗ), ŝ = s / (1 − β₂ᵗ), with t
    the Adam step counted from 1, as in the course.
    """
    func = "update_parameters_with_adam"
    check_range(func, "t", t, "[1, inf)", integer=True)
    check_range(func, "learning_rate", learning_rate, "[0, inf)")
    check_range(func, "beta1", beta1, "[0, 1)")
    check_range(func, "beta2", beta2, "[0, 1)")
    check_range(func, "epsilon", epsilon, "(0, inf)")
    _layers(func, parameters, ("grads", grads), ("v", v), ("s", s))
    return optimizers.update_parameters_with_adam(
        parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon
    )


def update_lr(learning_rate0: float, epoch_num: int, decay_rate: float) -> float:
    """Return α = α₀ / (1 + decay_rate · epoch_num)."""
    _check_decay("update_lr", learning_rate0, epoch_num, decay_rate)
    return schedules.inverse_time(learning_rate0, epoch_num, decay_rate)


def schedule_lr_decay(
    learning_rate0: float, epoch_num: int, decay_rate: float, time_interval: int = 1000
) -> float:
    """Return α = α₀ / (1 + decay_rate · ⌊epoch_num / time_interval⌋)."""
    _check_decay("schedule_lr_decay", learning_rate0, epoch_num, decay_rate)
    check_range("schedule_lr_decay", "time_interval", time_interval, "[1, inf)", integer=True)
    return schedules.inverse_time(learning_rate0, epoch_num // time_interval, decay_rate)


def _check_decay(func: str, learning_rate0, epoch_num, decay_rate) -> None:
    """Raise ParameterError unless α₀ ≥ 0, epoch_num an integer ≥ 0 and decay_rate ≥ 0."""
    check_range(func, "learning_rate0", learning_rate0, "[0, inf)")
    check_range(func, "epoch_num", epoch_num, "[0, inf)", integer=True)
    check_range(func, "decay_rate", decay_rate, "[0, inf)")
