"""Mixed precision for torch training commands (``--amp``): one home for autocast and scaling.

* CPU: autocast to bfloat16 (same exponent range as float32, so no loss scaling).
* CUDA: autocast to float16 with a gradient scaler (loss·S backward, unscale, skip a step
  whose gradients overflowed, adapt S).
* Any other device (MPS, …) where torch has no autocast: ``--amp`` is refused with one line.

Without ``--amp`` every method is the plain float32 path, so a trainer calls them always.
"""

from __future__ import annotations

import contextlib
from typing import Any

from dltool.errors import DltoolError

DTYPES = {"cpu": "bfloat16", "cuda": "float16"}


def check_amp(device: Any, amp: bool) -> str | None:
    """Return the autocast dtype name for ``device`` under --amp (None without); refuse others."""
    if not amp:
        return None
    import torch

    kind = device.type
    available = getattr(torch.amp, "is_autocast_available", lambda _k: kind in DTYPES)
    if kind not in DTYPES or not available(kind):
        raise DltoolError(
            f"--amp is not available on device {kind}: torch has no mixed precision there",
            hint="leave out --amp, or pick --device cpu or cuda",
        )
    return DTYPES[kind]


class Precision:
    """Autocast and (on CUDA) loss scaling for one training run; float32 when off."""

    def __init__(self, device: Any, amp: bool) -> None:
        import torch

        self.device = device
        self.dtype_name = check_amp(device, amp)
        self.dtype = getattr(torch, self.dtype_name) if self.dtype_name else None
        scaled = self.dtype_name == "float16"
        self.scaler = torch.amp.GradScaler(device.type) if scaled else None

    @property
    def enabled(self) -> bool:
        """Return True under --amp."""
        return self.dtype is not None

    def autocast(self) -> Any:
        """Return the forward pass's context: autocast(device, dtype) under --amp."""
        import torch

        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def step(self, loss: Any, optimizer: Any, clip: float | None = None, params=None) -> None:
        """Backward and update: θ ← step(∇(S·loss)/S), skipped on overflow (S = 1 unscaled).

        ``clip``: clip the gradients' global norm to it first (``params``: whose), unscaled.
        """
        import torch

        if self.scaler is None:
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        if clip is not None:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, clip)
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict:
        """Return the scaler's state for a checkpoint (empty without one)."""
        return {} if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict | None) -> None:
        """Restore the scaler's state from a checkpoint (nothing to do without one)."""
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
