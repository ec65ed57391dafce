"""Detection data for training and scoring: letterboxed images and their labels, per sample.

Each image is letterboxed to ``S×S`` (aspect kept, grey 127 padding, bilinear resize) as
uint8 (3, S, S); its label rows are mapped through the same letterbox. Training reads one
sample at a time (:class:`YoloDataset`, through a ``DataLoader``), so memory does not grow
with the split: ``load(i)`` reads and letterboxes image ``i``, ``__getitem__`` then
augments it (a horizontal flip, ``x_c → 1 − x_c``, with probability 1/2) with randomness
drawn from :meth:`YoloDataset.generator` — seeded by (seed, epoch, i), so the same sample
gets the same draws in any worker process and on any rank. ``load_split`` reads a whole
split into memory (``yolo evaluate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


@dataclass
class Batch:
    """Images (B, 3, S, S) in 0..1 and their labels: (n, 6) rows [image, class, x, y, w, h]."""

    images: torch.Tensor
    targets: torch.Tensor


def letterbox(image: np.ndarray, lab: np.ndarray, size: int) -> tuple[torch.Tensor, np.ndarray]:
    """Return image (H, W, 3) letterboxed to uint8 (3, S, S) and labels (n, 5) mapped with it."""
    from dltool_yolo.boxes import letterbox_params

    h, w = image.shape[:2]
    r, (nh, nw), (top, left) = letterbox_params((h, w), size)
    x = torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float()  # (1, 3, H, W)
    x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
    canvas = torch.full((3, size, size), 127.0)
    canvas[:, top : top + nh, left : left + nw] = x[0]
    lab = lab.copy()
    lab[:, 1] = (lab[:, 1] * w * r + left) / size
    lab[:, 2] = (lab[:, 2] * h * r + top) / size
    lab[:, 3] *= w * r / size
    lab[:, 4] *= h * r / size
    return canvas.round().clamp(0, 255).to(torch.uint8), lab


def read_sample(img_path: Path, lab_path: Path, size: int, nc: int):
    """Return one letterboxed image uint8 (3, S, S) and its label rows (n, 5) float64."""
    from dltool.data.images import read_rgb
    from dltool_yolo.labels import read_label_file

    image = read_rgb(img_path)
    lab = read_label_file(lab_path, nc) if lab_path.is_file() else np.zeros((0, 5))
    return letterbox(image, lab, size)


def load_split(pairs, size: int, nc: int) -> tuple[torch.Tensor, list[np.ndarray]]:
    """Return all images of a split letterboxed to size (N, 3, S, S) uint8, and their labels."""
    images, labels = [], []
    for img_path, lab_path in pairs:
        image, lab = read_sample(img_path, lab_path, size, nc)
        images.append(image)
        labels.append(lab)
    return torch.stack(images), labels


class YoloDataset(Dataset):
    """A split read per sample: ``load(i)`` letterboxes, ``__getitem__`` augments.

    ``ops`` (``augment.OPS``, from ``--augment``) replaces ``flip``: flip alone keeps the
    torch flip below; any other op sends the sample through ``augment.augment``.
    """

    def __init__(self, pairs, size: int, nc: int, seed: int = 0, flip: bool = True,
                 ops: tuple[str, ...] | None = None) -> None:  # fmt: skip
        self.pairs = list(pairs)  # [(image path, label path)]
        self.size, self.nc, self.seed = size, nc, seed
        self.ops = ("flip",) if ops is None and flip else tuple(ops or ())
        self.flip = "flip" in self.ops
        self.epoch = 0  # set before each epoch: the draws depend on (seed, epoch, i)

    def __len__(self) -> int:
        """Return the number of images."""
        return len(self.pairs)

    def load(self, i: int) -> tuple[torch.Tensor, np.ndarray]:
        """Return image ``i`` letterboxed uint8 (3, S, S), and its labels (n, 5)."""
        img_path, lab_path = self.pairs[i]
        return read_sample(img_path, lab_path, self.size, self.nc)

    def generator(self, i: int) -> torch.Generator:
        """Return sample ``i``'s generator this epoch: seeded by (seed, epoch, i) alone."""
        seed = np.random.SeedSequence([self.seed, self.epoch, int(i)]).generate_state(2)
        return torch.Generator().manual_seed(int(seed[0]) << 32 | int(seed[1]))

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return sample ``i`` augmented: uint8 image (3, S, S), labels float32 (n, 5)."""
        if set(self.ops) - {"flip"}:
            return self.augmented(i)
        image, lab = self.load(i)
        lab = torch.from_numpy(lab).float()  # (n, 5)
        gen = self.generator(i)
        if self.flip and bool(torch.rand((), generator=gen) < 0.5):
            image = image.flip(-1)
            lab[:, 1] = 1 - lab[:, 1]
        return image, lab

    def sample(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``load(i)`` for NumPy: image (S, S, 3) uint8 and labels (n, 5)."""
        image, lab = self.load(i)
        return image.permute(1, 2, 0).numpy(), lab

    def augmented(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Return sample ``i`` after ``augment.augment`` with its (seed, epoch, i) generator."""
        from dltool_yolo.augment import augment, sample_rng

        rng = sample_rng(self.seed, self.epoch, int(i))
        image, lab = augment(self.sample, int(i), len(self), self.ops, rng)  # (S, S, 3), (n, 5)
        image = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).contiguous()
        return image, torch.from_numpy(lab).float()  # (3, S, S) uint8, (n, 5)


def collate(samples: list[tuple[torch.Tensor, torch.Tensor]]) -> Batch:
    """Return the Batch of samples: images / 255 (B, 3, S, S), targets (n, 6) with image index."""
    x = torch.stack([img for img, _ in samples]).float() / 255  # (B, 3, S, S)
    rows = [torch.cat([torch.full((len(lab), 1), float(k)), lab], 1)
            for k, (_, lab) in enumerate(samples)]  # fmt: skip
    return Batch(x, torch.cat(rows) if rows else torch.zeros(0, 6))


class Streamed:
    """A split as ``evaluate.collect`` reads it, one chunk at a time: images[s:e], labels[i]."""

    def __init__(self, dataset: YoloDataset) -> None:
        self.dataset = dataset
        self.labels: dict[int, np.ndarray] = {}  # the last chunk's labels, by index

    def __len__(self) -> int:
        """Return the number of images."""
        return len(self.dataset)

    def __getitem__(self, chunk: slice) -> torch.Tensor:
        """Return images ``chunk`` letterboxed (B, 3, S, S) uint8; keep their labels."""
        index = range(*chunk.indices(len(self.dataset)))
        samples = [self.dataset.load(i) for i in index]
        self.labels.clear()
        self.labels.update({i: lab for i, (_, lab) in zip(index, samples, strict=True)})
        return torch.stack([img for img, _ in samples])
