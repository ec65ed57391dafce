"""Character-model checkpoints: one ``.npz`` with parameters, Adam state and metadata.

Arrays are stored under ``p/<key>`` (the flat ``charmodel`` names), ``v/<key>`` and
``s/<key>`` (Adam moments); ``meta`` is a JSON string (cell, sizes, vocabulary, step,
training settings). The same file serves both backends. Writes are atomic; loading
never unpickles (``allow_pickle=False``) and checks the arrays against the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dltool import atomic
from dltool.errors import DltoolError
from dltool_rnn import charmodel

FORMAT = "dltool-rnn-charmodel/1"
FILENAME = "checkpoint.npz"


def _numpy(value: Any) -> np.ndarray:
    """Return a NumPy array of an array or a (possibly GPU) torch tensor."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def save(path: Path, params: dict, meta: dict, adam=None) -> Path:
    """Write parameters, Adam's moments and ``meta`` to ``path`` atomically."""
    arrays = {f"p/{k}": _numpy(v) for k, v in params.items()}
    if adam is not None:
        arrays.update({f"v/{k}": _numpy(v) for k, v in adam.v.items()})
        arrays.update({f"s/{k}": _numpy(v) for k, v in adam.s.items()})
        meta = {**meta, "adam_t": adam.t}
    meta = {"format": FORMAT, **meta}
    with atomic.atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
    return Path(path)


def resolve(target: str | Path) -> Path:
    """Return the checkpoint file of a run directory, a run number or a file path."""
    from dltool.runs import runs_root

    path = Path(target)
    if not path.exists() and str(target).isdigit():
        path = runs_root() / "rnn" / "train" / str(target)
    if path.is_dir():
        path = path / FILENAME
    if not path.exists():
        raise DltoolError(
            f"no checkpoint at {path}",
            hint="give a run directory of 'dltool rnn train', its number, or a checkpoint.npz",
        )
    return path


def load(target: str | Path) -> tuple[dict, dict, dict[str, dict]]:
    """Return (params, meta, {"v": …, "s": …}) of a checkpoint; bad files are DltoolErrors."""
    path = resolve(target)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data.pop("meta")))
    except Exception as exc:
        raise DltoolError(f"{path} is not a dltool rnn checkpoint ({type(exc).__name__})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DltoolError(f"{path} is not a dltool rnn checkpoint (format {meta.get('format')!r})")
    groups: dict[str, dict[str, Any]] = {"p": {}, "v": {}, "s": {}}
    for k, v in data.items():
        kind, _, name = k.partition("/")
        groups.setdefault(kind, {})[name] = v
    params = groups["p"]
    check(params, meta, path)
    return params, meta, {"v": groups["v"], "s": groups["s"]}


def check(params: dict, meta: dict, path: Path) -> None:
    """Raise unless the arrays form the model the metadata describes."""
    try:
        cell, n_x, n_a, layers, reset_after = charmodel.describe(params)
        expected = charmodel.init_model(
            meta["cell"],
            len(meta["vocab"]),
            meta["hidden"],
            meta["layers"],
            reset_after=meta.get("reset_after", False),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DltoolError(f"{path}: damaged checkpoint ({type(exc).__name__}: {exc})") from exc
    bad = [k for k in expected if k not in params or params[k].shape != expected[k].shape]
    if bad or cell != meta["cell"] or set(params) != set(expected):
        raise DltoolError(
            f"{path}: the arrays do not match a {meta['cell']} model with {len(meta['vocab'])} "
            f"characters and {meta['hidden']} hidden units (first mismatch: {(bad or ['?'])[0]})"
        )
