"""``basicnn train --backend torch`` on one process or many (DDP), in float32 or mixed precision.

The same loop as :func:`dltool.nn.training.fit`'s torch backend (batches and dropout masks
drawn from NumPy in the same order, ``torch.optim`` rule, ``LambdaLR`` schedule), with:

* ``here`` (:class:`dltool.distributed.Dist`): the model in DDP; rank r of W takes positions
  r, r+W, … of every global mini-batch (and those columns of its dropout masks). Its loss is
  J_r = (W/n) Σ_{i∈r} ℓ_i + (λ/2n) Σ‖W‖², n the global batch, so DDP's mean over the ranks,
  (1/W) Σ_r ∇J_r, is the one-process gradient of (1/n) Σ_i ℓ_i + (λ/2n) Σ‖W‖² for any split.
  The cost is reduced over the ranks, so every rank takes the same decisions.
* ``precision`` (:class:`dltool.precision.Precision`): forward under autocast, backward and
  step through it (a gradient scaler on CUDA).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dltool import distributed
from dltool.nn import network
from dltool.nn import network_torch as nt
from dltool.nn.training import NonFiniteCost, Settings, _epoch_batches, _small_step


def fit(X, labels, params, s: Settings, device, on_epoch, threads=None, here=None, amp=False):
    """Train on X (n_x, m), labels (m,); return (NumPy params, cost of every epoch).

    Small CPU steps run on one thread unless ``threads`` is fixed (as the core's torch loop).
    """
    from dltool.device import small_step_threads, thread_limit
    from dltool.precision import Precision

    cpu = torch.device(device).type == "cpu"
    small = cpu and _small_step(params, s.batch_size or X.shape[1])
    trainer = Trainer(
        X, labels, params, s, device, here or distributed.Dist(), Precision(device, amp)
    )
    with thread_limit(small_step_threads(threads) if small else None):
        return trainer.run(on_epoch)


def data_sum(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return Σ_i ℓ_i, the summed cross-entropy of logits (b, n_y) (sigmoid when n_y = 1)."""
    b = logits.shape[0]
    if logits.shape[1] == 1:
        target = y.reshape(b, 1).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    return F.cross_entropy(logits, y.reshape(b).long(), reduction="sum")


class Trainer:
    """One torch training run: the model (DDP when distributed), optimizer, schedule, data."""

    def __init__(self, X, labels, params, s: Settings, device, here, precision) -> None:
        from dltool.nn.optimizers import torch_optimizer

        self.s, self.device, self.here, self.precision = s, device, here, precision
        self.dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        self.dims = network.layer_dims_of(params)
        self.model = nt.build(self.dims, s.hidden, s.keep_prob, params, device, self.dtype)
        self.net = distributed.wrap(self.model, here, device)
        self.opt = torch_optimizer(
            s.optimizer, self.model.parameters(), s.learning_rate, s.beta1, s.beta2, s.epsilon
        )
        factor = (lambda e: s.lr(e + 1) / s.learning_rate) if s.schedule is not None else None
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, factor) if factor else None
        self.X = torch.as_tensor(X.T, dtype=self.dtype, device=device)  # (m, n_x)
        self.y = torch.as_tensor(labels, device=device)  # (m,)

    def run(self, on_epoch):
        """Train every epoch; return (params, costs); a NaN/inf cost raises NonFiniteCost."""
        m, costs = self.X.shape[0], []
        for epoch in range(1, self.s.epochs + 1):
            total = 0.0
            for idx in _epoch_batches(m, self.s, epoch):
                cost = self.step(idx)
                if not math.isfinite(cost):
                    raise NonFiniteCost(epoch, cost)
                total += cost * idx.shape[0]
            if self.sched is not None:
                self.sched.step()
            costs.append(total / m)
            if on_epoch is not None:
                on_epoch(epoch, costs[-1], lambda: nt.to_params(self.model))
        return nt.to_params(self.model), costs

    def _masks(self, n: int, mine: slice):
        """Return this rank's columns of the global batch's dropout masks (None: no dropout)."""
        if self.s.keep_prob >= 1:
            return None
        drawn = network.draw_masks(self.dims, n, self.s.keep_prob)  # {D1: (n_1, n), …}
        drawn = {k: v[:, mine] for k, v in drawn.items()}
        return nt.masks_to_torch(drawn, device=self.device, dtype=self.dtype)

    def step(self, idx: np.ndarray) -> float:
        """Update on the global batch ``idx`` (this rank: its share); return the batch's cost."""
        here, n, lambd = self.here, idx.shape[0], self.s.lambd
        mine = slice(here.rank, None, here.world)  # positions r, r+W, … of the batch
        masks = self._masks(n, mine)
        if n == self.X.shape[0] and not here.active:
            Xb, yb = self.X, self.y
        else:
            ti = torch.as_tensor(idx[mine], device=self.device)
            Xb, yb = self.X[ti], self.y[ti]  # (n_r, n_x), (n_r,)
        with self.precision.autocast():
            logits = self.net(Xb, masks)  # (n_r, n_y)
        logits = logits.to(self.dtype)
        if not here.active:
            J = nt.cost(self.model, logits, yb, lambd)  # the one-process cost, as the core's
            cost = J.item()
        else:
            summed = data_sum(logits, yb)
            l2 = lambd / (2 * n) * self.model.l2() if lambd else summed.new_zeros(())
            J = summed * (here.world / n) + l2
            total = distributed.all_sum(summed.detach().double().reshape(1), here)
            cost = float(total.item()) / n + float(l2.detach())
        if not math.isfinite(cost):
            return cost
        self.opt.zero_grad(set_to_none=True)
        self.precision.step(J, self.opt)
        return cost
