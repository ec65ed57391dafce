"""Adam, as in the course notes, on a dict of parameters (NumPy arrays or torch tensors).

v = β1 v + (1 − β1) g, s = β2 s + (1 − β2) g², v̂ = v/(1 − β1ᵗ), ŝ = s/(1 − β2ᵗ),
θ ← θ − α v̂ / (√ŝ + ε). The state (t, v, s) is plain arrays so checkpoints can hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Adam:
    """Adam's hyperparameters and its state: step count t, first and second moments."""

    lr: float = 2e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    v: dict[str, Any] = field(default_factory=dict)
    s: dict[str, Any] = field(default_factory=dict)

    def step(self, params: dict[str, Any], grads: dict[str, Any]) -> None:
        """Update ``params[k]`` in place with ``grads[k]`` for every key."""
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for k, theta in params.items():
            g = grads[k]
            if k not in self.v:
                self.v[k], self.s[k] = g * 0, g * 0
            self.v[k] = self.beta1 * self.v[k] + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s[k] + (1 - self.beta2) * g * g
            theta -= self.lr * (self.v[k] / c1) / ((self.s[k] / c2) ** 0.5 + self.eps)
