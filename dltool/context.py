"""What every command receives: the device, the reporter, the seed and the run directory.

The root command builds one :class:`Session` from the global options and makes it
current; plugin commands call :func:`current` to reach it.
"""

from __future__ import annotations

import contextvars
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltool import device as devices

_CURRENT: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "dltool_session", default=None
)


@dataclass
class Session:
    """Global options of one ``dltool`` invocation and the services built from them."""

    device_spec: str = "auto"
    seed: int | None = None
    threads: int | None = None
    json: bool = False
    quiet: bool = False
    debug: bool = False
    _device: Any = field(default=None, repr=False)
    _reporter: Any = field(default=None, repr=False)
    _new_runs: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.device_spec = devices.check_spec(self.device_spec)

    @property
    def device(self) -> Any:
        """Return the selected torch.device, set up (threads, seed) on first use."""
        if self._device is None:
            devices.keep_freed_memory()
            if self.threads is not None:
                devices.set_threads(self.threads)
            self._device = devices.select_device(self.device_spec)
            if self.seed is not None:
                devices.seed_torch(self.seed)
        return self._device

    @property
    def reporter(self) -> Any:
        """Return the Reporter that writes results to stdout and progress to stderr."""
        if self._reporter is None:
            from dltool.report import Reporter

            self._reporter = Reporter(json_mode=self.json, quiet=self.quiet)
        return self._reporter

    def flush(self) -> None:
        """Print what the reporter collected (the JSON document under --json)."""
        if self._reporter is not None:
            self._reporter.flush()

    def apply(self) -> None:
        """Apply threads and seed to the libraries that are (or will be) loaded."""
        if self.threads is not None:
            devices.set_threads(self.threads)
        if self.seed is not None:
            devices.seed_everything(self.seed)

    def run_dir(
        self,
        plugin: str,
        command: str,
        out: str | os.PathLike | None = None,
        exist_ok: bool = False,
    ) -> Any:
        """Create ``runs/<plugin>/<command>/<N>/`` (or ``out``) and return a RunDir."""
        from dltool.runs import RunDir

        run = RunDir.create(plugin, command, Path(out) if out else None, exist_ok)
        if run.created:
            self._new_runs.append(run.path)
        return run

    def discard_failed_runs(self) -> None:
        """Remove run folders this command made holding only config and run.json (failed start)."""
        for path in self._new_runs:
            try:
                if {p.name for p in path.iterdir()} <= {"config.yaml", "run.json"}:
                    (path / "config.yaml").unlink(missing_ok=True)
                    (path / "run.json").unlink(missing_ok=True)
                    path.rmdir()
            except OSError:
                pass


def current() -> Session:
    """Return the session of the running command (a default one outside the CLI)."""
    session = _CURRENT.get()
    if session is None:
        session = Session(device_spec=os.environ.get("DLTOOL_DEVICE", "auto"))
        _CURRENT.set(session)
    return session


def peek() -> Session | None:
    """Return the session of the running command, or None when none was made (never builds one)."""
    return _CURRENT.get()


def activate(session: Session) -> None:
    """Make ``session`` the current one."""
    _CURRENT.set(session)
