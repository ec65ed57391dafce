"""Rules of the house, checked on the source: no import cycles, short functions, thin CLIs.

The import graph holds every ``import`` of ``dltool/`` and ``plugins/``, module-level and
inside functions alike, resolved to the module it names (``from pkg import mod`` is an edge
to ``pkg.mod`` when that is a module, else to ``pkg``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if p.name.startswith("dltool_"))
MAX_BODY = 60  # lines of a function body, signature and docstring aside
MAX_CLI = 350  # lines of a plugin's cli.py
JOBS = "jobs.py"  # the one name of every plugin's command-jobs file


def _modules() -> dict[str, Path]:
    """Return {dotted module name: file} for dltool and every built-in plugin."""
    found = {}
    for base in (ROOT, ROOT / "plugins"):
        for path in base.glob("dltool*/**/*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the project modules that module ``name`` imports anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in modules else base)
    return {m for m in out if m in modules and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _long_functions(path: Path) -> list[str]:
    """Return ``file:line name (n lines)`` for functions whose body is over MAX_BODY lines."""
    long = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        if body and body[-1].end_lineno - body[0].lineno + 1 > MAX_BODY:
            n = body[-1].end_lineno - body[0].lineno + 1
            long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    return long


def test_no_function_body_over_60_lines():
    long = [f for path in _modules().values() for f in _long_functions(path)]
    assert long == []


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_layout(plugin):
    folder = ROOT / "plugins" / plugin
    cli = folder / "cli.py"
    assert len(cli.read_text(encoding="utf-8").splitlines()) <= MAX_CLI
    assert (folder / JOBS).is_file(), f"{plugin} keeps its command jobs in {JOBS}"
    assert "import typer" not in (folder / JOBS).read_text(encoding="utf-8")
