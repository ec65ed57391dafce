"""Helpers the test suites share: the installed dltool, heavy-module names, a fake plugin on disk.

A module with a unique name (not ``conftest``), so tests in any folder can import it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent
DLTOOL = str(BIN / "dltool")
HEAVY = ("torch", "numpy", "gensim", "PIL", "matplotlib", "scipy")
ROOT = Path(__file__).resolve().parents[1]
SHELL_ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
# bash completing COMP_WORDS through the committed script
BASH_COMPLETE = """
source completions/dltool.bash
COMP_WORDS=({words}); COMP_CWORD={cword}
_dltool_completion dltool
printf '%s\\n' "${{COMPREPLY[@]}}"
"""

FAKE_INIT = """
import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy("hello", "fakeplug.cli:app", help="Say hello (fake plugin).")


@dltool.hookimpl
def register_models(models):
    models.add("tiny-mlp", "fakeplug.models:tiny", description="4-8-2 MLP", input_size=(4,))
"""

FAKE_CLI = '''
from pathlib import Path

import typer

from dltool.config import resolve_config
from dltool.context import current
from dltool.errors import DltoolError

app = typer.Typer(help="Say hello.")


@app.command()
def greet(
    name: str = "world",
    fail: bool = False,
    crash: bool = False,
    interrupt: bool = False,
    exit_code: int = 0,
):
    """Greet NAME."""
    if fail:
        raise DltoolError("bad name", hint="use another name")
    if crash:
        raise RuntimeError("boom")
    if interrupt:
        raise KeyboardInterrupt
    current().reporter.table("Greeting", [{"name": name, "text": f"hello {name}"}])
    if exit_code:
        raise typer.Exit(exit_code)


@app.command()
def train(
    ctx: typer.Context,
    lr: float = 0.1,
    epochs: int = 3,
    optimizer: str = "adam",
    config: Path = typer.Option(None, "--config"),
    out: Path = typer.Option(None, "--out"),
):
    """Pretend to train: resolve the config and write a run directory."""
    params = resolve_config(ctx, config, exclude=("out",))
    run = current().run_dir("hello", "train", out)
    run.write_config(params)
    for step in range(params["epochs"]):
        run.log_metrics(step=step, loss=1.0 / (step + 1))
    current().reporter.result("params", params)
    current().reporter.result("run_dir", str(run.path))
'''

FAKE_MODELS = """
def tiny():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
"""


def write_package(root: Path, name: str, files: dict[str, str], entry_points: str | None) -> None:
    """Write package ``name`` (files) and, with ``entry_points``, its ``.dist-info`` under root."""
    pkg = root / name
    pkg.mkdir(parents=True)
    for fname, text in files.items():
        (pkg / fname).write_text(textwrap.dedent(text))
    if entry_points is not None:
        info = root / f"{name}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(entry_points)


def run_dltool(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    """Run the installed ``dltool`` in a subprocess and capture its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [DLTOOL, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300
    )


PEAK = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(r.stderr)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(r.returncode)\n"
)


def run_peak(*args: str, cwd=None) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``dltool ARGS`` in a fresh process; return (result, its peak resident KiB)."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK, DLTOOL, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    return result, int(result.stdout.strip().splitlines()[-1])


def raises_one_line(call, kind, message: str) -> None:
    """Assert ``call()`` raises ``kind`` whose one-line message is ``message``, with a hint."""
    import pytest

    with pytest.raises(kind) as caught:
        call()
    assert str(caught.value) == message
    assert caught.value.hint and "\n" not in str(caught.value)


def caught_in_a_notebook(calls, course) -> list[str]:
    """Return the hints of ``calls`` caught as ``course.DltoolError``, as a notebook cell would."""
    hints = []
    for call in calls:
        try:
            call()
        except course.DltoolError as error:
            hints.append(error.hint)
    return hints


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below ``pid`` (children first), read from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def kill_tree(proc) -> None:
    """SIGKILL a launched process, its group and every process below it (workers that
    torch's launcher starts in sessions of their own included)."""
    import signal

    below = descendants(proc.pid)
    for pid in [proc.pid, *below]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


LAUNCHED = ("-m", "dltool", "--quiet", "--threads", "1")  # a launched dltool: quiet, one thread


def start_launch(argv, env=None, cwd=None):
    """Start ``python ARGV`` in a session of its own (``DLTOOL_DIST_TIMEOUT=60``), piped."""
    return subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env={**os.environ, "DLTOOL_DIST_TIMEOUT": "60", **(env or {})},
        cwd=cwd,
    )  # fmt: skip


def finish_launch(proc, timeout: float = 180):
    """Wait for ``proc``; on overrun kill it and every process below it, and fail the test."""
    import pytest

    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"launch hung for {timeout} s; stderr:\n{err[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def launch_dltool(*args, env=None, cwd=None, timeout: float = 180):
    """Run ``python -m dltool --quiet --threads 1 --seed 0 ARGS`` as a launch; its result."""
    return finish_launch(start_launch([*LAUNCHED, "--seed", "0", *args], env, cwd), timeout)
