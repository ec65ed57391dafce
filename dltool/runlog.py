"""Experiment logs of a run: ``results.csv``, ``curves.png``, ``run.json`` and the run list.

Every row a command logs with ``RunDir.log_metrics`` also lands in the run's ``results.csv``
(ultralytics' name and shape: one header, the union of the keys seen so far in the order they
first appeared; a row with a new key rewrites the file with the wider header, atomically).
``results.csv`` is always a function of ``metrics.jsonl``, so a resumed run rebuilds it.

``run.json`` records who made the run and how it ended: written as ``running`` when the run
starts, and updated when the command exits (``finished``, ``interrupted`` on Ctrl-C,
``failed``) by :func:`recording`, which the root command wraps around every command. At the
end ``curves.png`` (one panel per numeric column but time, against epoch/step) is drawn from
``results.csv`` unless the command drew its own during the run.

A metrics row with an ``epoch`` is also one console line on stderr through the running
command's reporter (:func:`epoch_line`; hidden by ``--quiet``), and every metrics row goes to
the run's TensorBoard events (:mod:`dltool.tensorboard`).

This module imports only the standard library at import time (it is loaded when a command runs).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dltool import atomic

RESULTS = "results.csv"
CURVES = "curves.png"
RECORD = "run.json"
X_KEYS = ("epoch", "step", "iteration", "iter", "trial")
MAX_PANELS = 16
STATUSES = ("running", "finished", "interrupted", "failed")
EXIT_INTERRUPTED = 130

_ACTIVE: list[Any] = []  # RunDirs started or continued by the running command
_REPORTERS: list[Callable[[], Any]] = []  # the running commands' reporter getters, innermost last


def now() -> str:
    """Return the local time as ISO 8601 with seconds and the UTC offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Return the JSON-object lines of ``path`` (a half-written or foreign line is skipped)."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return rows
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def header_of(rows: list[dict[str, Any]]) -> list[str]:
    """Return the union of the rows' keys, in the order they first appear."""
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row))
    return list(header)


def _cell(value: Any) -> str:
    """Return one CSV cell: numbers as Python writes them, lists and mappings as JSON."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def csv_text(header: list[str], rows: list[dict[str, Any]], with_header: bool = True) -> str:
    """Return ``rows`` as CSV under ``header`` (a key a row lacks is an empty cell)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if with_header:
        writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in header])
    return buf.getvalue()


def rebuild_results(folder: Path, metrics: Path) -> list[str]:
    """Write ``results.csv`` from all rows of ``metrics`` atomically; return its header."""
    rows = read_rows(metrics)
    header = header_of(rows)
    atomic.write_text(folder / RESULTS, csv_text(header, rows))
    return header


def append_result(folder: Path, header: list[str], row: dict[str, Any]) -> None:
    """Append one row to ``results.csv`` whose header already holds all of ``row``'s keys."""
    atomic.append_line(folder / RESULTS, csv_text(header, [row], with_header=False).rstrip("\n"))


# ---------------------------------------------------------------- run.json


def read_record(folder: Path) -> dict[str, Any]:
    """Return a run's ``run.json`` (empty when absent or unreadable)."""
    try:
        data = json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def write_record(folder: Path, record: dict[str, Any]) -> None:
    """Write ``run.json`` atomically."""
    atomic.write_text(Path(folder) / RECORD, json.dumps(record, indent=2) + "\n")


def start_record(folder: Path, plugin: str, command: str) -> dict[str, Any]:
    """Return the record of a run starting now (a continued run keeps its first start)."""
    old = read_record(folder)
    return {
        "plugin": old.get("plugin") or plugin,
        "command": old.get("command") or command,
        "started": old.get("started") or now(),
        "resumed": now() if old else None,
        "finished": None,
        "status": "running",
        "epochs": old.get("epochs"),
        "best": old.get("best"),
    }


def track(run: Any) -> None:
    """Remember ``run`` so that :func:`recording` finishes it when the command exits."""
    if not any(r is run for r in _ACTIVE):
        _ACTIVE.append(run)


def status_of(exc: BaseException | None) -> str:
    """Return the status a command's way out gives its runs."""
    if exc is None:
        return "finished"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    code = getattr(exc, "exit_code", None)
    if code is not None and type(exc).__name__ == "Exit":  # typer/click Exit carries a code
        return {0: "finished", EXIT_INTERRUPTED: "interrupted"}.get(code, "failed")
    return "failed"


@contextlib.contextmanager
def recording(reporter: Callable[[], Any] | None = None) -> Iterator[None]:
    """Finish the runs a command starts inside this block with the status its exit gives.

    ``reporter`` returns the command's reporter (or None before it exists): the runs' epoch
    lines and warnings go through it.
    """
    first = len(_ACTIVE)
    _REPORTERS.append(reporter or (lambda: None))
    try:
        yield
    except BaseException as exc:
        finish_runs(first, status_of(exc))
        raise
    else:
        finish_runs(first, "finished")
    finally:
        _REPORTERS.pop()


def _reporter() -> Any:
    """Return the running command's reporter, or None (outside a command, or not made yet)."""
    return _REPORTERS[-1]() if _REPORTERS else None


def info(text: str) -> None:
    """Log ``text`` on stderr through the command's reporter (--quiet hides it; silent outside)."""
    reporter = _reporter()
    if reporter is not None:
        reporter.info(text)


def warn(text: str) -> None:
    """Log one warning through the command's reporter (plain stderr outside a command)."""
    reporter = _reporter()
    if reporter is not None:
        reporter.warn(text)
    else:
        sys.stderr.write(f"warning: {text}\n")


# ---------------------------------------------------------------- the epoch line


def number(value: Any) -> str | None:
    """Return a metric as the epoch line shows it: ints as is, floats to 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def epoch_line(row: dict[str, Any], epochs: int | None = None) -> str:
    """Return ``epoch E/N  key value  …  time Ts``: the numeric values of ``row`` in its order."""
    head = f"epoch {row['epoch']}" + (f"/{epochs}" if epochs else "")
    parts = [head]
    for key, value in row.items():
        text = number(value)
        if key not in ("epoch", "epochs", "time") and text is not None:
            parts.append(f"{key} {text}")
    if number(row.get("time")) is not None:
        parts.append(f"time {row['time']:.1f}s")
    return "  ".join(parts)


def last_time(rows: list[dict[str, Any]]) -> float:
    """Return the ``time`` of the last row that has one (0 when none: a new run)."""
    for row in reversed(rows):
        if number(row.get("time")) is not None:
            return float(row["time"])
    return 0.0


def finish_runs(first: int, status: str) -> None:
    """Finish the runs tracked since index ``first`` with ``status`` and forget them."""
    runs = _ACTIVE[first:]
    del _ACTIVE[first:]
    for run in runs:
        with contextlib.suppress(OSError):  # a folder removed meanwhile (a failed start)
            run.finish(status)


def finish_record(folder: Path, record: dict[str, Any], status: str) -> dict[str, Any]:
    """Return ``record`` ended now with ``status`` and the epochs of the run's last metrics row."""
    rows = read_rows(folder / "metrics.jsonl")
    epochs = next((r[k] for r in rows[-1:] for k in ("epoch",) if isinstance(r.get(k), int)), None)
    return {**record, "finished": now(), "status": status, "epochs": epochs or record["epochs"]}


# ---------------------------------------------------------------- curves.png


def numeric(value: str) -> float | None:
    """Return the float a CSV cell holds, or None (empty, text, or not finite)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def read_results(path: Path) -> tuple[list[str], list[list[str]]]:
    """Return the header and rows of a ``results.csv``."""
    with path.open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    return (table[0], table[1:]) if table else ([], [])


def curve_columns(header: list[str], rows: list[list[str]]) -> tuple[str | None, list[str]]:
    """Return the x column (epoch/step/…; None: row number) and the numeric columns but time."""
    x = next((k for k in X_KEYS if k in header), None)
    ys = []
    for i, key in enumerate(header):
        cells = [r[i] for r in rows if i < len(r) and r[i] != ""]
        if (
            key not in (x, "time")
            and cells
            and all(numeric(c) is not None or c in ("nan", "inf") for c in cells)
        ):
            ys.append(key)
    return x, ys[:MAX_PANELS]


def draw_curves(folder: Path, dest: Path | None = None) -> Path | None:
    """Draw one panel per numeric column of ``results.csv`` against epoch/step; return the PNG."""
    header, rows = read_results(folder / RESULTS)
    x, ys = curve_columns(header, rows)
    if not ys:
        return None
    dest = dest or folder / CURVES
    ncols = min(4, len(ys))
    nrows = math.ceil(len(ys) / ncols)
    xs = [numeric(r[header.index(x)]) if x else n + 1 for n, r in enumerate(rows)]
    with _figure(dest, nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False) as ax:
        for panel, key in enumerate(ys):
            axis = ax[panel // ncols][panel % ncols]
            col = header.index(key)
            points = [
                (xv, numeric(r[col]))
                for xv, r in zip(xs, rows, strict=True)
                if col < len(r) and xv is not None and numeric(r[col]) is not None
            ]
            axis.plot(*zip(*points, strict=True), marker="." if len(points) < 30 else None)
            axis.set_title(key, fontsize=9)
            axis.set_xlabel(x or "row", fontsize=8)
        for panel in range(len(ys), nrows * ncols):
            ax[panel // ncols][panel % ncols].axis("off")
    return dest


@contextlib.contextmanager
def _figure(dest: Path, nrows: int, ncols: int, **kwargs: Any) -> Iterator[Any]:
    """Yield matplotlib (Agg) axes; save the PNG atomically (report.figure imports runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, **kwargs)
    try:
        yield axes
        fig.tight_layout()
        with atomic.atomic_path(dest) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)


def draw_if_needed(folder: Path, since: float) -> None:
    """Draw ``curves.png`` unless the command drew its own since ``since`` (epoch seconds).

    A figure must never change how the command ends, so a failure to draw is ignored.
    """
    curves = folder / CURVES
    if not (folder / RESULTS).is_file():
        return
    with contextlib.suppress(OSError):
        if curves.stat().st_mtime >= since:
            return
    with contextlib.suppress(Exception):
        draw_curves(folder)


# ---------------------------------------------------------------- listing runs


def find_runs(root: Path) -> list[Path]:
    """Return the run folders (holding ``config.yaml`` or ``run.json``) under ``root``."""
    if not root.is_dir():
        return []
    found = set()
    for name in ("config.yaml", RECORD):
        with contextlib.suppress(OSError):
            found.update(p.parent for p in root.rglob(name) if p.is_file())
    return sorted(found)


def run_row(folder: Path, root: Path) -> dict[str, Any]:
    """Return the row ``dltool runs`` shows for one run folder."""
    record = read_record(folder)
    try:
        parts = folder.resolve().relative_to(root.resolve()).parts
    except (OSError, ValueError):  # a run outside the runs root (--out)
        parts = ()
    best = record.get("best") or {}
    started = record.get("started")
    if not started:
        with contextlib.suppress(OSError):
            started = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(folder.stat().st_mtime))
    return {
        "plugin": record.get("plugin") or (parts[0] if len(parts) == 3 else ""),
        "command": record.get("command") or (parts[1] if len(parts) == 3 else ""),
        "run": folder.name,
        "started": started or "",
        "status": record.get("status") or "unknown",
        "epochs": record.get("epochs") if record.get("epochs") is not None else "",
        "best": f"{best['metric']}={best['value']:.6g}" if best.get("metric") else "",
        "path": str(folder),
    }


def list_runs(root: Path) -> list[dict[str, Any]]:
    """Return the rows of every run under ``root``, newest first."""
    rows = [run_row(folder, root) for folder in find_runs(root)]
    return sorted(rows, key=lambda r: (r["started"], r["path"]), reverse=True)


def env_root() -> Path:
    """Return the root of run directories: ``$DLTOOL_RUNS`` or ``./runs``."""
    return Path(os.environ.get("DLTOOL_RUNS", "runs"))
