"""Train the character model with truncated backpropagation through time.

The text is cut into m parallel streams; step k feeds x = characters [kT, (k+1)T) of
every stream and targets the next characters, carrying the hidden state from one
chunk to the next but not its gradient (truncated BPTT, T = ``seq_len``). Gradients
are clipped (by value as in the notes, or by global norm) and applied with Adam.
Both backends — the NumPy reference (``charmodel``) and the torch twin
(``cells_torch.CharModel``) on the selected device — share data, optimizer formula,
checkpoints and sampling.
"""

from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from dltool.errors import DltoolError
from dltool_rnn import charmodel, checkpoint, clipping, sampling
from dltool_rnn.optim import Adam

STEPS = "steps.jsonl"  # a row every 10 steps; the epoch rows go to metrics.jsonl


def streams(ids: np.ndarray, batch: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Return inputs and targets (m, L), L a multiple of seq_len, from m contiguous streams."""
    m = max(1, min(batch, (len(ids) - 1) // seq_len))
    length = (len(ids) - 1) // m // seq_len * seq_len
    X = np.stack([ids[i * length : (i + 1) * length] for i in range(m)])  # (m, L)
    Y = np.stack([ids[i * length + 1 : (i + 1) * length + 1] for i in range(m)])
    return X, Y


def unigram_loss(train_ids: np.ndarray, eval_ids: np.ndarray, n_x: int) -> float:
    """Return −mean log p(c) on eval_ids with p the (add-one) character frequencies of train."""
    counts = np.bincount(train_ids, minlength=n_x) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[eval_ids].mean())


class NumpyBackend:
    """The NumPy reference model: forward, backward, clip and Adam on float32 arrays."""

    name = "numpy"

    def __init__(self, params: dict) -> None:
        self.params = params
        self.cell, self.n_x, self.n_a, self.layers, _ = charmodel.describe(params)

    def zero_state(self, m: int) -> list:
        """Return zero hidden states for m streams."""
        return charmodel.initial_state(self.cell, self.layers, self.n_a, m, np.float32)

    def loss_and_grads(self, X: np.ndarray, Y: np.ndarray, state):
        """Return (J, {key: dJ/dθ}, new state) for inputs/targets (m, T)."""
        x = charmodel.one_hot(X, self.n_x, np.float32)
        logp, new_state, caches = charmodel.forward(self.cell, self.params, x, state)
        loss = charmodel.loss(logp, Y)
        grads = charmodel.backward(self.cell, self.params, logp, Y, caches)
        return loss, {k: grads["d" + k] for k in self.params}, new_state

    def train_step(self, X: np.ndarray, Y: np.ndarray, state, update):
        """Return (J, ‖g‖ from ``update(J, grads)``, new state) of one step on (m, T)."""
        loss, grads, new_state = self.loss_and_grads(X, Y, state)
        return loss, update(loss, grads), new_state

    def evaluate(self, X: np.ndarray, Y: np.ndarray, state):
        """Return (J, new state) without gradients."""
        x = charmodel.one_hot(X, self.n_x, np.float32)
        logp, new_state, _ = charmodel.forward(self.cell, self.params, x, state)
        return charmodel.loss(logp, Y), new_state

    def tensors(self) -> dict:
        """Return the parameters Adam updates in place."""
        return self.params

    def to_flat(self) -> dict:
        """Return the flat NumPy parameters."""
        return self.params


class _Update:
    """The rnn update (clip, Adam) dressed as a torch optimizer, for the gradient scaler.

    ``GradScaler.step`` unscales ``param_groups``' gradients and calls :meth:`step` only when
    they are finite; ``norm`` then holds ‖g‖ (None for a skipped step).
    """

    def __init__(self, model, update, loss: float) -> None:
        self.model, self.update, self.loss = model, update, loss
        self.param_groups = [{"params": list(model.parameters())}]
        self.norm: float | None = None

    def step(self) -> None:
        """Apply ``update(J, {key: dJ/dθ})`` and keep the norm it returns."""
        grads = {k: p.grad for k, p in self.model.flat_items()}
        self.norm = self.update(self.loss, grads)


class TorchBackend:
    """The torch twin (``cells_torch.CharModel``) on a torch device, float32.

    ``here`` (a :class:`dltool.distributed.Dist`) wraps the model in DDP, so each rank's
    gradient is the mean over the ranks (equal shares of the streams: the global mean);
    ``precision`` (:class:`dltool.precision.Precision`) runs the forward pass under autocast.
    """

    name = "torch"

    def __init__(self, params: dict, device: Any, here=None, precision=None) -> None:
        import torch

        from dltool import distributed
        from dltool.precision import Precision
        from dltool_rnn.cells_torch import CharModel

        self.torch = torch
        self.device = device
        self.model = CharModel.from_flat(params, dtype=torch.float32).to(device)
        self.n_x = params["by"].shape[0]
        self.here = here or distributed.Dist()
        self.net = distributed.wrap(self.model, self.here, device)  # the model without DDP
        self.precision = precision or Precision(device, False)

    def zero_state(self, m: int) -> None:
        """Return None: the model starts every layer from zeros."""
        return None

    def _x(self, X: np.ndarray):
        """Return the one-hot input (n_x, m, T) on the device."""
        idx = self.torch.as_tensor(X, device=self.device)
        return self.torch.nn.functional.one_hot(idx, self.n_x).permute(2, 0, 1).float()

    def loss_and_grads(self, X, Y, state):
        """Return (J, {key: dJ/dθ}, new state) for inputs/targets (m, T)."""
        from dltool_rnn.cells_torch import sequence_loss

        self.model.zero_grad(set_to_none=True)
        logp, new_state = self.model(self._x(X), state)
        loss = sequence_loss(logp, self.torch.as_tensor(Y, device=self.device))
        loss.backward()
        grads = {k: p.grad for k, p in self.model.flat_items()}
        detached = [tuple(s.detach() for s in st) for st in new_state]
        return float(loss.item()), grads, detached

    def train_step(self, X, Y, state, update):
        """Return (J over all ranks, ‖g‖ or None if skipped, new state) of one step on (m, T).

        Forward under autocast; ``Precision.step`` runs backward (scaled on CUDA) and calls
        ``update(J, grads)`` (clip, Adam) unless the scaled gradients overflowed.
        """
        from dltool import distributed
        from dltool_rnn.cells_torch import sequence_loss

        self.model.zero_grad(set_to_none=True)
        with self.precision.autocast():
            logp, new_state = self.net(self._x(X), state)  # (n_x, m, T)
        loss = sequence_loss(logp.float(), self.torch.as_tensor(Y, device=self.device))
        total = distributed.all_sum(loss.detach().double(), self.here) / self.here.world
        box = _Update(self.model, update, float(total.item()))
        self.precision.step(loss, box)
        detached = [tuple(s.detach().float() for s in st) for st in new_state]
        return box.loss, box.norm, detached

    def evaluate(self, X, Y, state):
        """Return (J, new state) without gradients."""
        from dltool_rnn.cells_torch import sequence_loss

        with self.torch.no_grad():
            logp, new_state = self.model(self._x(X), state)
            loss = sequence_loss(logp, self.torch.as_tensor(Y, device=self.device))
        return float(loss.item()), new_state

    def tensors(self) -> dict:
        """Return the parameter tensors (``.data``) Adam updates in place."""
        return {k: p.data for k, p in self.model.flat_items()}

    def to_flat(self) -> dict:
        """Return the parameters as flat NumPy arrays."""
        return self.model.to_flat()


@dataclass
class TrainState:
    """Where training is: epoch, step within it, global step, last loss."""

    epoch: int = 0
    step_in_epoch: int = 0
    step: int = 0
    loss: float = float("nan")


class Interrupt:
    """Turn Ctrl-C into a flag checked between steps, so a checkpoint is never half-updated."""

    def __enter__(self) -> Interrupt:
        self.hit = False
        self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.hit = True

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._old)


def mean_loss(backend, X: np.ndarray, Y: np.ndarray, seq_len: int) -> float:
    """Return the mean per-character loss over all chunks of (X, Y), carrying the state."""
    state = backend.zero_state(X.shape[0])
    total = 0.0
    chunks = X.shape[1] // seq_len
    for k in range(chunks):
        sl = slice(k * seq_len, (k + 1) * seq_len)
        loss, state = backend.evaluate(X[:, sl], Y[:, sl], state)
        total += loss
    return total / max(chunks, 1)


def clip(grads: dict, mode: str, value: float) -> tuple[dict, float]:
    """Return clipped gradients (``value`` ≤ 0: none) and their global norm before clipping."""
    if value > 0 and mode == "norm":
        return clipping.clip_by_norm(grads, value)  # computes the norm it returns
    norm = clipping.global_norm(grads)
    if value <= 0:
        return grads, norm
    return clipping.clip_by_value(grads, value), norm


def _limit_reached(cfg: dict, step: int, seconds: float) -> bool:
    """Return True once this run used ``--max-steps`` steps or ``--time-limit`` seconds."""
    if cfg.get("max_steps") and step >= cfg["max_steps"]:
        return True
    return bool(cfg.get("time_limit")) and seconds >= cfg["time_limit"]


class Loop:
    """One invocation's training loop: steps, logs, samples and finite-only checkpoints."""

    def __init__(self, backend, adam: Adam, data: dict, cfg: dict, meta: dict, run, reporter):
        self.backend, self.adam, self.data, self.cfg = backend, adam, data, cfg
        self.meta, self.run, self.reporter = meta, run, reporter  # run None: not rank 0
        self.X, self.Y = data["train"]  # (m, L): this rank's streams
        self.T = cfg["seq_len"]
        self.per_epoch = self.X.shape[1] // self.T
        self.rng = np.random.default_rng(cfg["seed"])
        self.ckpt = run.file(checkpoint.FILENAME) if run is not None else None
        self.started = self.epoch_started = time.perf_counter()
        self.here = getattr(backend, "here", None)

    def start(self, ts: TrainState, resumed: bool) -> None:
        """Begin at ``ts``; a checkpoint counts as this run's only when ``resumed`` from it."""
        self.ts, self.first_step = ts, ts.step
        self.saved_step = ts.step if resumed else None

    def stop_for_nan(self, what: str) -> NoReturn:
        """Raise the one error of a diverged run, naming the checkpoint that is kept."""
        ckpt, step = self.ckpt, self.saved_step
        where = f"{ckpt} (step {step})" if step is not None else "this run wrote none"
        raise DltoolError(
            f"{what}; training stopped, last checkpoint kept: {where}",
            hint="lower --lr, or clip gradients with --clip (e.g. --clip 5)",
        )

    def save(self) -> None:
        """Write the checkpoint, once its weights are finite and give a finite loss."""
        if self.run is None:  # ranks other than 0 write nothing
            return
        ts, flat = self.ts, self.backend.to_flat()
        if not all(np.isfinite(np.asarray(v)).all() for v in flat.values()):
            self.stop_for_nan(f"weights became NaN or inf after step {ts.step}")
        x, y = self.X[:, : self.T], self.Y[:, : self.T]
        loss = self.backend.evaluate(x, y, self.backend.zero_state(x.shape[0]))[0]
        if not math.isfinite(loss):
            self.stop_for_nan(f"loss became {loss} after step {ts.step}")
        self.meta.update(epoch=ts.epoch, step_in_epoch=ts.step_in_epoch, step=ts.step, loss=ts.loss)
        precision = getattr(self.backend, "precision", None)
        if precision is not None and precision.state_dict():
            self.meta["scaler"] = precision.state_dict()  # CUDA --amp: the loss scale goes on
        checkpoint.save(self.ckpt, flat, self.meta, self.adam)
        self.saved_step = ts.step

    def update(self, loss: float, grads: dict) -> float:
        """Clip ``grads``, refuse a NaN/inf loss or norm, take the Adam step; return ‖g‖."""
        grads, norm = clip(grads, self.cfg["clip_mode"], self.cfg["clip"])
        if not (math.isfinite(loss) and math.isfinite(norm)):
            what = f"loss became {loss}" if not math.isfinite(loss) else "gradients became NaN"
            self.stop_for_nan(f"{what} at step {self.ts.step + 1}")
        self.adam.step(self.backend.tensors(), grads)
        return norm

    def step(self, state, bar):
        """Take one step of truncated BPTT (clip, Adam) from ``state``; return the new state."""
        ts, T = self.ts, self.T
        sl = slice(ts.step_in_epoch * T, (ts.step_in_epoch + 1) * T)
        x, y = self.X[:, sl], self.Y[:, sl]  # (m, T)
        loss, norm, state = self.backend.train_step(x, y, state, self.update)
        if not math.isfinite(loss):  # a step the gradient scaler skipped
            self.stop_for_nan(f"loss became {loss} at step {ts.step + 1}")
        ts.step, ts.step_in_epoch, ts.loss = ts.step + 1, ts.step_in_epoch + 1, loss
        self.epoch_losses.append(loss)
        bar.advance(1, loss=round(loss, 4), epoch=ts.epoch + 1)
        if self.run is None:
            return state
        if ts.step % 10 == 0:
            elapsed = round(time.perf_counter() - self.started, 3)
            row = {"step": ts.step, "epoch": ts.epoch + 1, "loss": loss, "seconds": elapsed}
            extra = {} if norm is None else {"grad_norm": norm}
            self.run.log_metrics(name=STEPS, **row, **extra)
        if self.cfg["sample_every"] and ts.step % self.cfg["sample_every"] == 0:
            flat = self.backend.to_flat()
            text = sampling.sample(flat, self.meta["vocab"], 1, 0.8, max_len=100, rng=self.rng)
            self.reporter.info(f"step {ts.step} loss {loss:.3f}: {text[0]!r}")
        return state

    def _stop_now(self, interrupt: Interrupt) -> tuple[bool, bool]:
        """Return (limit reached, interrupted), agreed over the ranks (any rank's says so)."""
        ts = self.ts
        limit = _limit_reached(
            self.cfg, ts.step - self.first_step, time.perf_counter() - self.started
        )
        if self.here is None or not self.here.active:
            return limit, interrupt.hit
        import torch

        from dltool.distributed import all_sum

        flags = all_sum(torch.tensor([float(limit), float(interrupt.hit)]), self.here)
        return bool(flags[0] > 0), bool(flags[1] > 0)

    def after_step(self, interrupt: Interrupt) -> bool:
        """Checkpoint when due; return True when this invocation's limits are reached."""
        ts = self.ts
        if ts.step % self.cfg["checkpoint_every"] == 0:
            self.save()
        limit, hit = self._stop_now(interrupt)
        if limit:
            self.save()
            self.reporter.info(f"stopped at step {ts.step} (--max-steps/--time-limit)")
            return True
        if hit:
            if self.run is not None:  # rank 0 saves and says so; the other ranks just stop
                self.save()
                self.reporter.warn(
                    f"interrupted at step {ts.step}; checkpoint saved to {self.ckpt}"
                )
            raise KeyboardInterrupt
        return False

    def end_epoch(self) -> None:
        """Log the epoch's losses, validation loss, lr and time; note the best; checkpoint."""
        ts = self.ts
        ts.epoch, ts.step_in_epoch = ts.epoch + 1, 0
        if self.run is None:
            return
        losses = self.epoch_losses or [ts.loss]
        row = {"epoch": ts.epoch, "step": ts.step, "train_loss": ts.loss,
               "mean_train_loss": float(np.mean(losses))}  # fmt: skip
        if self.data.get("val") is not None:
            row["val_loss"] = mean_loss(self.backend, *self.data["val"], self.T)
        row.update(lr=self.adam.lr, seconds=round(time.perf_counter() - self.epoch_started, 3))
        key = "val_loss" if "val_loss" in row else "mean_train_loss"
        self.run.best(key, row[key], "min")
        self.run.log_metrics(**row)  # the core prints its epoch line
        self.save()

    def epoch(self, bar, interrupt: Interrupt) -> bool:
        """Run the rest of the current epoch; return True when stopped early by a limit."""
        state = self.backend.zero_state(self.X.shape[0])
        self.epoch_losses: list[float] = []
        self.epoch_started = time.perf_counter()
        while self.ts.step_in_epoch < self.per_epoch:
            state = self.step(state, bar)
            if self.after_step(interrupt):
                return True
        self.end_epoch()
        return False


def fit(backend, adam: Adam, data: dict, cfg: dict, meta: dict, run, reporter, ts, resumed=False):
    """Run the epochs from ``ts``; log, sample and checkpoint; return the final TrainState.

    ``resumed``: ``ts`` comes from the run's checkpoint (otherwise a checkpoint already in a
    reused run directory belongs to an earlier run and is never reported as this one's).
    A checkpoint is written only for weights that are finite and give a finite loss, so a
    diverging run stops with the last good one kept.
    """
    loop = Loop(backend, adam, data, cfg, meta, run, reporter)
    loop.start(ts, resumed)
    total = loop.per_epoch * cfg["epochs"]
    with (
        np.errstate(over="ignore", invalid="ignore"),  # a NaN loss is reported, not warned
        reporter.progress(total, f"train {meta['cell']} ({backend.name})") as bar,
        Interrupt() as interrupt,
    ):
        bar.advance(ts.step)
        while ts.epoch < cfg["epochs"] and not loop.epoch(bar, interrupt):
            pass
    return ts
