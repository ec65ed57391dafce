"""The one command convention every plugin's ``cli.py`` builds on.

``plugin_app`` makes a plugin's Typer sub-app with the house settings (plain help, the
start-up budget's choice; ``-h``); the option factories give the run options the same
flags, help and defaults everywhere (``--out`` a run folder, ``--exist-ok``, ``--resume``,
``-o/--output`` one file); ``resumed_options`` applies the one resume rule to a command.
Only typer is imported here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import typer
from typer._click.types import FloatRange

CONTEXT = {"help_option_names": ["-h", "--help"]}


class FiniteFloat(FloatRange):
    """A float option that refuses NaN and inf, inside an optional (open) range."""

    name = "finite float"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        """Return the float; a usage error for NaN, inf or a value outside the range."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def positive_float(max: float | None = None) -> FiniteFloat:
    """Return the click type of a finite float > 0 (a learning rate, a margin), at most ``max``."""
    return FiniteFloat(min=0.0, min_open=True, max=max)


def plugin_app(help: str) -> typer.Typer:
    """Return a plugin's sub-app: plain help (no Rich panels), a group even with one command."""
    app = typer.Typer(
        help=help,
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings=CONTEXT,
        add_completion=False,
    )
    app.callback()(_group)  # with a callback, Typer keeps a one-command app a group
    return app


def _group() -> None:
    """Do nothing: the plugin group's callback (its help comes from plugin_app)."""


def out_option() -> Any:
    """Return the ``--out DIR`` option: the run folder (default runs/<plugin>/<command>/N)."""
    return typer.Option(
        None,
        "--out",
        help="Run folder to write [default: runs/<plugin>/<command>/N, the next free N].",
    )


def exist_ok_option() -> Any:
    """Return the ``--exist-ok`` flag: write this run over a finished one in --out."""
    return typer.Option(False, "--exist-ok", help="Write over a run already in --out.")


def resume_option(may_change: str = "--epochs") -> Any:
    """Return the ``--resume RUN`` option of training commands (``may_change``: what may)."""
    return typer.Option(
        None,
        "--resume",
        help="Continue RUN (its folder, a file inside it, or its number) with its own "
        f"options; only {may_change} may change.",
    )


def nproc_option() -> Any:
    """Return the ``--nproc N`` option of torch training commands: N local DDP workers."""
    return typer.Option(
        1,
        "--nproc",
        min=1,
        max=256,
        help="Local workers (DDP: gloo on CPU, NCCL on CUDA); --batch-size is the global batch.",
    )


def amp_option() -> Any:
    """Return the ``--amp`` flag of torch training commands (see dltool.precision)."""
    return typer.Option(
        False,
        "--amp",
        help="Mixed precision: autocast bfloat16 on CPU, float16 + gradient scaler on CUDA.",
    )


def workers_option(what: str = "images") -> Any:
    """Return the ``--workers N`` option: DataLoader processes reading ``what`` (0: this one)."""
    from dltool.data.loading import MAX_WORKERS

    return typer.Option(
        0,
        "--workers",
        min=0,
        max=MAX_WORKERS,
        help=f"DataLoader processes reading {what} per batch (0: the main process).",
    )


def sync_bn_option() -> Any:
    """Return the ``--sync-bn`` flag: batch norm over the global batch on several CUDA ranks."""
    return typer.Option(
        False, "--sync-bn", help="With several CUDA workers: batch norm over the global batch."
    )


def output_option(formats: str, default: str | None = None) -> Any:
    """Return the ``-o/--output FILE`` option: one file, in the format its suffix names."""
    where = f"[default: {default}]" if default else "[default: in the run folder]"
    return typer.Option(
        None, "--output", "-o", help=f"File to write ({formats}, by its suffix) {where}."
    )


def resumed_options(
    ctx: Any,
    params: dict[str, Any],
    target: str | os.PathLike,
    plugin: str,
    command: str,
    config_path: str | os.PathLike | None = None,
    may_change: tuple[str, ...] = ("epochs",),
) -> tuple[Path, dict[str, Any]]:
    """Return (run folder, its options with the allowed changes) for ``--resume target``."""
    from dltool.config import given_options
    from dltool.runs import find_run, read_config, resume_options

    run = find_run(target, plugin, command)
    given = given_options(ctx, config_path)
    return run, resume_options(read_config(run), params, given, may_change)
