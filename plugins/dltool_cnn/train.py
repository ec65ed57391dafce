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


def train_epoch(model, loader, optimizer, device, progress=None, report_every: int = 10) -> dict:
    """Run one epoch of mini-batch updates; return mean loss, accuracy, images and seconds.

    Loss and accuracy are summed on the device and read back every ``report_every`` batches
    (for the progress bar and the divergence check), so a GPU is not synchronised after every
    step. A NaN or inf loss ends the epoch early; the returned loss is then not finite.
    """
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = step = 0
    start = time.perf_counter()
    for step, (xb, yb) in enumerate(loader, 1):
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        logits = model(xb)  # (m, classes)
        loss = loss_fn(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(yb)
        correct += (logits.argmax(1) == yb).sum()
        seen += len(yb)
        metrics = {}
        if step % report_every == 0:
            metrics["loss"] = round(total_loss.item() / seen, 4)
            if not math.isfinite(metrics["loss"]):
                break
        if progress is not None:
            progress.advance(1, **metrics)
    total = total_loss.item()
    seconds = time.perf_counter() - start
    if progress is not None:
        progress.advance(0, loss=round(total / seen, 4))
    return {"loss": total / seen, "acc": int(correct) / seen, "images": seen, "seconds": seconds}


@torch.no_grad()
def predict_proba(model, X: np.ndarray, device, batch_size: int = 256) -> np.ndarray:
    """Return softmax probabilities (N, classes) for images X (N, H, W, C)."""
    model.eval()
    out = []
    for i in range(0, len(X), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size].transpose(0, 3, 1, 2)))
        out.append(torch.softmax(model(xb.to(device)), 1).float().cpu().numpy())
    return np.concatenate(out)


def confusion_matrix(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Return the (k, k) matrix M[true, predicted] of counts."""
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)


def make_optimizer(config: dict, model: nn.Module):
    """Return Adam or SGD with momentum 0.9 over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=0.9)
    return torch.optim.Adam(params, lr=config["lr"])
