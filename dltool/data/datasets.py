"""Shared data sets: seeded 2-D generators, scikit-learn's digits, the user's CSV/NPZ.

Every loader returns a :class:`Dataset` with X (m, n) rows of examples (files store one
example per row) and integer class labels y (m,); the commands transpose to the notes'
(n_x, m). Generators draw from their own ``np.random.RandomState(seed)`` so the data do not
depend on (or disturb) the global generator used by initializers and dropout.
"""

from __future__ import annotations

import contextlib
import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dltool.data import DATASETS, GENERATED
from dltool.errors import DltoolError

MAX_SAMPLES = 1_000_000  # examples of a generated set (8 bytes × 2 features each)
MAX_CLASSES = 100  # classes of spirals/blobs
MAX_NOISE = 5.0  # noise of a generated set: beyond a few units the points are pure noise
DATA_HINT = "give a .csv file (header row, one example per row) or an .npz file (arrays X, y)"
BUILTIN = DATASETS  # the name loaders and commands use (dltool.data.DATASETS)


@dataclass
class Dataset:
    """Examples X (m, n), labels y (m,) in 0 … K−1, class names and feature names."""

    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    features: list[str]
    name: str = ""
    meta: dict = field(default_factory=dict)


def planar(m: int, noise: float, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Return the course's 'flower': r = 4 sin(4t) + noise, two classes of petals."""
    N, a = m // 2, 4
    X, y = np.zeros((2 * N, 2)), np.zeros(2 * N, dtype=np.int64)
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * 0.2
        r = a * np.sin(4 * t) + rng.randn(N) * noise
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def moons(m: int, noise: float, rng: np.random.RandomState):
    """Return two interleaving half circles with Gaussian noise."""
    n1 = m // 2
    t1, t2 = np.pi * rng.rand(n1), np.pi * rng.rand(m - n1)
    X = np.r_[np.c_[np.cos(t1), np.sin(t1)], np.c_[1 - np.cos(t2), 0.5 - np.sin(t2)]]
    return X + rng.randn(m, 2) * noise, np.r_[np.zeros(n1), np.ones(m - n1)].astype(np.int64)


def circles(m: int, noise: float, rng: np.random.RandomState):
    """Return a circle of radius 1 around one of radius 0.5, with Gaussian noise."""
    n1 = m // 2
    t = 2 * np.pi * rng.rand(m)
    r = np.r_[np.ones(n1), 0.5 * np.ones(m - n1)]
    X = np.c_[r * np.cos(t), r * np.sin(t)] + rng.randn(m, 2) * noise
    return X, np.r_[np.zeros(n1), np.ones(m - n1)].astype(np.int64)


def spirals(m: int, noise: float, rng: np.random.RandomState, n_classes: int = 3):
    """Return ``n_classes`` interleaved spiral arms (the CS231n spiral), with angular noise."""
    per = m // n_classes
    X, y = np.zeros((per * n_classes, 2)), np.zeros(per * n_classes, dtype=np.int64)
    for j in range(n_classes):
        ix = slice(per * j, per * (j + 1))
        r = np.linspace(0.0, 1, per)
        t = np.linspace(j * 4, (j + 1) * 4, per) + rng.randn(per) * noise * 2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def blobs(m: int, noise: float, rng: np.random.RandomState, n_classes: int = 3):
    """Return ``n_classes`` Gaussian blobs (std 1 + noise), centres on a circle of radius 4."""
    y = np.arange(m) % n_classes
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = 4 * np.c_[np.cos(angles), np.sin(angles)]
    return centres[y] + rng.randn(m, 2) * (1.0 + noise), y.astype(np.int64)


def generate(name: str, m: int, noise: float, seed: int, n_classes: int = 3) -> Dataset:
    """Return the generated 2-D data set ``name`` with ``m`` examples."""
    if not 4 <= m <= MAX_SAMPLES:
        raise DltoolError(
            f"--samples must be in [4, {MAX_SAMPLES:,}], got {m:,}",
            hint="generated sets are for examples; train on a larger set with --data FILE",
        )
    if not (np.isfinite(noise) and 0 <= noise <= MAX_NOISE):
        raise DltoolError(
            f"--noise must be a number in [0, {MAX_NOISE:g}], got {noise:g}",
            hint=f"e.g. --noise 0.2; above {MAX_NOISE:g} the classes drown in the noise",
        )
    rng = np.random.RandomState(seed)
    if name in ("spirals", "blobs"):
        if not 2 <= n_classes <= min(MAX_CLASSES, m):
            raise DltoolError(
                f"--classes must be in [2, {min(MAX_CLASSES, m)}], got {n_classes}",
                hint="at most 100 classes, and no more than --samples",
            )
        X, y = globals()[name](m, noise, rng, n_classes)
    else:
        X, y = globals()[name](m, noise, rng)
    k = int(y.max()) + 1
    return Dataset(X, y, [str(c) for c in range(k)], ["x1", "x2"], name)


def digits() -> Dataset:
    """Return scikit-learn's 8×8 handwritten digits (1797 images, shipped with the package)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DltoolError(
            "the digits data set needs scikit-learn", hint="pip install 'dltool[basicnn]'"
        ) from exc
    d = load_digits()
    X = d.data.astype(np.float64) / 16.0  # pixels 0…16 scaled to [0, 1]
    features = [f"pixel_{i}" for i in range(X.shape[1])]
    return Dataset(X, d.target.astype(np.int64), [str(c) for c in range(10)], features, "digits")


def _labels(raw: list[str]) -> tuple[np.ndarray, list[str]]:
    """Return integer labels and class names: numeric sorted numerically, else as text."""
    names = sorted(set(raw))
    with contextlib.suppress(ValueError):
        names = sorted(names, key=float)
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[v] for v in raw], dtype=np.int64), names


def _canonical(value: str) -> str:
    """Return a numeric label in canonical form (1.0 and 1 are the same class)."""
    try:
        f = float(value)
    except ValueError:
        return value
    return str(int(f)) if f.is_integer() else repr(f)


def _csv_rows(path: Path) -> list[list[str]]:
    """Return the non-blank rows of the CSV at ``path`` (at least a header and one row)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from None
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if len(rows) < 2:
        raise DltoolError(f"{path} has no data rows", hint="the first row must name the columns")
    return rows


def _label_column(path: Path, header: list[str], target: str | None) -> int:
    """Return the index of column ``target``; refuse a missing or the only column."""
    if target is None:
        raise DltoolError(
            f"{path}: say which column holds the labels",
            hint=f"use --target COLUMN; columns: {', '.join(header)}",
        )
    if target not in header:
        raise DltoolError(f"{path} has no column '{target}'", hint=f"columns: {', '.join(header)}")
    if len(header) < 2:
        raise DltoolError(
            f"{path} has no feature columns besides '{target}'",
            hint="add the feature columns to the file",
        )
    return header.index(target)


def read_csv(path: Path, target: str | None, require_target: bool = True) -> Dataset:
    """Return the CSV at ``path`` (header row, numeric features, label column ``target``)."""
    rows = _csv_rows(path)
    header = [h.strip() for h in rows[0]]
    if target is None and not require_target:
        return _features_only(path, header, rows)
    t = _label_column(path, header, target)
    features = [h for i, h in enumerate(header) if i != t]
    X = np.empty((len(rows) - 1, len(features)))
    raw_labels = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DltoolError(
                f"{path}, line {line}: {len(row)} values, expected {len(header)}",
                hint="every row needs one value per column",
            )
        cells = [c.strip() for c in row]
        if cells[t] == "":
            raise DltoolError(
                f"{path}, line {line}: missing label in column '{target}'",
                hint="fill or drop rows without a label",
            )
        raw_labels.append(_canonical(cells.pop(t)))
        X[line - 2] = [_number(c, path, line, f) for c, f in zip(cells, features, strict=True)]
    y, classes = _labels(raw_labels)
    return Dataset(X, y, classes, features, path.name)


def _features_only(path: Path, header: list[str], rows: list[list[str]]) -> Dataset:
    """Return a Dataset of every column as a feature and no labels."""
    X = np.empty((len(rows) - 1, len(header)))
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DltoolError(
                f"{path}, line {line}: {len(row)} values, expected {len(header)}",
                hint="every row needs one value per column",
            )
        for j, cell in enumerate(row):
            X[line - 2, j] = _number(cell.strip(), path, line, header[j])
    return Dataset(X, np.zeros(0, dtype=np.int64), [], header, path.name)


def _number(cell: str, path: Path, line: int, column: str) -> float:
    """Return ``cell`` as a finite float, or raise naming the line and column."""
    if cell == "" or cell.lower() in ("na", "nan", "null", "none"):
        raise DltoolError(
            f"{path}, line {line}, column '{column}': missing value",
            hint="fill or drop rows with missing values before training",
        )
    try:
        value = float(cell)
    except ValueError:
        raise DltoolError(
            f"{path}, line {line}, column '{column}': '{cell}' is not a number",
            hint="feature columns must be numeric; encode categories as numbers first",
        ) from None
    if not np.isfinite(value):
        raise DltoolError(
            f"{path}, line {line}, column '{column}': '{cell}' is not finite",
            hint="replace infinite values with finite numbers, or drop those rows",
        )
    return value


def read_npz(path: Path, target: str | None, require_target: bool = True) -> Dataset:
    """Return the NPZ at ``path``: features under 'X' (m, n), labels under ``target`` or 'y'."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, OSError):
            raise unreadable(path, exc) from None
        raise DltoolError(
            f"cannot read {path} as NPZ: {exc}",
            hint="save it with numpy.savez(path, X=X, y=y) (no pickled objects)",
        ) from None
    label_key = target or "y"
    if "X" in arrays and label_key not in arrays and not require_target:
        arrays[label_key] = np.zeros(0)
    if "X" not in arrays or label_key not in arrays:
        raise DltoolError(
            f"{path} must hold arrays 'X' (m, n) and '{label_key}' (m,)",
            hint=f"arrays found: {', '.join(arrays) or 'none'}; --target names the label array",
        )
    X, raw = arrays["X"], arrays[label_key]
    if X.ndim != 2 or raw.reshape(-1).shape[0] not in (X.shape[0], 0 if not require_target else -1):
        raise DltoolError(
            f"{path}: 'X' has shape {X.shape} and '{label_key}' {raw.shape}; "
            "expected (m, n) and (m,)",
            hint="X holds one example per row and the labels one value per example",
        )
    if X.dtype.kind not in "biuf":
        raise DltoolError(
            f"{path}: 'X' must be numeric, not {X.dtype}",
            hint="encode categories as numbers before saving X",
        )
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        row = int(np.argwhere(~np.isfinite(X))[0, 0])
        raise DltoolError(
            f"{path}: 'X' has a missing or infinite value in row {row}",
            hint="fill or drop rows with missing or infinite values before saving",
        )
    y, classes = _labels([_canonical(str(v)) for v in raw.reshape(-1).tolist()])
    return Dataset(X, y, classes, [f"x{i + 1}" for i in range(X.shape[1])], path.name)


def read_file(path: Path, target: str | None, require_target: bool = True) -> Dataset:
    """Return the data in a .csv or .npz file."""
    check_data_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return read_npz(path, target, require_target)
    if suffix in (".csv", ".txt"):
        return read_csv(path, target, require_target)
    raise DltoolError(f"cannot read {path}: expected a .csv or .npz file", hint=DATA_HINT)


def check_data_file(path: Path) -> None:
    """Refuse a data file that is missing or a folder, in one line with what to give."""
    if path.is_dir():
        raise DltoolError(
            f"data file {path} is a folder", hint=f"name a file inside it: {DATA_HINT}"
        )
    if not path.is_file():
        raise DltoolError(f"data file {path} does not exist", hint=f"check the path; {DATA_HINT}")


def unreadable(path: Path, exc: OSError | UnicodeDecodeError) -> DltoolError:
    """Return the one-line error for a data file that cannot be read (no raw errno text)."""
    if isinstance(exc, UnicodeDecodeError):
        return DltoolError(f"cannot read {path}: it is not UTF-8 text", hint=DATA_HINT)
    reason = exc.strerror or type(exc).__name__
    return DltoolError(
        f"cannot read {path}: {reason.lower()}",
        hint="check that the file exists and that you may read it",
    )


def parse_split(text: str) -> tuple[float, float, float]:
    """Return (train, dev, test) fractions from 'a,b[,c]' (they must sum to 1)."""
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise DltoolError(
            f"--split '{text}' is not a list of numbers", hint="e.g. 0.8,0.1,0.1"
        ) from None
    if len(parts) == 2:
        parts.append(0.0)
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1) > 1e-6 or parts[0] <= 0:
        raise DltoolError(
            f"--split '{text}' must be 2 or 3 non-negative fractions summing to 1, train > 0",
            hint="e.g. --split 0.8,0.1,0.1",
        )
    return parts[0], parts[1], parts[2]


def split(m: int, fractions: tuple[float, float, float], seed: int) -> list[np.ndarray]:
    """Return index arrays (train, dev, test) of a shuffle by RandomState(seed)."""
    order = np.random.RandomState(seed).permutation(m)
    n_train = max(1, int(round(fractions[0] * m)))
    n_dev = int(round(fractions[1] * m)) if fractions[2] > 0 else m - n_train
    n_dev = min(n_dev, m - n_train)
    return [order[:n_train], order[n_train : n_train + n_dev], order[n_train + n_dev :]]


def standardizer(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return per-feature mean and std (std 1 where a feature is constant) of X (m, n)."""
    mu, sigma = X.mean(axis=0), X.std(axis=0)
    return mu, np.where(sigma > 0, sigma, 1.0)


def load(
    name: str = "moons",
    file: str | Path | None = None,
    target: str | None = None,
    samples: int = 400,
    noise: float = 0.2,
    seed: int = 1,
    classes: int = 3,
) -> Dataset:
    """Return the CSV/NPZ ``file`` (labels ``target``), else the built-in data set ``name``."""
    if file is not None:
        return read_file(Path(file), target)
    if name == "digits":
        return digits()
    if name not in GENERATED:
        raise DltoolError(f"unknown dataset '{name}'", hint=f"choose one of {'|'.join(BUILTIN)}")
    return generate(name, samples, noise, seed, classes)


def standardized_splits(
    ds: Dataset, split_text: str, seed: int, standardize: bool = True, need_dev: bool = False
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Return ({train, dev, test: (X (n_x, m), y (m,))}, mu, sigma): X = (x − mu)/sigma.

    mu and sigma come from the train rows (0 and 1 without ``standardize``). ``need_dev``
    refuses a split that leaves no dev examples (nothing to rank models by).
    """
    if len(ds.classes) < 2:
        raise DltoolError(
            f"the labels hold a single class ({ds.classes[0] if ds.classes else 'none'})",
            hint="classification needs at least two classes",
        )
    idx = split(ds.X.shape[0], parse_split(split_text), seed)
    if need_dev and idx[1].size == 0:
        raise DltoolError(
            f"--split '{split_text}' leaves no dev examples: there is nothing to compare on",
            hint="give the dev set a share, e.g. --split 0.8,0.2",
        )
    if standardize:
        mu, sigma = standardizer(ds.X[idx[0]])
    else:
        mu, sigma = np.zeros(ds.X.shape[1]), np.ones(ds.X.shape[1])
    splits = {
        name: (((ds.X[ix] - mu) / sigma).T, ds.y[ix])
        for name, ix in zip(("train", "dev", "test"), idx, strict=True)
    }
    return splits, mu, sigma


def draw_decision_regions(ax, ds: Dataset, mu, sigma, predict, X, y, n: int = 300, size=12):
    """Draw on ``ax`` the class ``predict`` gives over 2-D ``ds``'s range, and the points X, y.

    ``predict`` maps standardized columns (2, k) to classes (k,); X (2, m) is standardized
    with ``mu``, ``sigma`` and drawn back in the data's units, coloured by y.
    """
    lo, hi = ds.X.min(axis=0), ds.X.max(axis=0)
    pad = 0.1 * (hi - lo) + 1e-9
    xx, yy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], n),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], n),
    )
    with np.errstate(all="ignore"):
        zz = predict(((np.c_[xx.ravel(), yy.ravel()] - mu) / sigma).T).reshape(xx.shape)
    pts = X.T * sigma + mu  # (m, 2) in the data's units
    levels = np.arange(len(ds.classes) + 1) - 0.5
    ax.contourf(xx, yy, zz, levels=levels, cmap="Spectral", alpha=0.35)
    ax.scatter(pts[:, 0], pts[:, 1], c=y, cmap="Spectral", s=size, edgecolors="k", lw=0.3)
