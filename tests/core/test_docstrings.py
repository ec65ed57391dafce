"""Docstrings are the source of truth: every public function, class and method of dltool and
the built-in plugins, every name a plugin exports in ``__all__`` and every command has one."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("basicnn", "optimizers", "cnn", "yolo", "facerec", "style", "rnn", "wordvec")


def _sources() -> list[Path]:
    """Return every Python file of dltool/ and the built-in plugins."""
    return sorted([*(ROOT / "dltool").rglob("*.py"), *(ROOT / "plugins").glob("dltool_*/**/*.py")])


def _undocumented(path: Path) -> list[str]:
    """Return ``file:line name`` of public functions, classes and methods with no docstring."""
    missing = []
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if not isinstance(node, defs) or node.name.startswith("_"):
            continue
        members = node.body if isinstance(node, ast.ClassDef) else []
        for item in [node, *(m for m in members if isinstance(m, defs))]:
            if not item.name.startswith("_") and not ast.get_docstring(item):
                name = item.name if item is node else f"{node.name}.{item.name}"
                missing.append(f"{path.relative_to(ROOT)}:{item.lineno} {name}")
    return missing


def test_every_public_function_class_and_method_has_a_docstring():
    missing = [entry for path in _sources() for entry in _undocumented(path)]
    assert missing == [], (
        "add a one-line docstring (the formula or what it returns):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("name", BUILTIN)
def test_every_exported_name_has_a_docstring(name):
    package = importlib.import_module(f"dltool_{name}")
    missing = [n for n in package.__all__ if not inspect.getdoc(getattr(package, n))]
    assert missing == []


def _commands(command, path):
    """Yield (path, click command) for ``command`` and every command under it."""
    yield path, command
    if isinstance(command, typer.core.TyperGroup):
        for name in command.list_commands(None):
            yield from _commands(command.get_command(None, name), [*path, name])


def test_every_command_and_argument_has_help(app):
    root = typer.main.get_command(app)
    missing = []
    for path, command in _commands(root, ["dltool"]):
        if not (command.help or command.short_help):
            missing.append(" ".join(path))
        for param in command.params:
            if param.param_type_name == "argument" and not getattr(param, "help", None):
                missing.append(f"{' '.join(path)} {param.name}")
    assert missing == []
