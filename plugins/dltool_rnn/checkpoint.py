"""Character-model checkpoints: one ``.npz`` with parameters, Adam state and metadata.

Arrays are stored under ``p/<key>`` (the flat ``charmodel`` names), ``v/<key>`` and
``s/<key>`` (Adam moments); the metadata (cell, sizes, vocabulary, step) is the JSON that
``dltool.checkpoints`` keeps beside them, tagged ``FORMAT``. The same file serves both
backends. Saving and loading go through the core (atomic, ``allow_pickle=False``); loading
checks the arrays against the metadata and refuses NaN or infinite weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dltool import checkpoints
from dltool.errors import DltoolError
from dltool.runs import find_run
from dltool_rnn import charmodel

FORMAT = "dltool-rnn-charmodel/1"
FILENAME = "checkpoint.npz"
WHAT = "dltool rnn checkpoint"


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
    return checkpoints.save_npz(path, arrays, meta, FORMAT)


def resolve(target: str | Path) -> Path:
    """Return the checkpoint named by an .npz file, or by a run (folder, file in it, number)."""
    path = Path(target)
    if path.suffix.lower() == ".npz" and path.is_file():
        return path
    run = find_run(target, "rnn", "train")
    if not (run / FILENAME).is_file():
        raise DltoolError(
            f"run {run} holds no {FILENAME} yet (it stopped before its first checkpoint)",
            hint="train it further with --resume, or give another run",
        )
    return run / FILENAME


def load(target: str | Path) -> tuple[dict, dict, dict[str, dict]]:
    """Return (params, meta, {"v": …, "s": …}) of a checkpoint; bad files are DltoolErrors."""
    path = resolve(target)
    data, meta = checkpoints.load_npz(path, FORMAT, WHAT)
    groups: dict[str, dict[str, Any]] = {"p": {}, "v": {}, "s": {}}
    for k, v in data.items():
        kind, _, name = k.partition("/")
        groups.setdefault(kind, {})[name] = v
    params = groups["p"]
    check(params, meta, path)
    checkpoints.require_finite(params, path, "rnn")
    return params, meta, {"v": groups["v"], "s": groups["s"]}


def check(params: dict, meta: dict, path: Path) -> None:
    """Raise unless the arrays form the model the metadata describes."""
    hint = "give a checkpoint 'dltool rnn train' wrote, or train a new model"
    try:
        found = charmodel.describe(params)
        said = (meta["cell"], len(meta["vocab"]), meta["hidden"], meta["layers"])
        said += (bool(meta.get("reset_after", False)),)
        # sizes agree before anything is built: the metadata cannot ask for a huge model
        expected = charmodel.init_model(*said[:4], reset_after=said[4]) if found == said else {}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DltoolError(
            f"{path}: damaged checkpoint ({type(exc).__name__}: {exc})", hint=hint
        ) from exc
    bad = [k for k in expected if k not in params or params[k].shape != expected[k].shape]
    if found != said or bad or set(params) != set(expected):
        raise DltoolError(
            f"{path}: the arrays do not match a {meta['cell']} model with {len(meta['vocab'])} "
            f"characters and {meta['hidden']} hidden units (first mismatch: {(bad or ['?'])[0]})",
            hint=hint,
        )
