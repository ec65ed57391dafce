"""Training a CNN classifier in torch: mini-batch Adam/SGD on cross-entropy, a checkpoint after
every epoch (atomic), best-model tracking on dev accuracy, resume, confusion matrix and curves.

A checkpoint is a dict saved with ``torch.save``: model and optimizer state, the epoch count,
the history, the resolved config, class names and the input normalization, so ``cnn predict``
and ``--resume`` need nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dltool import atomic
from dltool.errors import DltoolError

LAST, BEST = "last.pt", "best.pt"


class Normalize(nn.Module):
    """Return (x − mean) / std per channel; kept inside the model so predict needs no extras."""

    def __init__(self, mean, std) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


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
    """Write ``state`` with torch.save to a temporary file, then rename it onto ``path``."""
    with atomic.atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(path: Path) -> dict:
    """Return the checkpoint dict at ``path``; a missing or damaged file is a DltoolError."""
    if not path.is_file():
        raise DltoolError(f"no checkpoint at {path}", hint="pass a run directory of `cnn train`")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated or foreign file
        raise DltoolError(f"{path} is not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise DltoolError(f"{path} is not a dltool cnn checkpoint")
    return state


def train_epoch(model, loader, optimizer, device, progress=None, report_every: int = 10) -> dict:
    """Run one epoch of mini-batch updates; return mean loss, accuracy, images and seconds.

    Loss and accuracy are summed on the device and read back every ``report_every`` batches
    (for the progress bar), so a GPU is not synchronised after every step.
    """
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
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
        if progress is not None:
            metrics = (
                {"loss": round(total_loss.item() / seen, 4)} if step % report_every == 0 else {}
            )
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


def plot_curves(path: Path, history: list[dict]) -> None:
    """Write the loss and train/dev accuracy per epoch as a PNG."""
    from dltool.report import figure

    epochs = [h["epoch"] for h in history]
    with figure(path, 1, 2, figsize=(10, 4)) as (fig, axes):
        axes[0].plot(epochs, [h["train_loss"] for h in history], marker="o")
        axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="training loss")
        axes[1].plot(epochs, [h["train_acc"] for h in history], marker="o", label="train")
        axes[1].plot(epochs, [h["dev_acc"] for h in history], marker="o", label="dev")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
        axes[1].legend()


def plot_confusion(path: Path, cm: np.ndarray, classes: list[str]) -> None:
    """Write the confusion matrix (rows: true class, columns: predicted) as a PNG."""
    from dltool.report import figure

    k = len(classes)
    side = min(12, 3 + 0.5 * k)
    with figure(path, 1, 1, figsize=(side, side)) as (fig, ax):
        ax.imshow(cm, cmap="Blues")
        ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true")
        ax.set_xticklabels(classes, rotation=45, ha="right")
        ax.set_yticklabels(classes)
        for i in range(k):
            for j in range(k):
                color = "white" if cm[i, j] > cm.max() / 2 else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=8)
        ax.set_title("dev confusion matrix (best model)")


def make_optimizer(config: dict, model: nn.Module):
    """Return Adam or SGD with momentum 0.9 over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=0.9)
    return torch.optim.Adam(params, lr=config["lr"])
