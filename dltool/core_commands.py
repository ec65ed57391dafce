"""Commands of the core: plugins, models, weights, runs, doctor and completion."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from dltool.context import current
from dltool.errors import DltoolError
from dltool.plugins import CORE_COMMANDS, manager_of

SHELLS = ("bash", "zsh", "fish")
COMPLETION_FILES = {"bash": "dltool.bash", "zsh": "_dltool", "fish": "dltool.fish"}

weights_app = typer.Typer(
    help="List, fetch and verify pretrained weight files.", no_args_is_help=True
)
runs_app = typer.Typer(
    help="List the runs under runs/ (newest first), or show one run.", invoke_without_command=True
)
completion_app = typer.Typer(
    help="Shell completion scripts for bash, zsh and fish.", no_args_is_help=True
)


def plugins(ctx: typer.Context) -> None:
    """List plugins: name, version, distribution, commands, hooks, status."""
    rows = [
        {
            "name": info.name,
            "version": info.version or "",
            "distribution": info.distribution or "",
            "commands": ", ".join(info.commands),
            "models": len(info.models),
            "artifacts": len(info.artifacts),
            "hooks": ", ".join(info.hooks),
            "status": info.status,
        }
        for info in manager_of(ctx).checked_infos()
    ]
    rep = current().reporter
    rep.table("Plugins", rows, key="plugins")
    if not rows:
        rep.line("no plugins loaded (DLTOOL_PLUGINS may restrict them)")


def models(
    ctx: typer.Context,
    counts: bool = typer.Option(
        True, "--counts/--no-counts", help="Build each model to count parameters."
    ),
) -> None:
    """List the models plugins registered, with parameter counts."""
    registry = manager_of(ctx).models
    rows = []
    for name, entry in sorted(registry.entries.items()):
        row = {
            "name": name,
            "plugin": entry.plugin,
            "input": "x".join(map(str, entry.input_size or ())),
            "description": entry.description,
        }
        if counts:
            row.update(_count_parameters(registry, name))
        rows.append(row)
    rep = current().reporter
    rep.table("Models", rows, key="models")
    if not rows:
        rep.line("no models registered: install or enable plugins that provide them")


def _count_parameters(registry: Any, name: str) -> dict[str, Any]:
    """Return ``{parameters: Σ numel, status}`` of model ``name``, built on torch's meta device.

    Meta tensors have shapes but no storage, so no weights are allocated or initialized.
    A model that cannot be built gets no count and the one-line reason as its status.
    """
    import torch

    try:
        with torch.device("meta"):
            model = registry.build(name)
    except DltoolError as exc:
        return {"parameters": None, "status": exc.message}
    return {"parameters": sum(p.numel() for p in model.parameters()), "status": "ok"}


def _store() -> Any:
    """Return the artifact store at the configured cache root."""
    from dltool.artifacts import ArtifactStore

    return ArtifactStore()


def _artifacts(ctx: typer.Context, name: str | None = None) -> list[Any]:
    """Return every registered artifact by name, or only ``name`` (unknown: DltoolError)."""
    registry = manager_of(ctx).artifacts
    if name is not None:
        return [registry.get(name)]
    return [art for _, art in sorted(registry.entries.items())]


def _artifact_row(store: Any, art: Any, rehash: bool) -> dict[str, Any]:
    """Return the table row of ``art`` with its status in ``store``."""
    return {
        "name": art.name,
        "plugin": art.plugin,
        "files": len(art.files),
        "size_mb": round(art.size / 1e6, 1),
        "source": art.source.describe(),
        "license": art.license,
        "status": store.status(art, rehash=rehash),
    }


def _artifact_rows(ctx: typer.Context) -> list[dict[str, Any]]:
    """Return one row per registered artifact with its (stamped, not re-hashed) status."""
    store = _store()
    return [_artifact_row(store, art, rehash=False) for art in _artifacts(ctx)]


@weights_app.command("list")
def weights_list(ctx: typer.Context) -> None:
    """List registered weight files, their source, license and status."""
    current().reporter.table("Weights", _artifact_rows(ctx), key="weights")


def _complete_artifact(ctx: typer.Context, incomplete: str) -> list[str]:
    """Return the registered artifact names starting with ``incomplete`` (TAB)."""
    return sorted(n for n in manager_of(ctx).artifacts.entries if n.startswith(incomplete))


@weights_app.command("fetch")
def weights_fetch(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., help="Artifact name (see 'dltool weights list').", autocompletion=_complete_artifact
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if cached."),
) -> None:
    """Fetch (or locate) an artifact and verify its SHA-256."""
    from dltool.report import FetchProgress

    art = manager_of(ctx).artifacts.get(name)
    with FetchProgress(quiet=current().quiet) as progress:
        paths = _store().fetch(art, progress, force=force)
    rep = current().reporter
    rep.table(
        f"{name}: verified", [{"file": f, "path": str(p)} for f, p in paths.items()], key="files"
    )


@weights_app.command("verify")
def weights_verify(
    ctx: typer.Context,
    name: str | None = typer.Argument(
        None, help="Only this artifact.", autocompletion=_complete_artifact
    ),
) -> None:
    """Re-hash every present artifact file (or only NAME's); exit 1 if any is corrupt."""
    from dltool.artifacts import ArtifactStore

    store = _store()
    checked = [(art, _artifact_row(store, art, rehash=True)) for art in _artifacts(ctx, name)]
    current().reporter.table("Verification", [row for _, row in checked], key="weights")
    bad = [art for art, row in checked if row["status"].startswith("corrupt")]
    if bad:
        raise DltoolError(
            f"corrupt artifact{'s' if len(bad) > 1 else ''}: {', '.join(a.name for a in bad)}",
            hint="; ".join(ArtifactStore._repair_hint(art) for art in bad),
        )


@weights_app.command("path")
def weights_path(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Artifact name.", autocompletion=_complete_artifact),
) -> None:
    """Print the paths of an artifact's files (fetching them if needed)."""
    from dltool import artifacts

    paths = artifacts.ensure(manager_of(ctx).artifacts.get(name))
    rep = current().reporter
    if rep.json_mode:
        rep.result("paths", {f: str(p) for f, p in paths.items()})
    else:
        for p in paths.values():
            typer.echo(str(p))


@runs_app.callback()
def runs_list(ctx: typer.Context) -> None:
    """List the runs under $DLTOOL_RUNS or ./runs: plugin, command, status, epochs, best."""
    if ctx.invoked_subcommand is not None:
        return
    from dltool import runlog

    root = runlog.env_root()
    rows = runlog.list_runs(root)
    rep = current().reporter
    rep.table(f"Runs under {root}", rows, key="runs")
    if not rows:
        rep.line(f"no runs under {root}")


def _run_folder(target: str) -> Path:
    """Return the run folder RUN names: a folder, a file in one, or a path under the runs root."""
    from dltool import runlog
    from dltool.runs import holds_run

    path = Path(target)
    if not path.exists() and (runlog.env_root() / target).exists():
        path = runlog.env_root() / target
    if path.is_file():
        path = path.parent
    if not holds_run(path):
        what = "does not exist" if not path.exists() else "holds no config.yaml"
        raise DltoolError(
            f"run {target} {what}",
            hint="give a run folder (runs/<plugin>/<command>/N, or <plugin>/<command>/N) or a "
            "file inside it; 'dltool runs' lists them",
        )
    return path


@runs_app.command("show")
def runs_show(
    run: str = typer.Argument(..., help="Run folder, a file inside it, or PLUGIN/COMMAND/N."),
) -> None:
    """Print one run's record, its config and its last metrics row."""
    from dltool import runlog
    from dltool.runs import METRICS, read_config

    folder = _run_folder(run)
    config = read_config(folder)
    rows = runlog.read_rows(folder / METRICS)
    rep = current().reporter
    rep.table("Run", [runlog.run_row(folder, runlog.env_root())], key="run")
    rep.table("Config", [{"option": k, "value": v} for k, v in config.items()], key="config")
    last = rows[-1] if rows else {}
    rep.table("Last metrics", [{"metric": k, "value": v} for k, v in last.items()], key="metrics")
    if not last:
        rep.line("no metrics logged")


def doctor(ctx: typer.Context) -> None:
    """Check the installation: versions, devices, threads, cache, plugins and weights."""
    import platform

    import numpy
    import torch

    from dltool import __version__, device
    from dltool.artifacts import cache_dir

    session = current()
    rep = session.reporter
    selected = session.device
    rows = [
        {"item": "dltool", "value": __version__},
        {"item": "python", "value": f"{platform.python_version()} ({sys.executable})"},
        {"item": "torch", "value": torch.__version__},
        {"item": "numpy", "value": numpy.__version__},
        {"item": "devices available", "value": ", ".join(device.available_devices())},
        {"item": "device selected", "value": f"{selected} (--device {session.device_spec})"},
        {
            "item": "threads",
            "value": ", ".join(f"{k}: {v}" for k, v in device.thread_report().items()),
        },
        {"item": "cache directory", "value": str(cache_dir())},
    ]
    rep.table("Environment", rows, key="environment")
    infos = manager_of(ctx).checked_infos()
    plugin_rows = [
        {"plugin": i.name, "version": i.version or "", "status": i.status} for i in infos
    ]
    rep.table("Plugins", plugin_rows, key="plugins")
    rep.table("Weights", _artifact_rows(ctx), key="weights")
    failed = [i.name for i in infos if not i.ok]
    if failed:
        rep.warn(f"plugins disabled: {', '.join(failed)} (see 'dltool plugins')")


# Typer's bash script, plus the colon rule of bash-completion's __ltrim_colon_completions:
# bash splits `demo:chelsea` at ':' (COMP_WORDBREAKS), so the pieces are joined again for
# dltool, and the part of each reply up to the last ':' is trimmed off for readline.
BASH_SCRIPT = r"""_PROG_completion() {
    local IFS=$'\n'
    local -a words=()
    local i n=-1 cword=0 glue=0 w
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        w=${COMP_WORDS[i]}
        if ((n >= 0)) && { [[ $w == : ]] || ((glue)); }; then
            words[n]+=$w
        else
            words[++n]=$w
        fi
        if [[ $w == : ]]; then glue=1; else glue=0; fi
        ((i == COMP_CWORD)) && cword=$n
    done
    COMPREPLY=( $( env COMP_WORDS="${words[*]}" \
                   COMP_CWORD=$cword \
                   COMPLETE_VAR=complete_bash $1 ) )
    local cur=${words[cword]}
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=${cur%"${cur##*:}"}
        for ((i = 0; i < ${#COMPREPLY[@]}; i++)); do
            COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
        done
    fi
    return 0
}

complete -o default -F _PROG_completion PROG
"""


def completion_script(shell: str) -> str:
    """Return the completion script for ``shell`` (generated by Typer's completion)."""
    from typer._completion_shared import get_completion_script

    from dltool import COMPLETE_VAR, PROG

    if shell not in SHELLS:
        raise DltoolError(
            f"unsupported shell '{shell}'", hint=f"choose one of: {', '.join(SHELLS)}"
        )
    if shell == "bash":
        return BASH_SCRIPT.replace("PROG", PROG).replace("COMPLETE_VAR", COMPLETE_VAR)
    return get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell) + "\n"


@completion_app.command("show")
def completion_show(
    shell: str = typer.Argument(
        ..., help="bash, zsh or fish.", autocompletion=lambda: list(SHELLS)
    ),
) -> None:
    """Print the completion script for SHELL."""
    typer.echo(completion_script(shell), nl=False)


@completion_app.command("write")
def completion_write(
    directory: Path = typer.Argument(Path("completions"), help="Where to write the scripts."),
) -> None:
    """Write dltool.bash, _dltool and dltool.fish into DIRECTORY."""
    from dltool import atomic

    for shell in SHELLS:
        target = directory / COMPLETION_FILES[shell]
        try:
            atomic.write_text(target, completion_script(shell))
        except OSError as exc:
            raise DltoolError(
                f"cannot write {target}: {exc.strerror or exc}",
                hint="give a folder you can write to",
            ) from exc
        typer.echo(str(target))


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app, under the names plugins may not take."""
    mounted = {
        "plugins": plugins,
        "models": models,
        "weights": weights_app,
        "runs": runs_app,
        "doctor": doctor,
        "completion": completion_app,
    }
    for name in CORE_COMMANDS:
        command = mounted[name]
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name)(command)
