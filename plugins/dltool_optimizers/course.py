"""The course's "Optimization" assignment functions under their own names, NumPy in, NumPy out.

Mini-batches, momentum, Adam and learning-rate decay with the course's names, argument order
and return values: X (n_x, m), Y (1, m); parameters {W1, b1, …}, gradients and optimizer
state keyed {dW1, db1, …}. Each function is a thin translation onto the project's one
implementation: :mod:`dltool.data.minibatches` (mini-batches), :mod:`dltool.nn.optimizers`
(update rules) and :mod:`dltool.nn.schedules` (decay). Shapes are checked at the boundary: a
wrong one raises ValueError naming the function, the argument and the expected layout.
"""

from __future__ import annotations

import numpy as np

from dltool.data import minibatches
from dltool.nn import optimizers, schedules


def random_mini_batches(X, Y, mini_batch_size: int = 64, seed: int = 0) -> list[tuple]:
    """Return [(X_b (n_x, size), Y_b (1, size)), …]: one shuffle of the columns, then cut.

    The shuffle is the course's ``np.random.seed(seed); np.random.permutation(m)``, so its
    published mini-batches are reproduced; it is drawn from ``RandomState(seed)`` and leaves
    NumPy's global generator untouched. ⌊m/size⌋ full batches, then one of m mod size.
    """
    for name, array in (("X", X), ("Y", Y)):
        if np.ndim(array) != 2:
            layout = "(n_x, m)" if name == "X" else "(1, m)"
            raise ValueError(f"random_mini_batches: {name} must be {layout}, got {np.shape(array)}")
    return minibatches.random_mini_batches(np.asarray(X), np.asarray(Y), mini_batch_size, seed)


def update_parameters_with_gd(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """Return parameters after θ ← θ − α dθ for every W{l}, b{l} (in place, as the course does)."""
    return optimizers.update_parameters_with_gd(parameters, grads, learning_rate)


def initialize_velocity(parameters: dict) -> dict:
    """Return v with v["dW{l}"], v["db{l}"] = zeros shaped like W{l}, b{l}."""
    return optimizers.initialize_velocity(parameters)


def update_parameters_with_momentum(
    parameters: dict, grads: dict, v: dict, beta: float, learning_rate: float
):
    """Return (parameters, v) after v = β v + (1 − β) dθ, θ ← θ − α v (updated in place)."""
    return optimizers.update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)


def initialize_adam(parameters: dict) -> tuple[dict, dict]:
    """Return (v, s), zeros shaped like each parameter and keyed "dW{l}", "db{l}"."""
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
    return optimizers.update_parameters_with_adam(
        parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon
    )


def update_lr(learning_rate0: float, epoch_num: int, decay_rate: float) -> float:
    """Return α = α₀ / (1 + decay_rate · epoch_num)."""
    return schedules.inverse_time(learning_rate0, epoch_num, decay_rate)


def schedule_lr_decay(
    learning_rate0: float, epoch_num: int, decay_rate: float, time_interval: int = 1000
) -> float:
    """Return α = α₀ / (1 + decay_rate · ⌊epoch_num / time_interval⌋)."""
    return schedules.inverse_time(learning_rate0, epoch_num // time_interval, decay_rate)
