"""Training a CNN classifier in torch: mini-batch Adam/SGD on cross-entropy, a checkpoint after
every epoch (atomic), best-model tracking on dev accuracy, resume, confusion matrix and curves.

A checkpoint is a dict of tensors and plain values saved through :mod:`dltool.checkpoints`
(tagged ``dltool-cnn/1``, loaded with ``weights_only=True``): model and optimizer state, the
epoch count, the history, the resolved config, class names and channels. The input
normalization (mean, std) is a buffer of the model, so ``cnn predict`` and ``--resume`` need
nothing else.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dltool import checkpoints
from dltool.errors import DltoolError
from dltool_cnn.models import Normalize

LAST, BEST = "last.pt", "best.pt"
FORMAT = "dltool-cnn/1"
WHAT = "dltool cnn checkpoint"


def build_classifier(config: dict, num_classes: int, channels: int, mean, std) -> nn.Module:
    """Return Normalize → network for the config's model (or pretrained backbone)."""
    if config.get("pretrained"):
        from dltool_cnn.transfer import build_pretrained

        weights = config.get("pretrained_weights", True)  # False: predict loads a checkpoint
        net, mean, std = build_pretrained(
            config["pretrained"], num_classes, config["freeze"], weights
        )
    else:
        from dltool_cnn import models

        net = getattr(models, config["model"])(num_classes=num_classes, in_channels=channels)
    return nn.Sequential(Normalize(mean, std), net)


def save_checkpoint(path: Path, state: dict) -> Path:
    """Write ``state`` (tensors and plain values) to ``path`` atomically, tagged FORMAT."""
    return checkpoints.save_torch(path, state, FORMAT)


def load_checkpoint(path: Path) -> dict:
    """Return the checkpoint at ``path``, loaded without running code; refuse other files."""
    state = checkpoints.load_torch(path, FORMAT, WHAT)
    if not isinstance(state.get("model"), dict) or not isinstance(state.get("config"), dict):
        raise DltoolError(
            f"{path} is not a {WHAT} (no model or config in it)",
            hint="give a run folder of `dltool cnn train` or a .pt file inside it",
        )
    return state


def train_epoch(
    model, loader, optimizer, device, progress=None, report_every: int = 10, here=None,
    precision=None,
) -> dict:  # fmt: skip
    """Run one epoch of mini-batch updates; return mean loss, accuracy, images, seconds, steps.

    Loss and accuracy are summed on the device and read back every ``report_every`` batches
    (for the progress bar and the divergence check), so a GPU is not synchronised after every
    step. A NaN or inf loss ends the epoch early; the returned loss is then not finite.
    With ``here`` (a :class:`dltool.distributed.Dist`) the sums are reduced over the ranks
    (so every rank takes the same decisions); ``steps`` holds each step's mean loss over the
    global batch (ranks hold equal shares, so the mean of their means). ``precision`` (a
    :class:`dltool.precision.Precision`) runs the forward pass under autocast (``--amp``).
    """
    from dltool.distributed import Dist
    from dltool.precision import Precision

    here = here or Dist()
    precision = precision or Precision(device, False)
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    sums = torch.zeros(3, device=device, dtype=torch.float64)  # loss·m, correct, m
    steps = []
    start = time.perf_counter()
    for step, (xb, yb) in enumerate(loader, 1):
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        with precision.autocast():
            logits = model(xb)  # (m, classes)
            loss = loss_fn(logits, yb)  # float32 under autocast too
        optimizer.zero_grad(set_to_none=True)
        precision.step(loss, optimizer)
        steps.append(loss.detach())
        m = torch.tensor(float(len(yb)), device=device, dtype=torch.float64)
        right = (logits.argmax(1) == yb).sum().double()
        sums += torch.stack([loss.detach().double() * m, right, m])
        metrics = {}
        if step % report_every == 0:
            now = _all_sum(sums, here)
            metrics["loss"] = round(float(now[0] / now[2]), 4)
            if not math.isfinite(metrics["loss"]):
                break
        if progress is not None:
            progress.advance(1, **metrics)
    total = _all_sum(sums, here).tolist()
    step_losses = _all_sum(torch.stack(steps).double(), here) / here.world if steps else None
    seconds = time.perf_counter() - start
    if progress is not None:
        progress.advance(0, loss=round(total[0] / total[2], 4))
    steps = [] if step_losses is None else step_losses.tolist()
    loss, acc, seen = total[0] / total[2], total[1] / total[2], int(total[2])
    return {"loss": loss, "acc": acc, "images": seen, "seconds": seconds, "steps": steps}


def _all_sum(tensor, here):
    """Return ``tensor`` summed over the ranks of ``here``."""
    from dltool.distributed import all_sum

    return all_sum(tensor, here)


@torch.no_grad()
def predict_proba(model, X: np.ndarray, device, batch_size: int = 256) -> np.ndarray:
    """Return softmax probabilities (N, classes) for images X (N, H, W, C)."""
    model.eval()
    out = []
    for i in range(0, len(X), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size].transpose(0, 3, 1, 2)))
        out.append(torch.softmax(model(xb.to(device)), 1).float().cpu().numpy())
    return np.concatenate(out)


@torch.no_grad()
def predict_batches(model, batches, device) -> tuple[np.ndarray, np.ndarray]:
    """Return (softmax probabilities (N, classes), labels (N,)) over (x, y) ``batches``."""
    model.eval()
    probs, labels = [], []
    for xb, yb in batches:
        probs.append(torch.softmax(model(xb.to(device)), 1).float().cpu().numpy())
        labels.append(np.asarray(yb))
    return np.concatenate(probs), np.concatenate(labels)


def confusion_matrix(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Return the (k, k) matrix M[true, predicted] of counts."""
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)


def make_optimizer(config: dict, model: nn.Module):
    """Return Adam or SGD with momentum 0.9 over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=0.9)
    return torch.optim.Adam(params, lr=config["lr"])
