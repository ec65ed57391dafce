"""Reporting: results on stdout (Rich tables or one JSON document), progress on stderr.

Also the run directory every producing command writes to, and the PNG plot helper.
Rich is imported when a reporter is first used; matplotlib only when a plot is made.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dltool import atomic
from dltool.errors import DltoolError

RUNS_ROOT_ENV = "DLTOOL_RUNS"


def _jsonable(value: Any) -> Any:
    """Return ``value`` with numpy/torch scalars, paths and tuples made JSON-friendly."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())  # numpy NaN/inf become strings like Python's
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _slug(title: str) -> str:
    """Return ``title`` as a snake_case JSON key."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", title).strip("_").lower() or "results"


def _cell(value: Any) -> str:
    """Format one table cell: floats with 4 significant digits, rest as str."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


class Reporter:
    """Writes results to stdout and logs/progress to stderr, honouring --json/--quiet."""

    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        from rich.console import Console

        self.json_mode = json_mode
        self.quiet = quiet
        wide = None if sys.stdout.isatty() else 160  # pipes and files get full rows
        self.out = Console(file=sys.stdout, soft_wrap=True, width=wide)
        self.err = Console(file=sys.stderr)
        self.document: dict[str, Any] = {}
        self.flushed = False

    def table(
        self,
        title: str,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[str] | None = None,
        key: str | None = None,
    ) -> None:
        """Show ``rows`` (dicts) as a table, or store them under ``key`` in the JSON output."""
        if self.json_mode:
            self.document[key or _slug(title)] = _jsonable(list(rows))
            return
        if not rows:
            return
        from rich.table import Table
        from rich.text import Text

        cols = list(columns or (rows[0].keys() if rows else []))
        table = Table(title=title, title_justify="left")
        for col in cols:
            table.add_column(Text(col), overflow="fold")
        for row in rows:
            table.add_row(*(Text(_cell(row.get(c))) for c in cols))  # cells are data, not markup
        self.out.print(table)

    def result(self, key: str, value: Any, label: str | None = None) -> None:
        """Show one named result, or store it in the JSON output."""
        if self.json_mode:
            self.document[key] = _jsonable(value)
        else:
            self.out.print(f"{label or key}: {_cell(value)}", highlight=False, markup=False)

    def line(self, text: str) -> None:
        """Print a human line on stdout as plain text (omitted under --json)."""
        if not self.json_mode:
            self.out.print(text, highlight=False, markup=False)

    def info(self, text: str) -> None:
        """Log ``text`` (plain text) on stderr unless --quiet."""
        if not self.quiet:
            self.err.print(text, highlight=False, markup=False)

    def warn(self, text: str) -> None:
        """Log a warning on stderr (shown even with --quiet)."""
        from rich.markup import escape

        self.err.print(f"[yellow]warning:[/yellow] {escape(text)}", highlight=False)

    def progress(self, total: int | None, description: str = "") -> LoopProgress:
        """Return a progress bar for a loop of ``total`` steps (on stderr)."""
        return LoopProgress(self, total, description)

    def flush(self) -> None:
        """Print the collected JSON document (once), when --json is on."""
        if self.json_mode and not self.flushed:
            sys.stdout.write(json.dumps(self.document, indent=2) + "\n")
            sys.stdout.flush()
            self.flushed = True


class LoopProgress:
    """A Rich progress bar with live metrics, rate and ETA; a no-op under --quiet."""

    def __init__(self, reporter: Reporter, total: int | None, description: str) -> None:
        self.reporter = reporter
        self.total = total
        self.description = description
        self.metrics: dict[str, Any] = {}
        self._progress: Any = None
        self._task: Any = None
        self.steps = 0
        self.started = time.perf_counter()

    def __enter__(self) -> LoopProgress:
        if not self.reporter.quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[metrics]}"),
                console=self.reporter.err,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                self.description, total=self.total, metrics="", rate=""
            )
        return self

    def advance(self, n: int = 1, **metrics: Any) -> None:
        """Count ``n`` more steps and show ``metrics`` (e.g. ``loss=0.31``)."""
        self.steps += n
        self.metrics.update(metrics)
        if self._progress is None:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        text = "  ".join(f"{k}={_cell(v)}" for k, v in self.metrics.items())
        rate = f"{self.steps / elapsed:.1f} it/s"
        self._progress.update(self._task, advance=n, metrics=text, rate=rate)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()


class FetchProgress:
    """Rich byte progress on stderr for fetches: one task per stage (download, extract)."""

    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            disable=quiet,
        )
        self.task: Any = None

    def stage(self, description: str, total: int | None) -> None:
        """Start a new stage of ``total`` bytes (None: unknown); the bar appears on the first."""
        if self.task is None:
            self.progress.start()
        else:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total or 0)
        self.task = self.progress.add_task(description, total=total)

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes."""
        self.progress.update(self.task, advance=n)

    def __enter__(self) -> FetchProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.task is None:
            return  # nothing was fetched: print nothing
        if exc[0] is None:
            total = self.progress.tasks[-1].total
            self.progress.update(self.task, total=total or 1, completed=total or 1)
        self.progress.stop()


@contextlib.contextmanager
def figure(path: str | os.PathLike, nrows: int = 1, ncols: int = 1, **kwargs: Any) -> Iterator[Any]:
    """Yield ``(fig, axes)`` from matplotlib (Agg) and save the figure atomically as PNG."""
    try:
        import matplotlib
    except ImportError as exc:
        raise DltoolError(
            "plots need matplotlib, which is not installed",
            hint="pip install 'dltool[plots]'",
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, **kwargs)
    try:
        yield fig, axes
        fig.tight_layout()
        with atomic.atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120)
    finally:
        plt.close(fig)


def runs_root() -> Path:
    """Return the root of run directories: ``$DLTOOL_RUNS`` or ``./runs``."""
    return Path(os.environ.get(RUNS_ROOT_ENV, "runs"))


class RunDir:
    """A run directory: resolved config (YAML), metrics (JSON lines) and outputs.

    ``RunDir(path)`` continues an earlier run (``--resume``: metrics are appended);
    ``RunDir.create`` starts a new one, whose metrics replace any left in a reused ``--out``.
    """

    def __init__(self, path: Path, fresh: bool = False) -> None:
        self.path = path
        self._to_replace = {"metrics.jsonl"} if fresh else set()

    @classmethod
    def create(cls, plugin: str, command: str, out: Path | None = None) -> RunDir:
        """Create ``out`` or the next free ``runs/<plugin>/<command>/<N>/``."""
        try:
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                return cls(out, fresh=True)
            base = runs_root() / plugin / command
            base.mkdir(parents=True, exist_ok=True)
            taken = [int(p.name) for p in base.iterdir() if p.name.isdigit()]
            n = max(taken, default=0) + 1
            while True:
                try:
                    (base / str(n)).mkdir()
                    return cls(base / str(n), fresh=True)
                except FileExistsError:  # another process took n
                    n += 1
        except OSError as exc:
            target = out or runs_root()
            raise DltoolError(
                f"cannot create run directory under {target}: {exc.strerror}"
            ) from exc

    def file(self, name: str) -> Path:
        """Return the path of ``name`` inside the run directory."""
        return self.path / name

    def write_config(self, config: dict[str, Any], name: str = "config.yaml") -> Path:
        """Write the resolved configuration as YAML, atomically."""
        import yaml

        text = yaml.safe_dump(_jsonable(config), sort_keys=False)
        return atomic.write_text(self.file(name), text)

    def log_metrics(self, name: str = "metrics.jsonl", **row: Any) -> None:
        """Append one JSON line of metrics (one write per line); a new run starts the file anew."""
        if name in self._to_replace:
            self._to_replace.discard(name)
            self.file(name).unlink(missing_ok=True)
        atomic.append_line(self.file(name), json.dumps(_jsonable(row)))

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON, atomically."""
        return atomic.write_text(self.file(name), json.dumps(_jsonable(data), indent=2))

    def __str__(self) -> str:
        return str(self.path)
