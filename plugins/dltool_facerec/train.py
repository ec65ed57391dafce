"""Train the FaceNet-style encoder with the triplet loss on folders of faces (one per person).

Faces are found with the HOG detector (the largest face of each image; an image without
a detection is taken as an already-cropped face), aligned with the 5-point landmarks
into 96×96 chips, augmented (mirror, crop-and-resize, brightness/contrast) and fed to
the network in P×K batches (P identities, K images each). The loss is the triplet loss
over batch-all or semi-hard online triplets; the fraction of valid triplets still
violating the margin ("active") is shown with the loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from dltool.data.images import is_image_name
from dltool.errors import DltoolError
from dltool_facerec import triplet_torch as T
from dltool_facerec.images import load_rgb

MINING = ("batch-all", "semi-hard")


def identity_folders(data: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """Return (image paths, integer labels (N,), names) of DATA/<person>/<image>."""
    if not Path(data).is_dir():
        raise DltoolError(f"--data {data} is not a directory", hint="one sub-folder per person")
    paths, labels, names = [], [], []
    for folder in sorted(p for p in Path(data).iterdir() if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_name(p))
        if files:
            names.append(folder.name)
            paths.extend(files)
            labels.extend([len(names) - 1] * len(files))
    counts = np.bincount(labels) if labels else np.zeros(0, int)
    if len(names) < 2 or (counts >= 2).sum() < 1:
        raise DltoolError(
            f"{data} needs at least 2 person folders, one of them with 2 or more images",
            hint="layout: DATA/alice/1.jpg, DATA/alice/2.jpg, DATA/bob/1.jpg …",
        )
    return paths, np.array(labels), names


def face_chips(finder: Any, paths: list[Path], size: int, progress: Any = None) -> np.ndarray:
    """Return aligned uint8 chips (N, size, size, 3) of the largest face of each image."""
    import dlib

    chips = []
    for path in paths:
        image = load_rgb(path)
        chips.append(dlib.get_face_chip(image, finder.largest(image)[1], size=size, padding=0.25))
        if progress is not None:
            progress.advance()
    return np.stack(chips)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Return x (m, 3, H, W) randomly mirrored, cropped-and-resized and color-jittered."""
    m, _, h, w = x.shape
    flip = torch.rand(m, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None].to(x.device), x.flip(3), x)
    scale = 0.85 + 0.15 * torch.rand(m, generator=gen)  # (m,)
    shift = (1 - scale)[:, None] * (2 * torch.rand(m, 2, generator=gen) - 1)  # (m, 2)
    theta = torch.zeros(m, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale, scale, shift
    grid = torch.nn.functional.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    x = torch.nn.functional.grid_sample(x, grid, padding_mode="reflection", align_corners=False)
    gain = (0.8 + 0.4 * torch.rand(m, 1, 1, 1, generator=gen)).to(x)
    bias = (0.2 * torch.rand(m, 1, 1, 1, generator=gen) - 0.1).to(x)
    return (x * gain + bias).clamp(-1, 1)


def pk_batches(labels: np.ndarray, p: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Return one epoch of index batches, each P identities × up to K images."""
    people = rng.permutation(np.unique(labels))
    batches = []
    for start in range(0, len(people), p):
        group = people[start : start + p]
        if len(group) < 2:
            group = np.concatenate([group, rng.choice(people[people != group[0]], 1)])
        idx = [rng.permutation(np.nonzero(labels == g)[0])[:k] for g in group]
        batches.append(np.concatenate(idx))
    return batches


def train_step(
    model: Any, opt: Any, x: torch.Tensor, y: torch.Tensor, alpha: float, mining: str
) -> tuple[float, float]:
    """Take one optimizer step on the triplet loss; return (loss, active fraction)."""
    model.train()
    E = model(x)  # (m, 128)
    if mining == "batch-all":
        loss, active = T.batch_all_triplet_loss(E, y, alpha)
    else:
        idx = T.semi_hard_triplets(E, y, alpha)  # (k, 3)
        loss = T.triplet_loss(E[idx[:, 0]], E[idx[:, 1]], E[idx[:, 2]], alpha) / max(len(idx), 1)
        active = T.batch_all_triplet_loss(E.detach(), y, alpha)[1]
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item(), float(active)


class Diverged(DltoolError):
    """The triplet loss became NaN or inf at ``epoch``: training stops."""

    def __init__(self, epoch: int, loss: float):
        super().__init__(
            f"the triplet loss became {loss} in epoch {epoch}; training stopped",
            hint="train again with a smaller --lr",
        )
        self.epoch = epoch


def new_state(model: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Return what training carries between epochs: the optimizer and both generators."""
    seed = int(params["seed"])
    return {
        "optimizer": torch.optim.Adam(model.parameters(), lr=params["lr"]),
        "gen": torch.Generator().manual_seed(seed),  # augmentation
        "rng": np.random.default_rng(seed),  # batches
    }


def saved_state(state: dict[str, Any]) -> dict[str, Any]:
    """Return ``state`` as tensors and plain values (for a weights-only checkpoint)."""
    return {
        "optimizer": state["optimizer"].state_dict(),
        "gen": state["gen"].get_state(),
        "rng": state["rng"].bit_generator.state,
    }


def restore_state(state: dict[str, Any], saved: dict[str, Any]) -> None:
    """Load a ``saved_state`` back into ``state`` (optimizer moments, generator positions)."""
    state["optimizer"].load_state_dict(saved["optimizer"])
    state["gen"].set_state(saved["gen"])
    state["rng"].bit_generator.state = saved["rng"]


def _finite_weights(model: Any) -> bool:
    """Return whether every parameter of ``model`` is finite."""
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def fit(
    chips: np.ndarray,
    labels: np.ndarray,
    params: dict[str, Any],
    device: Any,
    model: Any,
    rows: list[dict[str, float]],
    on_step: Any = None,
    on_epoch: Any = None,
    state: dict[str, Any] | None = None,
) -> None:
    """Train ``model`` on chips (N, 96, 96, 3) in place from epoch len(rows) + 1, one row each.

    ``state`` (from :func:`new_state`, possibly restored) carries the optimizer and the
    generators; ``on_epoch(state)`` runs after each epoch. A non-finite loss raises Diverged.
    """
    from dltool_facerec.facenet import chips_to_tensor

    state = state or new_state(model, params)
    X = chips_to_tensor(chips, device)  # (N, 3, 96, 96)
    Y = torch.from_numpy(labels).to(device)
    P, K = params["people_per_batch"], params["images_per_person"]
    for epoch in range(len(rows) + 1, params["epochs"] + 1):
        losses, actives = [], []
        for idx in pk_batches(labels, P, K, state["rng"]):
            ix = torch.from_numpy(idx).to(device)
            x = augment(X[ix], state["gen"])
            loss, active = train_step(
                model, state["optimizer"], x, Y[ix], params["margin"], params["mining"]
            )
            if not np.isfinite(loss):
                raise Diverged(epoch, loss)
            losses.append(loss)
            actives.append(active)
            if on_step is not None:
                on_step(loss=loss, active=active)
        if not _finite_weights(model):
            raise Diverged(epoch, float("nan"))
        rows.append(
            {"epoch": epoch, "loss": float(np.mean(losses)), "active": float(np.mean(actives))}
        )
        if on_epoch is not None:
            on_epoch(state)
