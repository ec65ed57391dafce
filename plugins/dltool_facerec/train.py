"""Train the FaceNet-style encoder with the triplet loss on folders of faces (one per person).

Faces are found with the HOG detector (the largest face of each image; an image without
a detection is taken as an already-cropped face), aligned with the 5-point landmarks
into 96×96 chips, augmented (mirror, crop-and-resize, brightness/contrast) and fed to
the network in P×K batches (P identities, K images each). The loss is the triplet loss
over batch-all or semi-hard online triplets; the fraction of valid triplets still
violating the margin ("active") is shown with the loss.

Distributed (``--nproc N`` or torchrun; :func:`fit` with a ``Dist``): every rank draws the
same P×K batches and augmentation (one global batch of P·K faces), embeds its share of it
(rows r, r + W, …) in a DDP model, and gathers all embeddings, so the triplets are mined
over the global batch and the loss and gradient are the one-process ones. Not equal: batch
norm, whose statistics each rank takes over its own share (torch's SyncBatchNorm has no CPU
kernel); a network without batch norm trains as one process does (tests/facerec/test_ddp.py).
"""

from __future__ import annotations

from dataclasses import dataclass
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


def augment_draws(m: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Return the random draws of :func:`augment` for m images, in its order of drawing."""
    flip = torch.rand(m, generator=gen) < 0.5  # (m,)
    scale = 0.85 + 0.15 * torch.rand(m, generator=gen)  # (m,)
    shift = (1 - scale)[:, None] * (2 * torch.rand(m, 2, generator=gen) - 1)  # (m, 2)
    gain = 0.8 + 0.4 * torch.rand(m, 1, 1, 1, generator=gen)  # (m, 1, 1, 1)
    bias = 0.2 * torch.rand(m, 1, 1, 1, generator=gen) - 0.1  # (m, 1, 1, 1)
    return {"flip": flip, "scale": scale, "shift": shift, "gain": gain, "bias": bias}


def apply_augment(x: torch.Tensor, d: dict[str, torch.Tensor]) -> torch.Tensor:
    """Return x (m, 3, H, W) mirrored, cropped-and-resized and color-jittered by draws ``d``."""
    m = x.shape[0]
    if m == 0:  # a rank's empty share of a small batch
        return x
    x = torch.where(d["flip"][:, None, None, None].to(x.device), x.flip(3), x)
    theta = torch.zeros(m, 2, 3)  # (m, 2, 3) affine maps
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = d["scale"], d["scale"], d["shift"]
    grid = torch.nn.functional.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    x = torch.nn.functional.grid_sample(x, grid, padding_mode="reflection", align_corners=False)
    return (x * d["gain"].to(x) + d["bias"].to(x)).clamp(-1, 1)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Return x (m, 3, H, W) randomly mirrored, cropped-and-resized and color-jittered."""
    return apply_augment(x, augment_draws(x.shape[0], gen))


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


@dataclass
class Ranks:
    """Where a step runs: this rank's place (a ``Dist``) and the precision (``--amp``)."""

    here: Any
    precision: Any

    @property
    def world(self) -> int:
        """Return the number of ranks (1 in one process)."""
        return self.here.world


def one_process(device: Any) -> Ranks:
    """Return the Ranks of a float32 run in one process (no DDP)."""
    from dltool.distributed import Dist
    from dltool.precision import Precision

    return Ranks(Dist(), Precision(device, False))


def share_positions(m: int, world: int) -> list[np.ndarray]:
    """Return each rank r's positions r, r + W, r + 2W, … of a batch of m rows (W ranks).

    Strided as a DistributedSampler deals (without padding: shares differ by one row at most),
    so each rank's share mixes the batch's people, as batch norm's statistics want.
    """
    return [np.arange(r, m, world) for r in range(world)]


def gather_rows(local: torch.Tensor, positions: list[np.ndarray], here: Any) -> torch.Tensor:
    """Return the batch's rows (m, d) in batch order from every rank's share; own rows live.

    Shares may differ by one row: each is padded to the largest for ``all_gather`` and cut back.
    """
    if not here.active:
        return local
    import torch.distributed as dist

    sizes = [len(p) for p in positions]
    padded = local.new_zeros((max(sizes), *local.shape[1:]))  # (largest share, d)
    padded[: len(local)] = local.detach()
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    rows = [part[:size] for part, size in zip(parts, sizes, strict=True)]
    rows[here.rank] = local
    order = torch.from_numpy(np.argsort(np.concatenate(positions), kind="stable"))
    return torch.cat(rows)[order.to(local.device)]  # (m, d)


def triplet_objective(E: torch.Tensor, y: torch.Tensor, alpha: float, mining: str) -> tuple:
    """Return (triplet loss of the batch E (m, d), fraction of valid triplets still active)."""
    if mining == "batch-all":
        return T.batch_all_triplet_loss(E, y, alpha)
    idx = T.semi_hard_triplets(E, y, alpha)  # (k, 3)
    loss = T.triplet_loss(E[idx[:, 0]], E[idx[:, 1]], E[idx[:, 2]], alpha) / max(len(idx), 1)
    return loss, T.batch_all_triplet_loss(E.detach(), y, alpha)[1]


def train_step(
    model: Any,
    opt: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    mining: str,
    ranks: Ranks | None = None,
) -> tuple[float, float]:
    """Take one optimizer step on the triplet loss of the global batch; return (loss, active).

    ``x`` (m_r, 3, H, W) is this rank's share of the batch (all of it in one process), ``y``
    (m,) the global batch's labels. Triplets are mined over the global batch: every rank
    gathers all embeddings (its own rows live) and computes the same loss L; DDP averages
    the ranks' gradients of W·L, which sum to ∇L, the one-process gradient.
    """
    ranks = ranks or one_process(x.device)
    model.train()
    with ranks.precision.autocast():
        local = model(x).float()  # (m_r, 128)
    E = gather_rows(local, share_positions(len(y), ranks.world), ranks.here)  # (m, 128)
    loss, active = triplet_objective(E, y, alpha, mining)
    opt.zero_grad()
    ranks.precision.step(loss * ranks.world, opt)
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
    """Return what training carries between epochs: optimizer, precision, both generators."""
    from dltool.precision import Precision

    seed = int(params["seed"])
    device = next(model.parameters()).device
    return {
        "optimizer": torch.optim.Adam(model.parameters(), lr=params["lr"]),
        "precision": Precision(device, bool(params.get("amp", False))),  # --amp: loss scaler
        "gen": torch.Generator().manual_seed(seed),  # augmentation
        "rng": np.random.default_rng(seed),  # batches
    }


def saved_state(state: dict[str, Any]) -> dict[str, Any]:
    """Return ``state`` as tensors and plain values (for a weights-only checkpoint)."""
    return {
        "optimizer": state["optimizer"].state_dict(),
        "scaler": state["precision"].state_dict(),
        "gen": state["gen"].get_state(),
        "rng": state["rng"].bit_generator.state,
    }


def restore_state(state: dict[str, Any], saved: dict[str, Any]) -> None:
    """Load a ``saved_state`` back into ``state`` (optimizer moments, generator positions)."""
    state["optimizer"].load_state_dict(saved["optimizer"])
    state["precision"].load_state_dict(saved.get("scaler"))
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
    here: Any = None,
) -> None:
    """Train ``model`` on chips (N, 96, 96, 3) in place from epoch len(rows) + 1, one row each.

    ``state`` (from :func:`new_state`, possibly restored) carries the optimizer and the
    generators; ``on_epoch(state)`` runs after each epoch. A non-finite loss raises Diverged.
    With ``here`` (a ``Dist``) of W > 1 ranks, ``model`` is DDP-wrapped and every rank draws
    the same P×K batches and augmentation; rank r embeds only its share of each (rows r, r + W…).
    """
    from dltool.distributed import Dist
    from dltool_facerec.facenet import chips_to_tensor

    state = state or new_state(model, params)
    ranks = Ranks(here or Dist(), state["precision"])
    X = chips_to_tensor(chips, device)  # (N, 3, 96, 96)
    Y = torch.from_numpy(labels).to(device)  # (N,)
    for epoch in range(len(rows) + 1, params["epochs"] + 1):
        losses, actives = [], []
        for idx in pk_batches(labels, params["people_per_batch"], params["images_per_person"],
                              state["rng"]):  # fmt: skip
            mine = share_positions(len(idx), ranks.world)[ranks.here.rank]  # (m_r,)
            draws = augment_draws(len(idx), state["gen"])  # the global batch's draws
            x = apply_augment(X[torch.from_numpy(idx[mine]).to(device)],
                              {k: v[mine] for k, v in draws.items()})  # fmt: skip
            loss, active = train_step(model, state["optimizer"], x,
                                      Y[torch.from_numpy(idx).to(device)], params["margin"],
                                      params["mining"], ranks)  # fmt: skip
            if not np.isfinite(loss):
                raise Diverged(epoch, loss)
            losses.append(loss)
            actives.append(active)
            if on_step is not None:
                on_step(loss=loss, active=active)
        if not _finite_weights(model):
            raise Diverged(epoch, float("nan"))
        rows.append({"epoch": epoch, "loss": float(np.mean(losses)),
                     "active": float(np.mean(actives)),
                     "lr": float(state["optimizer"].param_groups[0]["lr"])})  # fmt: skip
        if on_epoch is not None:
            on_epoch(state)
