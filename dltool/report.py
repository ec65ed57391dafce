"""Reporting: results on stdout (Rich tables or one JSON document), progress on stderr.

Also the plot helper, which saves a figure in the format its file name asks for.
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
from typing import Any

from dltool import atomic
from dltool.errors import DltoolError, printable
from dltool.runs import plain as _jsonable

PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpg", ".jpeg": "jpg"}


def output_format(path: str | os.PathLike, formats: dict[str, str] = PLOT_FORMATS) -> str:
    """Return the format ``path``'s suffix names, or refuse it listing the suffixes taken."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in formats:
        raise DltoolError(
            f"cannot write {os.fspath(path)}: unknown output format '{suffix or '(none)'}'",
            hint=f"name a file ending in {', '.join(formats)}",
        )
    return formats[suffix]


def _slug(title: str) -> str:
    """Return ``title`` as a snake_case JSON key."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", title).strip("_").lower() or "results"


def _cell(value: Any) -> str:
    """Format one table cell: floats with 4 significant digits, numbers with 1,000s separators.

    A float of 10,000 or more is rounded to a whole number (``12,346``, not ``1.235e+04``).
    """
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        big = math.isfinite(value) and abs(value) >= 9999.5  # .4g would switch to 1e+04
        return f"{value:,.0f}" if big else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return printable(str(value))


class Reporter:
    """Writes results to stdout and logs/progress to stderr, honouring --json/--quiet."""

    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        from rich.console import Console

        self.json_mode = json_mode
        self.quiet = quiet
        wide = None if sys.stdout.isatty() else 160  # pipes and files get full rows
        self.out = Console(file=sys.stdout, soft_wrap=True, width=wide)
        self.err = Console(file=sys.stderr, soft_wrap=True)  # a log line stays one line
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
        table = Table(title=Text(printable(title)), title_justify="left")  # data, not markup
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
            self.out.print(
                f"{printable(label or key)}: {_cell(value)}", highlight=False, markup=False
            )

    def line(self, text: str) -> None:
        """Print a human line on stdout as plain text (omitted under --json)."""
        if not self.json_mode:
            self.out.print(printable(text), highlight=False, markup=False)

    def info(self, text: str) -> None:
        """Log ``text`` (plain text) on stderr unless --quiet."""
        if not self.quiet:
            self.err.print(printable(text), highlight=False, markup=False)

    def warn(self, text: str) -> None:
        """Log a warning on stderr (shown even with --quiet)."""
        from rich.markup import escape

        self.err.print(f"[yellow]warning:[/yellow] {escape(printable(text))}", highlight=False)

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
    """Yield ``(fig, axes)`` from matplotlib (Agg); save it atomically in the suffix's format."""
    fmt = output_format(path)
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
            fig.savefig(tmp, format=fmt, dpi=120)
    finally:
        plt.close(fig)
