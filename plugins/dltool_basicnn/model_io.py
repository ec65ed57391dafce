"""Model files: a network's W{l}, b{l} and what predict needs, in one NPZ (no pickles).

Arrays ``W1, b1, …`` hold the parameters in the notes' shapes; ``meta`` is a JSON string
with the format tag, layer sizes, hidden activation, class names, feature names and the
standardization (mean, std) learnt on the training set.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from dltool import atomic
from dltool.errors import DltoolError

FORMAT = "dltool-basicnn/1"


def save_model(path: Path, params: dict[str, np.ndarray], meta: dict) -> Path:
    """Write params and meta to ``path`` atomically."""
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    meta = {"format": FORMAT, **meta}
    with atomic.atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
    return path


def load_model(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Return (params, meta) from a model file; any problem is a DltoolError."""
    if not path.exists():
        raise DltoolError(f"model file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise DltoolError(
            f"{path} is not a readable basicnn model file ({type(exc).__name__})",
            hint="the file is corrupt or of another format; train one with 'dltool basicnn train'",
        ) from exc
    if not isinstance(meta, dict):
        raise DltoolError(f"{path} is not a basicnn model file (its meta is not a JSON object)")
    if meta.get("format") != FORMAT:
        raise DltoolError(f"{path} is not a basicnn model file (format {meta.get('format')!r})")
    check_architecture(path, arrays, meta)
    return arrays, meta


def check_architecture(path: Path, params: dict[str, np.ndarray], meta: dict) -> None:
    """Raise unless W{l} (n_l, n_{l-1}) and b{l} (n_l, 1) match ``meta['layers']``."""
    dims = meta.get("layers")
    if not isinstance(dims, list) or len(dims) < 2:
        raise DltoolError(f"{path}: model file has no layer sizes")
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
    n_y = dims[-1]
    if len(meta.get("classes", [])) != max(n_y, 2):
        raise DltoolError(f"{path}: {len(meta.get('classes', []))} class names for {n_y} outputs")
