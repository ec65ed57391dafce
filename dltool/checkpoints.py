"""Checkpoints of every plugin: saved atomically, loaded without running code, format-tagged.

NumPy models are one ``.npz``: the arrays plus ``meta``, a JSON string whose ``format`` key
names the kind of file (``"dltool-basicnn/1"``); loading never unpickles
(``allow_pickle=False``). Torch checkpoints are one ``torch.save`` dict of tensors and plain
Python values (numbers, strings, lists, dicts) with the same ``format`` key, loaded with
``torch.load(weights_only=True)``: a file holding any other object is refused, not run.
Every way a file can fail to be the checkpoint asked for is one :class:`DltoolError`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dltool import atomic
from dltool.errors import DltoolError

FORMAT_KEY = "format"


def _refuse(path: Path, what: str, why: str, hint: str | None = None) -> DltoolError:
    """Return the one error for ``path`` not being a readable ``what``."""
    return DltoolError(
        f"{path} is not a {what} ({why})",
        hint=hint or "give a file this command wrote, or train a new one",
    )


def _exists(path: Path, what: str) -> None:
    """Raise a DltoolError unless ``path`` is a regular file."""
    if not path.exists():
        raise DltoolError(f"{what} {path} does not exist", hint="check the path")
    if path.is_dir():
        raise DltoolError(f"{path} is a directory, not a {what}", hint="give the file itself")


def _check_format(path: Path, meta: Any, fmt: str, what: str) -> None:
    """Raise unless ``meta`` is a mapping whose format tag is ``fmt``."""
    if not isinstance(meta, dict):
        raise _refuse(path, what, f"its metadata is a {type(meta).__name__}, not a mapping")
    if meta.get(FORMAT_KEY) != fmt:
        raise _refuse(path, what, f"format {meta.get(FORMAT_KEY)!r}, expected {fmt!r}")


def save_npz(path: str | os.PathLike, arrays: dict[str, Any], meta: dict, fmt: str) -> Path:
    """Write ``arrays`` and JSON ``meta`` (tagged ``fmt``) to one .npz, atomically."""
    import numpy as np

    meta = {FORMAT_KEY: fmt, **meta}
    with atomic.atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
    return Path(path)


def load_npz(path: str | os.PathLike, fmt: str, what: str) -> tuple[dict[str, Any], dict]:
    """Return (arrays, meta) of an .npz written by :func:`save_npz` with tag ``fmt``."""
    import numpy as np

    path = Path(path)
    _exists(path, what)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except Exception as exc:  # zip, npy, JSON or pickle-refusal errors alike
        raise _refuse(path, what, type(exc).__name__) from None
    _check_format(path, meta, fmt, what)
    return arrays, meta


def save_torch(path: str | os.PathLike, state: dict[str, Any], fmt: str) -> Path:
    """Write ``state`` (tensors and plain values, tagged ``fmt``) with torch.save, atomically."""
    import torch

    with atomic.atomic_path(path) as tmp:
        torch.save({FORMAT_KEY: fmt, **state}, tmp)
    return Path(path)


def load_torch(path: str | os.PathLike, fmt: str, what: str) -> dict[str, Any]:
    """Return the state dict of a torch checkpoint tagged ``fmt``, loaded on the CPU safely."""
    import pickle

    import torch

    path = Path(path)
    _exists(path, what)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = "weights only load failed" in str(exc).lower()
        why = "it holds objects other than tensors; refused, as loading it could run code"
        raise _refuse(path, what, why if refused else "not a torch file") from None
    except Exception as exc:  # truncated zip, not a torch file at all
        raise _refuse(path, what, type(exc).__name__) from None
    _check_format(path, state, fmt, what)
    return state


def require_finite(tensors: dict[str, Any], path: str | os.PathLike, what: str) -> None:
    """Raise a DltoolError if any array or tensor in ``tensors`` holds NaN or inf."""
    import numpy as np

    for name, value in tensors.items():
        array = value.detach().cpu().numpy() if hasattr(value, "detach") else value
        finite = not isinstance(array, np.ndarray) or array.dtype.kind != "f"
        if not finite and not np.isfinite(array).all():
            raise DltoolError(
                f"{path}: {what} parameter {name} holds NaN or inf",
                hint="training diverged; retrain with a smaller --lr",
            )
