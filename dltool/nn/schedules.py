"""Learning-rate decay from the course notes, as a function of the epoch number (from 0).

With e = ⌊epoch / interval⌋ (interval 1 unless given):

- ``constant``:    α = α₀
- ``inverse``:     α = α₀ / (1 + decay_rate · e)
- ``exponential``: α = base^e · α₀ (the notes' 0.95^epoch · α₀ with base 0.95)
- ``sqrt``:        α = k / √e · α₀ (e = 0 counts as 1: k/√0 has no value)
- ``staircase``:   α = α₀ / (1 + decay_rate · ⌊epoch / interval⌋), the inverse decay held
                   constant for ``interval`` epochs at a time (the notes' scheduled decay)
- ``manual``:      α = values[e] (the last value after the list ends)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

KINDS = ("constant", "inverse", "exponential", "sqrt", "staircase", "manual")


@dataclass(frozen=True)
class Schedule:
    """A learning-rate decay rule; ``lr(epoch)`` gives α for an epoch counted from 0."""

    kind: str = "constant"
    lr0: float = 0.01
    decay_rate: float = 1.0
    base: float = 0.95
    k: float = 1.0
    interval: int = 1
    values: tuple[float, ...] = field(default_factory=tuple)

    def __post_init__(self):
        check(self)

    def lr(self, epoch: int) -> float:
        """Return α at ``epoch`` (0, 1, 2, …)."""
        e = epoch // self.interval
        if self.kind == "constant":
            return self.lr0
        if self.kind in ("inverse", "staircase"):
            return inverse_time(self.lr0, e, self.decay_rate)
        if self.kind == "exponential":
            return exponential(self.lr0, e, self.base)
        if self.kind == "sqrt":
            return inverse_sqrt(self.lr0, e, self.k)
        return self.values[min(e, len(self.values) - 1)]

    def factor(self, epoch: int) -> float:
        """Return α(epoch)/α₀, the multiplier torch's LambdaLR expects."""
        return self.lr(epoch) / self.lr0


def inverse_time(lr0: float, epoch: int, decay_rate: float) -> float:
    """Return α₀ / (1 + decay_rate · epoch)."""
    return lr0 / (1 + decay_rate * epoch)


def exponential(lr0: float, epoch: int, base: float = 0.95) -> float:
    """Return base^epoch · α₀."""
    return base**epoch * lr0


def inverse_sqrt(lr0: float, epoch: int, k: float = 1.0) -> float:
    """Return k / √epoch · α₀ (epoch 0 counts as 1)."""
    return k / math.sqrt(max(epoch, 1)) * lr0


def check(s: Schedule) -> None:
    """Raise HyperparameterError (a ValueError) for an unknown kind or a value out of range."""
    from dltool.nn.optimizers import HyperparameterError, check_positive

    if s.kind not in KINDS:
        choices = f"must be one of {'|'.join(KINDS)}"
        raise HyperparameterError("kind", choices, f"unknown schedule '{s.kind}'")
    if s.kind == "manual":
        if not s.values or any(not (math.isfinite(v) and v > 0) for v in s.values):
            raise HyperparameterError("values", "must list learning rates, each > 0")
        return
    check_positive("lr0", s.lr0)
    if s.interval < 1:
        raise HyperparameterError("interval", f"must be at least 1 epoch, got {s.interval}")
    if not (math.isfinite(s.decay_rate) and s.decay_rate >= 0):
        raise HyperparameterError("decay_rate", f"must be ≥ 0, got {s.decay_rate:g}")
    if not 0 < s.base <= 1:
        raise HyperparameterError("base", f"must be in (0, 1], got {s.base:g}")
    check_positive("k", s.k)
