"""Run folders: numbering, the never-replace rule and the one resume rule of every plugin.

A run is ``runs/<plugin>/<command>/<N>/`` (next free ``N``) or the folder ``--out`` names.
It holds the resolved options (``config.yaml``), metrics as JSON lines, checkpoints and
pictures. A folder that already holds a run (it has a ``config.yaml``) is never silently
reused: it is refused unless the user says ``--exist-ok``.

Resume: ``--resume RUN`` names a run folder, a file inside one, or a run number. The run's
own options are restored from its ``config.yaml``; only the options in ``may_change``
(``--epochs``) may be given with another value, any other one is refused by name.
"""

from __future__ import annotations

import json
import os
import time
from enum import Enum
from pathlib import Path
from typing import Any

from dltool import atomic, runlog
from dltool.errors import DltoolError

RUNS_ROOT_ENV = "DLTOOL_RUNS"
CONFIG = "config.yaml"
METRICS = "metrics.jsonl"


def runs_root() -> Path:
    """Return the root of run directories: ``$DLTOOL_RUNS`` or ``./runs``."""
    return Path(os.environ.get(RUNS_ROOT_ENV, "runs"))


def plain(value: Any) -> Any:
    """Return ``value`` with enums, paths, tuples and numpy/torch scalars as YAML/JSON values."""
    import math

    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        return plain(value.tolist())  # numpy NaN/inf become strings like Python's
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def holds_run(folder: Path) -> bool:
    """Return whether ``folder`` holds a run (a resolved ``config.yaml``)."""
    return (folder / CONFIG).is_file()


def check_out(out: str | os.PathLike | None, exist_ok: bool = False) -> None:
    """Refuse an ``--out`` that is a file, or holds a run while ``exist_ok`` is off (call early)."""
    if out is None:
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DltoolError(f"--out {out} is a file", hint="--out names a run folder")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise DltoolError(f"--out {out} lies under {above}, a file", hint="give a folder path")
    if holds_run(out) and not exist_ok:
        raise DltoolError(
            f"{out} already holds a run",
            hint="give another --out, or --exist-ok to write this run over it",
        )


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Return whether ``a`` and ``b`` name one file (same resolved path, or link to one inode)."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_not_input(output: str | os.PathLike | None, inputs: list[Any], flag: str = "-o") -> None:
    """Refuse an output that is one of the command's inputs: writing it would destroy it."""
    if output is None:
        return
    for path in inputs:
        if path is not None and same_file(output, path):
            raise DltoolError(
                f"{flag} {output} is an input of this command ({path}): writing it would "
                "destroy the input",
                hint=f"give {flag} another file name",
            )


class RunDir:
    """A run directory: resolved config (YAML), metrics (JSON lines) and outputs.

    ``RunDir(path)`` continues an earlier run (``--resume``: metrics are appended);
    ``RunDir.create`` starts a new one, whose metrics replace any left in a reused ``--out``.

    Experiment logs: ``log_metrics(epoch=3, train_loss=0.41, dev_acc=0.93, lr=1e-3)`` adds a
    ``time`` column (seconds of the run so far; a resumed run goes on from its last row's),
    appends the row to ``metrics.jsonl`` and ``results.csv``, writes its numbers to the
    TensorBoard events in ``tensorboard/`` (at the row's epoch, else its step) and, for a row
    with an ``epoch``, prints one line ``epoch 3/10  train_loss 0.41  …  time 12.3s`` through
    the command's reporter. ``log_images(tag, images, step)`` adds a sample of predictions
    ((N, H, W, 3) uint8 or float 0..1) to the events. ``finish`` closes the events file.
    """

    def __init__(self, path: Path, fresh: bool = False, created: bool = False) -> None:
        self.path = Path(path)
        self.fresh = fresh
        self.created = created  # made by this command (a failed start may remove it)
        self._to_replace = {METRICS} if fresh else set()
        self._header: list[str] | None = None  # results.csv's columns, once this run wrote it
        self._record: dict[str, Any] | None = None  # run.json while this command runs
        self._since = 0.0  # when this command started the run (curves drawn after it are its own)
        self._best: dict[str, Any] | None = None
        self._clock = time.monotonic()  # when this command took the run (new or resumed)
        self._time0: float | None = None  # the time column's value at _clock
        self._epochs: int | None = None  # the run's --epochs, for the epoch line
        self._board: Any = None  # its TensorBoard writer, made on the first row
        self._rows = 0  # metrics rows this command logged (the x of a row without epoch/step)

    def start(self, plugin: str = "", command: str = "") -> RunDir:
        """Record the run as ``running`` in ``run.json``; the command's exit finishes it."""
        from dltool import tensorboard

        if self._record is None:
            if self.fresh:
                self.file(runlog.RESULTS).unlink(missing_ok=True)  # an earlier run's, --exist-ok
                tensorboard.clear(self.path)
            self._since = time.time()
            self._record = runlog.start_record(self.path, plugin, command)
            runlog.write_record(self.path, self._record)
            runlog.track(self)
        return self

    def best(self, metric: str, value: float, mode: str = "max") -> None:
        """Report the best ``metric`` so far (``mode`` max or min); run.json keeps the best."""
        value = float(value)
        old = self._best or (self._record or {}).get("best") or {}
        if old.get("metric") == metric and isinstance(old.get("value"), (int, float)):
            better = value > old["value"] if mode == "max" else value < old["value"]
            if not better:
                return
        self._best = {"metric": metric, "value": value, "mode": mode}

    def finish(self, status: str) -> None:
        """End the run with ``status`` in run.json, close its events, draw curves.png."""
        if self._board is not None:
            self._board.close()
        if self._record is None:
            return
        record = runlog.finish_record(self.path, self._record, status)
        if self._best is not None:
            record["best"] = self._best
        self._record = None
        if not holds_run(self.path):  # the command removed its run (a failed start)
            from dltool import tensorboard

            for name in (runlog.RECORD, runlog.RESULTS):
                self.file(name).unlink(missing_ok=True)
            tensorboard.remove(self.path)
            return
        if not self.file(METRICS).is_file():  # results.csv mirrors the metrics it removed
            self.file(runlog.RESULTS).unlink(missing_ok=True)
        runlog.write_record(self.path, record)
        runlog.draw_if_needed(self.path, self._since)

    @classmethod
    def create(
        cls, plugin: str, command: str, out: Path | None = None, exist_ok: bool = False
    ) -> RunDir:
        """Create ``out`` or the next free ``runs/<plugin>/<command>/<N>/``.

        An ``out`` that already holds a run is refused unless ``exist_ok``.
        """
        try:
            if out is not None:
                return cls._claim(Path(out), exist_ok).start(plugin, command)
            base = runs_root() / plugin / command
            base.mkdir(parents=True, exist_ok=True)
            taken = [int(p.name) for p in base.iterdir() if p.name.isdigit()]
            n = max(taken, default=0) + 1
            while True:
                try:
                    (base / str(n)).mkdir()
                    return cls(base / str(n), fresh=True, created=True).start(plugin, command)
                except FileExistsError:  # another process took n
                    n += 1
        except OSError as exc:
            target = out or runs_root()
            raise DltoolError(
                f"cannot create run directory under {target}: {exc.strerror}",
                hint="give an --out folder you can write to",
            ) from exc

    @classmethod
    def _claim(cls, out: Path, exist_ok: bool) -> RunDir:
        """Return ``out`` as a new run folder; refuse one holding a run unless ``exist_ok``."""
        check_out(out, exist_ok)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        return cls(out, fresh=True, created=created)

    def clear(self, *patterns: str) -> RunDir:
        """Remove the files matching ``patterns`` that an earlier run left here (--exist-ok).

        A run written over another must not leave the old run's model, metrics or curves
        to be read as its own; returns the run for chaining.
        """
        for pattern in patterns:
            for path in self.path.glob(pattern):
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:
                    raise DltoolError(
                        f"cannot remove {path} of the earlier run: {exc.strerror}",
                        hint="remove it yourself, or give another --out",
                    ) from None
        return self

    def file(self, name: str) -> Path:
        """Return the path of ``name`` inside the run directory."""
        return self.path / name

    def write_config(self, config: dict[str, Any], name: str = CONFIG) -> Path:
        """Write the resolved configuration as YAML, atomically."""
        import yaml

        epochs = config.get("epochs") if name == CONFIG else None
        if isinstance(epochs, int) and not isinstance(epochs, bool):
            self._epochs = epochs
        text = yaml.safe_dump(plain(config), sort_keys=False)
        return atomic.write_text(self.file(name), text)

    def log_metrics(self, name: str = METRICS, **row: Any) -> None:
        """Append one JSON line of metrics (one write per line); a new run starts the file anew.

        A ``metrics.jsonl`` row also gets ``time``, goes to results.csv and TensorBoard, and
        one with an ``epoch`` is printed as the epoch line.
        """
        if name in self._to_replace:
            self._to_replace.discard(name)
            self.file(name).unlink(missing_ok=True)
        if name == METRICS and "time" not in row:
            row = {**row, "time": round(self._elapsed(), 3)}
        atomic.append_line(self.file(name), json.dumps(plain(row)))
        if name == METRICS:
            self._log_result(plain(row))
            self._publish(plain(row))

    def _elapsed(self) -> float:
        """Return the run's seconds so far: its last logged time plus this command's."""
        if self._time0 is None:
            self._time0 = runlog.last_time(runlog.read_rows(self.file(METRICS)))
        return self._time0 + time.monotonic() - self._clock

    def _publish(self, row: dict[str, Any]) -> None:
        """Write ``row`` to TensorBoard; print the epoch line of a row with an ``epoch``."""
        self._rows += 1
        self.board().scalars(row, self._rows)
        if "epoch" in row:
            runlog.info(runlog.epoch_line(row, row.get("epochs") or self._total_epochs()))

    def _total_epochs(self) -> int | None:
        """Return the run's --epochs (from write_config, else its config.yaml; None if none)."""
        if self._epochs is None and holds_run(self.path):
            import contextlib

            with contextlib.suppress(DltoolError):
                epochs = read_config(self.path).get("epochs")
                self._epochs = epochs if isinstance(epochs, int) and epochs > 0 else 0
        return self._epochs or None

    def board(self) -> Any:
        """Return the run's TensorBoard writer (:class:`dltool.tensorboard.Board`)."""
        if self._board is None:
            from dltool.tensorboard import Board

            self._board = Board(self.path, resumed=not self.fresh)
        return self._board

    def log_images(self, tag: str, images: Any, step: int) -> None:
        """Add ``images`` ((N, H, W, 3) uint8, or float 0..1) to TensorBoard under ``tag``."""
        self.board().images(tag, images, step)

    def _log_result(self, row: dict[str, Any]) -> None:
        """Add ``row`` to results.csv (rebuilt from metrics.jsonl when a key is new)."""
        self.start()  # a continued run (--resume) is running again
        if self._header is not None and set(row) <= set(self._header):
            runlog.append_result(self.path, self._header, row)
        else:
            self._header = runlog.rebuild_results(self.path, self.file(METRICS))

    def drop_rows_after(self, key: str, last: float, name: str = METRICS) -> None:
        """Keep the JSON lines of ``name`` whose ``key`` is at most ``last`` (a resumed run).

        Rows logged after the checkpoint a run resumes from (a killed run) would repeat;
        a half-written last line goes too.
        """
        path = self.file(name)
        if not path.is_file():
            return
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            value = row.get(key) if isinstance(row, dict) else None
            if isinstance(value, (int, float)) and value <= last:
                kept.append(line)
        atomic.write_text(path, "".join(f"{line}\n" for line in kept))
        if name == METRICS:
            self._header = runlog.rebuild_results(self.path, path)

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON, atomically."""
        return atomic.write_text(self.file(name), json.dumps(plain(data), indent=2))

    def __str__(self) -> str:
        return str(self.path)


def find_run(target: str | os.PathLike, plugin: str, command: str) -> Path:
    """Return the run folder RUN names: a folder, a file inside one, or a run number."""
    path = Path(target)
    if not path.exists() and str(target).isdigit():
        path = runs_root() / plugin / command / str(target)
    if path.is_file():
        path = path.parent
    if not holds_run(path):
        what = "does not exist" if not path.exists() else f"holds no {CONFIG}"
        raise DltoolError(
            f"run {target} {what}",
            hint=f"give a run folder of 'dltool {plugin} {command}' (runs/{plugin}/{command}/N), "
            "a file inside it, or its number",
        )
    return path


def read_config(run: Path) -> dict[str, Any]:
    """Return the resolved options saved in a run's ``config.yaml``."""
    import yaml

    path = Path(run) / CONFIG
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DltoolError(
            f"cannot read {path}: {exc}", hint="the run folder is damaged; start a new run"
        ) from exc
    if not isinstance(data, dict):
        raise DltoolError(f"{path} is not a mapping of options", hint="start a new run")
    return data


PER_INVOCATION = ("nproc", "workers")  # how this invocation runs, not what it trains: free


def resume_options(
    saved: dict[str, Any],
    params: dict[str, Any],
    given: dict[str, str],
    may_change: tuple[str, ...] = ("epochs",),
    ignore: tuple[str, ...] = ("resume", "config", "out", "exist_ok", *PER_INVOCATION),
) -> dict[str, Any]:
    """Return the run's ``saved`` options with the ``may_change`` ones the user ``given``.

    ``params`` are the command's values, ``given`` maps each option the user gave (command
    line or --config) to its flag; a given option outside ``may_change`` whose value differs
    from the saved one is refused, naming the flag.
    """
    if "out" in given and params.get("out") is not None:
        raise DltoolError(
            f"{given['out']} does not apply to --resume: the run goes on in its own folder",
            hint="leave out --out, or start a new run without --resume",
        )
    for name, flag in given.items():
        if name in may_change or name in ignore or name not in saved:
            continue
        if plain(params.get(name)) != plain(saved[name]):
            raise DltoolError(
                f"{flag} {plain(params.get(name))} differs from the resumed run's "
                f"{plain(saved[name])}",
                hint=f"--resume keeps the run's own options; only "
                f"{', '.join('--' + m.replace('_', '-') for m in may_change)} may change",
            )
    resumed = {**params, **{k: v for k, v in saved.items() if k not in ignore}}
    resumed.update({m: params[m] for m in may_change if m in given and m in params})
    return resumed
