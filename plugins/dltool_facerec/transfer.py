"""Export and import of the face database as one JSON document (format dltool-facerec-export)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

FORMAT = "dltool-facerec-export"
FIELDS = ("name", "encoder", "dim", "vector", "image_sha256", "source", "box", "created")


def export_db(database: Any, path: Path) -> int:
    """Write every encoding of ``database`` to ``path`` atomically; return how many."""
    from dltool import atomic

    rows = database.dump()
    doc = {"format": FORMAT, "version": 1, "encodings": rows}
    atomic.write_text(path, json.dumps(doc, indent=1))
    return len(rows)


def _bad(path: Path, why: str) -> DltoolError:
    """Return the error for an export file that cannot be imported."""
    return DltoolError(
        f"{path} is not a dltool face export ({why}); nothing was imported",
        hint="give a file written by 'dltool facerec export'",
    )


def _row(path: Path, k: int, item: Any) -> dict[str, Any]:
    """Return encoding ``k`` of the file, checked, with its vector as a float64 blob."""
    import numpy as np

    if not isinstance(item, dict) or any(f not in item for f in FIELDS):
        raise _bad(path, f"encoding {k} lacks one of {', '.join(FIELDS)}")
    vec = item["vector"]
    ok = (
        isinstance(vec, list)
        and len(vec) == item["dim"]
        and all(isinstance(v, (int, float)) and math.isfinite(v) for v in vec)
    )
    if not ok or not str(item["name"]).strip():
        raise _bad(path, f"encoding {k} has a bad name, vector or dim")
    blob = np.asarray(vec, dtype="<f8").tobytes()
    return {**{f: item[f] for f in FIELDS if f != "vector"}, "blob": blob}


def read_export(path: Path) -> list[dict[str, Any]]:
    """Return the checked rows of the export file ``path`` (all or nothing)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DltoolError(f"export file not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, type(exc).__name__) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad(path, "no 'format: dltool-facerec-export'")
    if doc.get("version") != 1:
        raise _bad(path, f"export version {doc.get('version')} is not supported")
    items = doc.get("encodings")
    if not isinstance(items, list):
        raise _bad(path, "no list of encodings")
    return [_row(path, k, item) for k, item in enumerate(items)]
