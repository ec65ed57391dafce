"""Export and import of the face database: one JSON document (format dltool-facerec-export)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

FORMAT = "dltool-facerec-export"
FIELDS = ("name", "encoder", "dim", "vector", "image_sha256", "source", "box", "created")
TEXT_FIELDS = ("name", "encoder", "image_sha256", "source", "box", "created")


def export_db(database: Any, path: Path) -> int:
    """Write every encoding of ``database`` to ``path`` atomically, owner-only; return how many."""
    from dltool import atomic

    rows = database.dump()
    doc = {"format": FORMAT, "version": 1, "encodings": rows}
    atomic.write_text(path, json.dumps(doc, indent=1), private=True)  # face data: 0600 if new
    return len(rows)


def _bad(path: Path, why: str) -> DltoolError:
    """Return the error for an export file that cannot be imported."""
    return DltoolError(
        f"{path} is not a dltool face export ({why}); nothing was imported",
        hint="give a file written by 'dltool facerec export'",
    )


def _is_number(v: Any) -> bool:
    """Return whether ``v`` is a finite int or float (bool excluded)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _shape_problem(item: dict[str, Any]) -> str:
    """Return what is wrong with the name, encoder, hash, dim or vector of ``item`` ('' if fine)."""
    dim, vec = item["dim"], item["vector"]
    if not item["name"].strip() or not item["encoder"].strip() or not item["image_sha256"]:
        return "empty name, encoder or image_sha256"
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        return f"dim {dim!r} is not a whole number >= 1"
    if not isinstance(vec, list) or len(vec) != dim or not all(map(_is_number, vec)):
        return f"vector is not {dim} finite numbers"
    return ""


def _row(path: Path, k: int, item: Any) -> dict[str, Any]:
    """Return encoding ``k`` of the file, checked, with its vector as a float64 blob."""
    import numpy as np

    if not isinstance(item, dict) or any(f not in item for f in FIELDS):
        raise _bad(path, f"encoding {k} lacks one of {', '.join(FIELDS)}")
    wrong = [f for f in TEXT_FIELDS if not isinstance(item[f], str)]
    if wrong:
        raise _bad(path, f"encoding {k}: {', '.join(wrong)} must be text")
    problem = _shape_problem(item)
    if problem:
        raise _bad(path, f"encoding {k} has a bad name, vector or dim ({problem})")
    blob = np.asarray(item["vector"], dtype="<f8").tobytes()
    row = {f: item[f] for f in FIELDS if f != "vector"}
    return {**row, "name": item["name"].strip(), "blob": blob}


def _check_dims(path: Path, rows: list[dict[str, Any]]) -> None:
    """Refuse a file whose encodings of one encoder have different dimensions."""
    first: dict[str, tuple[int, int]] = {}
    for k, row in enumerate(rows):
        j, dim = first.setdefault(row["encoder"], (k, row["dim"]))
        if dim != row["dim"]:
            raise _bad(path, f"encoding {k} has dim {row['dim']}, encoding {j} of the "
                             f"same encoder {dim}")  # fmt: skip


def read_export(path: Path) -> list[dict[str, Any]]:
    """Return the checked rows of the export file ``path`` (all or nothing)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DltoolError(f"export file not found: {path}", hint="check the path") from None
    except IsADirectoryError:
        raise DltoolError(
            f"{path} is a directory, not an export file", hint="give the export's JSON file"
        ) from None
    except PermissionError as exc:
        raise DltoolError(
            f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(path, type(exc).__name__) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad(path, "no 'format: dltool-facerec-export'")
    if doc.get("version") != 1:
        raise _bad(path, f"export version {doc.get('version')} is not supported")
    items = doc.get("encodings")
    if not isinstance(items, list):
        raise _bad(path, "no list of encodings")
    rows = [_row(path, k, item) for k, item in enumerate(items)]
    _check_dims(path, rows)
    return rows
