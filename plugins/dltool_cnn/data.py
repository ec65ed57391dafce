"""Image classification data for ``cnn train``: an image folder, scikit-learn's digits, or
generated shapes; a stratified train/dev split; and torch datasets with optional augmentation.

Images are kept as float32 ``(N, H, W, C)`` in [0, 1] (the notes' layout) and turned into
``(N, C, H, W)`` tensors only when batched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dltool.data.images import IMAGE_SUFFIXES, check_headers, is_image_name
from dltool.errors import DltoolError
from dltool_cnn.images import load_image


@dataclass
class ImageSet:
    """Images X (N, H, W, C) in [0, 1], labels y (N,) and class names."""

    X: np.ndarray
    y: np.ndarray
    classes: list[str]

    @property
    def channels(self) -> int:
        """Return C."""
        return int(self.X.shape[3])


def resize_all(X: np.ndarray, size: int) -> np.ndarray:
    """Return X (N, H, W, C) resized to (N, size, size, C) with bilinear interpolation."""
    import torch

    if X.shape[1] == size and X.shape[2] == size:
        return X
    t = torch.from_numpy(X).permute(0, 3, 1, 2)  # (N, C, H, W)
    t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return t.permute(0, 2, 3, 1).contiguous().numpy()


def digits(size: int) -> ImageSet:
    """Return scikit-learn's 1,797 8×8 handwritten digits, scaled to size × size, 1 channel."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, :, :, None]  # (1797, 8, 8, 1)
    return ImageSet(resize_all(X, size), d.target.astype(np.int64), [str(c) for c in range(10)])


SHAPES = ("circle", "square", "triangle")


def shapes(size: int, n: int = 600, seed: int = 0) -> ImageSet:
    """Return n generated RGB images of a circle, square or triangle on a noisy background."""
    from skimage.draw import disk, polygon

    rng = np.random.default_rng(seed)
    X = np.empty((n, size, size, 3), dtype=np.float32)
    y = np.arange(n) % len(SHAPES)
    for i in range(n):
        img = rng.uniform(0.0, 0.35, 3) + rng.normal(0, 0.04, (size, size, 3))
        r = rng.uniform(0.18, 0.35) * size
        cy, cx = rng.uniform(r, size - r, 2)
        if y[i] == 0:
            rr, cc = disk((cy, cx), r, shape=(size, size))
        elif y[i] == 1:
            rr, cc = polygon([cy - r, cy - r, cy + r, cy + r], [cx - r, cx + r, cx + r, cx - r],
                             shape=(size, size))  # fmt: skip
        else:
            rr, cc = polygon([cy - r, cy + r, cy + r], [cx, cx - r, cx + r], shape=(size, size))
        img[rr, cc] = rng.uniform(0.55, 1.0, 3)
        X[i] = np.clip(img, 0, 1)
    return ImageSet(X, y.astype(np.int64), list(SHAPES))


DIGITS_N, SHAPES_N = 1797, 600
MAX_DATA_BYTES = 8 << 30  # the images held in memory: the set, its split and the batch tensor
COPIES = 3


def check_memory(n: int, size: int, channels: int) -> None:
    """Refuse n float32 images of size × size × channels that would need over MAX_DATA_BYTES."""
    need = COPIES * n * size * size * channels * 4
    if need > MAX_DATA_BYTES:
        fits = math.isqrt(MAX_DATA_BYTES // (COPIES * n * channels * 4))
        raise DltoolError(
            f"{n:,} images of {size}x{size}x{channels} need about {need / 2**30:.1f} GiB "
            f"in memory (the limit is {MAX_DATA_BYTES / 2**30:.0f} GiB)",
            hint=f"use --image-size {fits} or less, or fewer images",
        )


def class_files(root: Path) -> dict[str, list[Path]]:
    """Return {class: its image files} of root/<class>/*, one sub-folder per class."""
    if root.exists() and not root.is_dir():
        raise DltoolError(
            f"--data {root} is a file, not a folder",
            hint="give a folder DIR with one sub-folder of images per class, or digits or shapes",
        )
    if not root.is_dir():
        raise DltoolError(f"data folder {root} does not exist", hint="use digits, shapes or a DIR")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DltoolError(
            f"{root} has {len(classes)} class folder{'s' if len(classes) != 1 else ''}; "
            "classification needs at least 2",
            hint="put the images of each class in its own sub-folder: DIR/cat/*.jpg, DIR/dog/*.jpg",
        )
    files = {c: sorted(f for f in (root / c).iterdir() if f.is_file() and is_image_name(f))
             for c in classes}  # fmt: skip
    empty = [c for c in classes if not files[c]]
    if empty:
        raise DltoolError(
            f"class folder{'s' if len(empty) > 1 else ''} without images in {root}: "
            + ", ".join(empty),
            hint=f"images must end in one of {' '.join(IMAGE_SUFFIXES)}",
        )
    return files


def folder(root: Path, size: int, channels: int = 3) -> ImageSet:
    """Return the images in root/<class>/*, one sub-folder per class, resized to size × size."""
    files = class_files(root)
    check_memory(sum(map(len, files.values())), size, channels)
    mode = "L" if channels == 1 else "RGB"
    X, y = [], []
    for k, c in enumerate(files):
        for f in files[c]:
            X.append(load_image(f, mode, size))
            y.append(k)
    return ImageSet(np.stack(X), np.asarray(y, dtype=np.int64), list(files))


def load(source: str, size: int, channels: int = 3, seed: int = 0) -> ImageSet:
    """Return the data set named by ``source``: 'digits', 'shapes' or an image folder."""
    if source == "digits":
        check_memory(DIGITS_N, size, channels)
        data = digits(size)
        return data if channels == 1 else ImageSet(np.repeat(data.X, 3, 3), data.y, data.classes)
    if source == "shapes":
        check_memory(SHAPES_N, size, 3)
        return shapes(size, n=SHAPES_N, seed=seed)
    return folder(Path(source), size, channels)


def _dev_count(n: int, n_classes: int, dev_fraction: float) -> int:
    """Return n_dev = max(classes, round(f·n)); refuse an f that leaves a class out of training."""
    n_dev = max(n_classes, int(round(dev_fraction * n)))
    if n - n_dev < n_classes:
        most = math.floor(100 * (n - n_classes) / n) / 100
        raise DltoolError(
            f"--dev-fraction {dev_fraction:g} keeps {n_dev} of {n} images for dev, leaving "
            f"{n - n_dev} to train {n_classes} classes (each needs at least one)",
            hint=f"use --dev-fraction {most:g} or less, or add images",
        )
    return n_dev


def split(data: ImageSet, dev_fraction: float, seed: int):
    """Return (train, dev) ImageSets, stratified by class."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(data.y, minlength=len(data.classes))
    if counts.min() < 2:
        raise DltoolError("every class needs at least 2 images to make a train/dev split")
    n_dev = _dev_count(len(data.y), len(data.classes), dev_fraction)
    idx_train, idx_dev = train_test_split(
        np.arange(len(data.y)), test_size=n_dev, stratify=data.y, random_state=seed
    )
    pick = lambda idx: ImageSet(data.X[idx], data.y[idx], data.classes)  # noqa: E731
    return pick(idx_train), pick(idx_dev)


class Batches:
    """Mini-batches (x (m, C, H, W) tensor, y (m,) tensor) of a shuffled epoch, augmented or not.

    Indexing the whole array per batch (instead of one item at a time through a DataLoader)
    keeps the per-image overhead near zero, so throughput is the model's.
    """

    def __init__(
        self, data: ImageSet, batch_size: int, ops: list[str] | None, seed: int, shard=(0, 1)
    ) -> None:
        import torch

        self.data, self.batch_size, self.ops, self.seed = data, batch_size, ops, seed
        self.rank, self.world = shard  # with world > 1: batch_size is this rank's share
        self.X = torch.from_numpy(
            np.ascontiguousarray(data.X.transpose(0, 3, 1, 2))
        )  # (N, C, H, W)
        self.y = torch.from_numpy(data.y)
        self.epoch = 0

    def __len__(self) -> int:
        per_rank = -(-len(self.data.y) // self.world)
        return -(-per_rank // self.batch_size)

    def order(self):
        """Return this epoch's image order (this rank's part of it when sharded)."""
        from dltool.distributed import Dist, shard_order

        here = Dist(self.rank, self.world, self.rank, self.world > 1)
        return shard_order(len(self.y), self.seed * 100_003, self.epoch, here)

    def __iter__(self):
        order = self.order()
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self._images(idx), self.y[idx]

    def _images(self, idx):
        """Return the (m, C, H, W) batch, each image augmented with its own seeded generator."""
        import torch

        if not self.ops:
            return self.X[idx]
        from dltool_cnn.augment import random_augment

        out = []
        for i in idx.tolist():
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, _ = random_augment(self.data.X[i], rng, self.ops)
            out.append(image.transpose(2, 0, 1))
        return torch.from_numpy(np.ascontiguousarray(np.stack(out)))


# ---------------------------------------------------------------- image folders, streamed

STATS_IMAGES = 1_000  # training images (evenly spaced) that give the input mean and std


@dataclass
class FolderSet:
    """An image folder's files and labels y (N,); images are read per batch, never all at once."""

    files: list[Path]
    y: np.ndarray
    classes: list[str]
    channels: int
    size: int

    def pick(self, idx: np.ndarray) -> FolderSet:
        """Return the subset at positions ``idx``."""
        files = [self.files[i] for i in idx]
        return FolderSet(files, self.y[idx], self.classes, self.channels, self.size)

    def image(self, i: int) -> np.ndarray:
        """Return image i as float32 (H, W, C) in [0, 1], resized to size × size."""
        return load_image(self.files[i], "L" if self.channels == 1 else "RGB", self.size)


def _labelled(files: dict[str, list[Path]], channels: int, size: int) -> FolderSet:
    """Return the FolderSet of {class: files}, labels by the classes' sorted order."""
    paths = [f for c in files for f in files[c]]
    y = np.asarray([k for k, c in enumerate(files) for _ in files[c]], dtype=np.int64)
    return FolderSet(paths, y, list(files), channels, size)


def split_folders(root: Path) -> tuple[Path, Path] | None:
    """Return (root/train, root/val) when root holds both; refuse one without the other."""
    train, val = root / "train", root / "val"
    if train.is_dir() and val.is_dir():
        return train, val
    if train.is_dir() != val.is_dir():
        have, lack = ("train", "val") if train.is_dir() else ("val", "train")
        raise DltoolError(
            f"{root} has a {have}/ folder but no {lack}/ folder",
            hint=f"add {root / lack}/<class>/ images, or put the class folders in {root} "
            "and let --dev-fraction split them",
        )
    return None


def _same_classes(train: list[str], val: list[str], root: Path) -> None:
    """Refuse train/ and val/ class lists that differ, naming the first difference."""
    if train == val:
        return
    only_val, only_train = sorted(set(val) - set(train)), sorted(set(train) - set(val))
    if only_val:
        what = f"val/ class '{only_val[0]}' has no folder in train/"
    else:
        what = f"train/ class '{only_train[0]}' has no folder in val/"
    raise DltoolError(
        f"{root}: {what} ({len(only_val) + len(only_train)} class(es) differ)",
        hint="train/ and val/ need the same class sub-folders",
    )


def folder_sets(root: Path, size: int, channels: int, dev_fraction: float, seed: int):
    """Return (train, dev) FolderSets of root/train and root/val, or of root split by class."""
    halves = split_folders(root)
    if halves is not None:
        train_files, val_files = class_files(halves[0]), class_files(halves[1])
        _same_classes(list(train_files), list(val_files), root)
        train, dev = _labelled(train_files, channels, size), _labelled(val_files, channels, size)
        check_headers(train.files + dev.files)
        return train, dev
    data = _labelled(class_files(root), channels, size)
    check_headers(data.files)
    idx_train, idx_dev = _split_indices(data.y, len(data.classes), dev_fraction, seed)
    return data.pick(idx_train), data.pick(idx_dev)


def _split_indices(y: np.ndarray, n_classes: int, dev_fraction: float, seed: int):
    """Return (train positions, dev positions), stratified by class, as :func:`split` draws them."""
    from sklearn.model_selection import train_test_split

    if np.bincount(y, minlength=n_classes).min() < 2:
        raise DltoolError("every class needs at least 2 images to make a train/dev split")
    n_dev = _dev_count(len(y), n_classes, dev_fraction)
    return train_test_split(np.arange(len(y)), test_size=n_dev, stratify=y, random_state=seed)


def open_sets(source: str, size: int, channels: int, dev_fraction: float, seed: int):
    """Return (train, dev): built-in sets in memory (ImageSet), image folders streamed."""
    if source in ("digits", "shapes"):
        return split(load(source, size, channels, seed), dev_fraction, seed)
    root = Path(source)
    if not root.is_dir():
        class_files(root)  # refuses a file or a missing folder with its own line
    return folder_sets(root, size, channels, dev_fraction, seed)


def channel_stats(data) -> tuple[np.ndarray, np.ndarray]:
    """Return the per-channel mean μ and std σ + 1e-6 of the training images.

    In memory: over all pixels. A folder: over up to STATS_IMAGES evenly spaced images, read
    one at a time (σ² = E[x²] − μ², summed in float64).
    """
    if isinstance(data, ImageSet):
        return data.X.mean(axis=(0, 1, 2)), data.X.std(axis=(0, 1, 2)) + 1e-6
    n = len(data.y)
    picks = np.unique(np.linspace(0, n - 1, min(n, STATS_IMAGES)).round().astype(int))
    sums = np.zeros((2, data.channels))  # Σx, Σx² per channel
    count = 0
    for i in picks:
        image = data.image(int(i)).astype(np.float64)  # (H, W, C)
        sums += [image.sum(axis=(0, 1)), (image**2).sum(axis=(0, 1))]
        count += image.shape[0] * image.shape[1]
    mean = sums[0] / count
    std = np.sqrt(np.maximum(sums[1] / count - mean**2, 0.0))
    return mean.astype(np.float32), (std + 1e-6).astype(np.float32)


class FolderImages:
    """A map-style dataset: item i is (image (C, H, W) float32 tensor, label), read from disk.

    With ``ops`` image i of epoch e is augmented with its own generator seeded (seed, e, i),
    as :class:`Batches` does, so the batches do not depend on the number of loader workers.
    """

    def __init__(self, data: FolderSet, ops: list[str] | None = None, seed: int = 0) -> None:
        self.data, self.ops, self.seed, self.epoch = data, ops, seed, 0

    def __len__(self) -> int:
        return len(self.data.y)

    def __getitem__(self, i: int):
        import torch

        image = self.data.image(i)  # (H, W, C)
        if self.ops:
            from dltool_cnn.augment import random_augment

            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, _ = random_augment(image, rng, self.ops)
        chw = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)  # (C, H, W)
        return torch.from_numpy(chw), int(self.data.y[i])


def _loaded(loader):
    """Yield the batches of ``loader``; a reading worker's error is one line."""
    from dltool.data.loading import loaded

    return loaded(loader, hint="replace or remove that image")


class FolderBatches:
    """Mini-batches of a FolderSet read by a DataLoader (``workers`` processes, 0: this one).

    A DistributedSampler (seed, set_epoch) orders each epoch, for one process too, so the
    order is :func:`dltool.distributed.shard_order`'s, as :class:`Batches` draws it.
    """

    def __init__(self, data: FolderSet, batch_size: int, ops, seed: int, shard=(0, 1),
                 workers: int = 0, pin: bool = False) -> None:  # fmt: skip
        from torch.utils.data import DataLoader
        from torch.utils.data.distributed import DistributedSampler

        self.data, self.images = data, FolderImages(data, ops, seed)
        self.sampler = DistributedSampler(range(len(data.y)), shard[1], shard[0], shuffle=True,
                                          seed=seed * 100_003)  # fmt: skip
        self.loader = DataLoader(self.images, batch_size, sampler=self.sampler,
                                 num_workers=workers, pin_memory=pin)  # fmt: skip
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        self.sampler.set_epoch(self.epoch)
        self.images.epoch = self.epoch  # workers get a copy of the dataset at each iter()
        yield from _loaded(self.loader)


def in_order(data, batch_size: int = 256, workers: int = 0):
    """Yield (x (m, C, H, W) tensor, y (m,) array) of ``data`` in its own order, unaugmented."""
    import torch

    if isinstance(data, ImageSet):
        for i in range(0, len(data.y), batch_size):
            xb = np.ascontiguousarray(data.X[i : i + batch_size].transpose(0, 3, 1, 2))
            yield torch.from_numpy(xb), data.y[i : i + batch_size]
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(FolderImages(data), batch_size, num_workers=workers)
    for xb, yb in _loaded(loader):
        yield xb, yb.numpy()


def train_batches(data, batch_size: int, ops, seed: int, shard=(0, 1), workers: int = 0,
                  pin: bool = False):  # fmt: skip
    """Return the training batches: :class:`Batches` in memory, :class:`FolderBatches` streamed."""
    if isinstance(data, ImageSet):
        return Batches(data, batch_size, ops, seed, shard)
    return FolderBatches(data, batch_size, ops, seed, shard, workers, pin)
