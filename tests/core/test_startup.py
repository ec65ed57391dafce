"""Start-up stays light: no heavy library is imported by --help or completion."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from dltool_support import HEAVY
from typer.testing import CliRunner

from dltool.cli import create_app
from dltool.plugins import PluginManager

PROBE = """
import os, sys
sys.argv = ["dltool", *{args!r}]
from dltool.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules) + "\\n")
"""


def heavy_modules_after(args: list[str], env: dict | None = None) -> list[str]:
    """Run the CLI with ``args`` in a fresh interpreter; return heavy modules it imported."""
    import os

    run = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    line = [x for x in run.stderr.splitlines() if x.startswith("HEAVY:")][-1]
    return [m for m in line[len("HEAVY:") :].split(",") if m]


def plugin_commands() -> list[str]:
    """Return the sub-apps of the installed plugins."""
    return sorted(PluginManager.from_entry_points(warn=False).commands.entries)


def test_root_help_imports_nothing_heavy():
    assert heavy_modules_after(["--help"]) == []


def test_completion_imports_nothing_heavy():
    env = {"_DLTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "dltool ", "COMP_CWORD": "1"}
    assert heavy_modules_after([], env) == []


@pytest.mark.parametrize("name", plugin_commands())
def test_completion_inside_a_plugin_imports_nothing_heavy(name):
    """``dltool <plugin> x --<TAB>`` imports the plugin's command module, and only light ones."""
    words = f"dltool {name} x --"
    env = {"_DLTOOL_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "3"}
    assert heavy_modules_after([], env) == []


@pytest.mark.parametrize("name", plugin_commands())
def test_plugin_help_imports_nothing_heavy(name):
    assert heavy_modules_after([name, "--help"]) == []


def _walk(command, path):
    """Yield the argument paths of every command under ``command``."""
    yield path
    if isinstance(command, typer.core.TyperGroup):
        for name in command.list_commands(None):
            yield from _walk(command.get_command(None, name), [*path, name])


def test_every_registered_command_renders_help():
    app = create_app()
    root = typer.main.get_command(app)
    paths = list(_walk(root, []))
    assert ["doctor"] in paths and ["weights", "fetch"] in paths
    for name in plugin_commands():
        assert [name] in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], prog_name="dltool")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: dltool" in result.output
