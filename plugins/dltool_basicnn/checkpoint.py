"""Model files: a network's W{l}, b{l} and what predict needs, in one NPZ (no pickles).

Saved and loaded by the core (:mod:`dltool.checkpoints`, format tag ``dltool-basicnn/1``).
Arrays ``W1, b1, …`` hold the parameters in the notes' shapes; the JSON meta holds the layer
sizes, hidden activation, class names, feature names, the standardization (mean, std) learnt
on the training set and the epoch the weights belong to. Loading checks the architecture
and refuses NaN/inf weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool import checkpoints
from dltool.errors import DltoolError

FORMAT = "dltool-basicnn/1"
WHAT = "basicnn model file"
MODEL = "model.npz"


def save_model(path: Path, params: dict[str, np.ndarray], meta: dict) -> Path:
    """Write params (as float64) and meta to ``path`` atomically."""
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    return checkpoints.save_npz(path, arrays, meta, FORMAT)


def model_path(source: str | Path) -> Path:
    """Return the model file SOURCE names: the file itself, or ``model.npz`` of a run folder."""
    from dltool.runs import find_run, holds_run

    path = Path(source)
    if not path.exists() and str(source).isdigit():
        path = find_run(source, "basicnn", "train")
    if path.is_dir():
        if not (path / MODEL).is_file():
            what = "run folder" if holds_run(path) else "folder"
            raise DltoolError(
                f"{what} {path} holds no {MODEL}",
                hint="give a run folder of 'dltool basicnn train' or 'logreg', or its model.npz",
            )
        return path / MODEL
    return path


def load_model(source: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Return (params, meta) of a model file or run folder; any problem is a DltoolError."""
    path = model_path(source)
    arrays, meta = checkpoints.load_npz(path, FORMAT, WHAT)
    check_architecture(path, arrays, meta)
    checkpoints.require_finite(arrays, path, "model")
    return arrays, meta


def check_architecture(path: Path, params: dict[str, np.ndarray], meta: dict) -> None:
    """Raise unless W{l} (n_l, n_{l-1}) and b{l} (n_l, 1) match ``meta['layers']``."""
    dims = meta.get("layers")
    if not isinstance(dims, list) or len(dims) < 2:
        raise DltoolError(f"{path}: model file has no layer sizes", hint="train a new model")
    expected = {}
    for k in range(1, len(dims)):
        expected[f"W{k}"] = (dims[k], dims[k - 1])
        expected[f"b{k}"] = (dims[k], 1)
    if set(params) != set(expected):
        raise DltoolError(
            f"{path}: parameters {sorted(params)} do not match layers {dims}",
            hint="the model file is corrupt or was edited",
        )
    for key, shape in expected.items():
        if params[key].shape != shape:
            raise DltoolError(
                f"{path}: {key} has shape {params[key].shape}, layers {dims} need {shape}",
                hint="the model file is corrupt or was edited",
            )
    n_y, classes = dims[-1], meta.get("classes", [])
    if not isinstance(classes, list) or len(classes) != max(n_y, 2):
        raise DltoolError(
            f"{path}: {len(classes) if isinstance(classes, list) else 'no'} class names "
            f"for {n_y} outputs",
            hint="the model file is corrupt or was edited",
        )
