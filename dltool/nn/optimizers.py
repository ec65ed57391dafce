"""Update rules of the course notes: gradient descent, momentum, RMSprop and Adam.

Parameters are dicts ``{W1, b1, …}``, gradients ``{dW1, db1, …}`` and the optimizer state
is keyed like the gradients (``v["dW1"]``, ``s["dW1"]``), as in the notes:

- gradient descent: θ ← θ − α dθ
- momentum: v = β v + (1 − β) dθ, θ ← θ − α v
- RMSprop: s = β₂ s + (1 − β₂) dθ², θ ← θ − α dθ / (√s + ε)
- Adam: v = β₁ v + (1 − β₁) dθ, s = β₂ s + (1 − β₂) dθ², v̂ = v / (1 − β₁ᵗ),
  ŝ = s / (1 − β₂ᵗ), θ ← θ − α v̂ / (√ŝ + ε), where t counts the Adam steps taken.

Relation to ``torch.optim`` (proved in tests/optimizers): ``RMSprop(alpha=β₂, eps=ε)`` and
``Adam(betas=(β₁, β₂), eps=ε)`` take the same steps. ``SGD(momentum=β)`` keeps the buffer
b = β b + dθ with b₁ = dθ₁, the undamped sum of past gradients, so the notes' EWMA is
v = (1 − β) b exactly and momentum with rate α equals ``SGD(lr=α(1 − β), momentum=β)``.
(``dampening=β`` does not close the gap: torch starts b₁ = dθ₁, undamped.)

:class:`Optimizer` works on NumPy arrays (in place; Adam in cache-sized blocks, see
:func:`adam_blocks`) and on torch tensors (plain arithmetic), so any plugin's parameter dict
can use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NAMES = ("gd", "momentum", "rmsprop", "adam")
BLOCK = 1 << 14  # elements per block of the in-place NumPy Adam step (stays in L2 cache)


def update_parameters_with_gd(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """Return θ ← θ − α dθ for every parameter (in place)."""
    for key in parameters:
        parameters[key] -= learning_rate * grads["d" + key]
    return parameters


def initialize_velocity(parameters: dict) -> dict:
    """Return v with v["dθ"] = zeros shaped like θ."""
    return {"d" + k: np.zeros_like(p) for k, p in parameters.items()}


def update_parameters_with_momentum(
    parameters: dict, grads: dict, v: dict, beta: float, learning_rate: float
) -> tuple[dict, dict]:
    """Return (θ, v) after v = βv + (1 − β)dθ, θ ← θ − αv."""
    for key in parameters:
        d = "d" + key
        v[d] = beta * v[d] + (1 - beta) * grads[d]
        parameters[key] -= learning_rate * v[d]
    return parameters, v


def initialize_rmsprop(parameters: dict) -> dict:
    """Return s with s["dθ"] = zeros shaped like θ."""
    return initialize_velocity(parameters)


def update_parameters_with_rmsprop(
    parameters: dict,
    grads: dict,
    s: dict,
    beta2: float = 0.999,
    learning_rate: float = 0.01,
    epsilon: float = 1e-8,
) -> tuple[dict, dict]:
    """Return (θ, s) after s = β₂s + (1 − β₂)dθ², θ ← θ − α dθ/(√s + ε)."""
    for key in parameters:
        d = "d" + key
        s[d] = beta2 * s[d] + (1 - beta2) * grads[d] ** 2
        parameters[key] -= learning_rate * grads[d] / (np.sqrt(s[d]) + epsilon)
    return parameters, s


def initialize_adam(parameters: dict) -> tuple[dict, dict]:
    """Return (v, s), both zeros shaped like each θ and keyed "dθ"."""
    return initialize_velocity(parameters), initialize_velocity(parameters)


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
) -> tuple[dict, dict, dict, dict, dict]:
    """Return (θ, v, s, v̂, ŝ) after one Adam step: θ ← θ − α v̂/(√ŝ + ε)."""
    v_hat, s_hat = {}, {}
    for key in parameters:
        d = "d" + key
        v[d] = beta1 * v[d] + (1 - beta1) * grads[d]
        v_hat[d] = v[d] / (1 - beta1**t)
        s[d] = beta2 * s[d] + (1 - beta2) * grads[d] ** 2
        s_hat[d] = s[d] / (1 - beta2**t)
        parameters[key] -= learning_rate * v_hat[d] / (np.sqrt(s_hat[d]) + epsilon)
    return parameters, v, s, v_hat, s_hat


class HyperparameterError(ValueError):
    """A hyperparameter outside its range: ``name`` (the field) and ``rule`` ("must be …").

    ``unknown`` replaces the "name rule" sentence for a name that is not one of the choices.
    """

    def __init__(self, name: str, rule: str, unknown: str | None = None):
        super().__init__(unknown or f"{name} {rule}")
        self.name, self.rule, self.unknown = name, rule, unknown

    def cli_error(self, options: dict[str, str]):
        """Return the DltoolError naming the command-line option ``options[name]``."""
        from dltool.errors import DltoolError

        if self.unknown:
            return DltoolError(
                self.unknown, hint=f"{options.get(self.name, self.name)} {self.rule}"
            )
        flag = options.get(self.name, self.name)
        return DltoolError(f"{flag} {self.rule}", hint=f"change {flag}: it {self.rule}")


def check_positive(name: str, value: float) -> None:
    """Raise HyperparameterError unless ``value`` is a finite number > 0."""
    if not (math.isfinite(value) and value > 0):
        raise HyperparameterError(name, f"must be > 0, got {value:g}")


def check_beta(name: str, value: float) -> None:
    """Raise HyperparameterError unless 0 ≤ β < 1 (NaN fails)."""
    if not 0 <= value < 1:
        raise HyperparameterError(name, f"must be in [0, 1), got {value:g}")


def check_hyperparameters(name: str, lr: float, beta1: float, beta2: float, eps: float) -> None:
    """Raise HyperparameterError unless name is known, α > 0, β₁, β₂ ∈ [0, 1), ε > 0 (finite)."""
    if name not in NAMES:
        choices = f"must be one of {'|'.join(NAMES)}"
        raise HyperparameterError("optimizer", choices, f"unknown optimizer '{name}'")
    check_positive("learning_rate", lr)
    check_beta("beta1", beta1)
    check_beta("beta2", beta2)
    check_positive("epsilon", eps)


@dataclass
class Optimizer:
    """One of gd, momentum, rmsprop, adam with its state; ``step`` updates θ in place.

    ``beta1`` is momentum's β and Adam's β₁; ``beta2`` is RMSprop's and Adam's β₂. Gradients
    and state are keyed ``prefix + key`` ("dW1" for the notes' dicts; prefix "" when the
    gradients share the parameters' names).
    """

    name: str = "gd"
    lr: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    prefix: str = "d"
    t: int = 0
    v: dict[str, Any] = field(default_factory=dict)
    s: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_hyperparameters(self.name, self.lr, self.beta1, self.beta2, self.eps)

    def step(self, params: dict[str, Any], grads: dict[str, Any], lr: float | None = None):
        """Apply one update with rate ``lr`` (default ``self.lr``) to every θ in ``params``."""
        lr = self.lr if lr is None else lr
        self.t += 1
        for key, theta in params.items():
            d = self.prefix + key
            g = grads[d]
            if self.name == "gd":
                theta -= lr * g
            elif self.name == "momentum":
                self._momentum(theta, g, d, lr)
            elif self.name == "rmsprop":
                self._rmsprop(theta, g, d, lr)
            else:
                self._adam(theta, g, d, lr)
        return params

    def _state(self, table: dict, d: str, g):
        """Return table[d], created as zeros like g on first use."""
        if d not in table:
            table[d] = np.zeros_like(g) if isinstance(g, np.ndarray) else g * 0
        return table[d]

    def _momentum(self, theta, g, d, lr):
        """v = βv + (1 − β)g, θ ← θ − αv."""
        v = self._state(self.v, d, g)
        if isinstance(v, np.ndarray):
            v *= self.beta1
            v += (1 - self.beta1) * g
        else:
            v = self.v[d] = self.beta1 * v + (1 - self.beta1) * g
        theta -= lr * v

    def _rmsprop(self, theta, g, d, lr):
        """s = β₂s + (1 − β₂)g², θ ← θ − α g/(√s + ε)."""
        s = self._state(self.s, d, g)
        if isinstance(s, np.ndarray):
            s *= self.beta2
            s += (1 - self.beta2) * np.square(g)
        else:
            s = self.s[d] = self.beta2 * s + (1 - self.beta2) * g * g
        theta -= lr * g / (s**0.5 + self.eps)

    def _adam(self, theta, g, d, lr):
        """Adam with bias correction: θ ← θ − α v̂/(√ŝ + ε)."""
        v, s = self._state(self.v, d, g), self._state(self.s, d, g)
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        arrays = (theta, g, v, s)
        if all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in arrays):
            adam_blocks(
                *(a.reshape(-1) for a in arrays), lr, self.beta1, self.beta2, self.eps, c1, c2
            )
            return
        v = self.v[d] = self.beta1 * v + (1 - self.beta1) * g
        s = self.s[d] = self.beta2 * s + (1 - self.beta2) * g * g
        theta -= lr * (v / c1) / ((s / c2) ** 0.5 + self.eps)


def adam_blocks(theta, g, v, s, lr, beta1, beta2, eps, c1, c2, block: int = BLOCK) -> None:
    """Run the Adam update in place on flat arrays, ``block`` elements at a time.

    θ ← θ − (α/c1) v / (√s/√c2 + ε) with c1 = 1 − β₁ᵗ, c2 = 1 − β₂ᵗ: the same number as
    α v̂/(√ŝ + ε). Blocks keep the temporaries in cache, so each array streams through
    memory about once, as a fused kernel would.
    """
    tmp = np.empty(min(block, theta.size), dtype=theta.dtype)
    a1, a2, step, root = 1 - beta1, 1 - beta2, lr / c1, math.sqrt(c2)
    for i in range(0, theta.size, block):
        sl = slice(i, i + block)
        th, gb, vb, sb = theta[sl], g[sl], v[sl], s[sl]
        w = tmp[: th.size]
        vb *= beta1
        np.multiply(gb, a1, out=w)
        vb += w  # v = β₁v + (1 − β₁)g
        sb *= beta2
        np.multiply(gb, gb, out=w)
        w *= a2
        sb += w  # s = β₂s + (1 − β₂)g²
        np.sqrt(sb, out=w)
        w /= root
        w += eps  # √ŝ + ε
        np.divide(vb, w, out=w)
        w *= step
        th -= w  # θ ← θ − α v̂/(√ŝ + ε)


def torch_optimizer(name: str, parameters, lr: float, beta1=0.9, beta2=0.999, eps=1e-8):
    """Return the torch.optim optimizer that takes the same steps as ``Optimizer(name, …)``."""
    import torch

    params = list(parameters)
    if name == "gd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr * (1 - beta1), momentum=beta1)  # v = (1 − β) b
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=beta2, eps=eps)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(float(beta1), float(beta2)), eps=eps)
    raise ValueError(f"unknown optimizer '{name}' (choose {', '.join(NAMES)})")
