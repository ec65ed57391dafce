"""The docs site's generated parts (docs/hooks.py) and its offline check (docs/check_offline.py).

``mkdocs build --strict`` itself runs in .ci/run; these tests need no MkDocs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import typer
from typer._click import Context

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hooks = _load("hooks")
check_offline = _load("check_offline")


def _commands(cmd, ctx, path):
    yield path, cmd
    for name in getattr(cmd, "list_commands", lambda _c: [])(ctx):
        sub = cmd.get_command(ctx, name)
        if getattr(sub, "hidden", False):
            continue  # an alias kept for old scripts (cnn shape): not documented
        yield from _commands(sub, Context(sub, info_name=name, parent=ctx), f"{path} {name}")


def test_cli_reference_has_every_command_and_option() -> None:
    from dltool.cli import create_app

    page = hooks.cli_markdown()
    root = typer.main.get_command(create_app())
    seen = 0
    for path, cmd in _commands(root, Context(root, info_name="dltool"), "dltool"):
        assert f"# `{path}`\n" in page, path
        for param in cmd.params:
            if param.name != "help" and not getattr(param, "hidden", False):
                assert f"`{param.opts[0]}`" in page, (path, param.opts)
        seen += 1
    assert seen > 40  # the core's commands and the eight plugins'


def test_readme_parts_are_found() -> None:
    block = hooks.quickstart()
    assert block.startswith("```bash\n") and block.endswith("\n```")
    assert len(block.splitlines()) == 4  # the two lines CI runs, fenced
    arch = hooks.readme_section("Architecture")
    assert "**Plugins.**" in arch and "\n## " not in arch
    assert "(`benchmarks/README.md` in the repository)" in hooks.readme_section("yolo")
    with pytest.raises(RuntimeError):
        hooks.readme_section("no such section")


def test_plugin_example_files_are_shown() -> None:
    text = hooks.example_files()
    assert 'title="pyproject.toml"' in text and "[project.entry-points.dltool]" in text
    assert text.count("```python") == 4


def test_mathjax_comes_from_an_installed_package() -> None:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    assert hooks.mathjax_file().stat().st_size > 1_000_000


def test_offline_check(tmp_path: Path) -> None:
    (tmp_path / "assets" / "mathjax").mkdir(parents=True)
    (tmp_path / "assets" / "mathjax" / "tex-svg.js").write_text("//", encoding="utf-8")
    page = tmp_path / "index.html"
    page.write_text(
        '<link rel="stylesheet" href="assets/a.css"><script src="assets/mathjax/tex-svg.js">'
        '</script><a href="https://example.org/">a link is not a load</a>',
        encoding="utf-8",
    )
    (tmp_path / "assets" / "a.css").write_text("body{}", encoding="utf-8")
    assert check_offline.problems(tmp_path) == []
    assert check_offline.main([str(tmp_path)]) == 0

    page.write_text(
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"></script>'
        '<link href="//fonts.example.org/x.css" rel="stylesheet">',
        encoding="utf-8",
    )
    (tmp_path / "assets" / "a.css").write_text('@import url("https://x.org/f.css");')
    found = check_offline.problems(tmp_path)
    assert any("loads https://cdn.jsdelivr.net" in p for p in found)
    assert any("loads //fonts.example.org" in p for p in found)
    assert any("names a CDN" in p for p in found)
    assert any("a.css: imports a remote file" in p for p in found)
    assert check_offline.main([str(tmp_path)]) == 1
    assert check_offline.main([str(tmp_path / "missing")]) == 1


def _example_commands() -> list[tuple[str, str]]:
    """Return (page, command line) of every `dltool …` example in the plugin pages."""
    import re

    found = []
    for page in sorted((ROOT / "docs" / "plugins").glob("*.md")):
        for line in re.findall(r"`(dltool [^`]+)`", page.read_text(encoding="utf-8")):
            found.append((page.name, line))
    return found


def test_plugin_pages_name_real_commands_and_options() -> None:
    import shlex

    from dltool.cli import create_app

    root = typer.main.get_command(create_app())
    examples = _example_commands()
    assert len(examples) > 30
    for page, line in examples:
        words = shlex.split(line)[1:]
        cmd, ctx = root, Context(root, info_name="dltool")
        while words and getattr(cmd, "list_commands", None) and not words[0].startswith("-"):
            sub = cmd.get_command(ctx, words[0])
            assert sub is not None, (page, line, words[0])
            cmd, ctx = sub, Context(sub, info_name=words.pop(0), parent=ctx)
        names = {o for p in cmd.params for o in [*p.opts, *getattr(p, "secondary_opts", [])]}
        for word in words:
            if word.startswith("-"):
                assert word.split("=")[0] in names, (page, line, word)


def test_public_objects_page_has_every_plugins_exports() -> None:
    import importlib

    page = hooks.public_markdown()
    assert "::: dltool.api" in page
    for package_dir in sorted((ROOT / "plugins").glob("dltool_*")):
        module = importlib.import_module(package_dir.name)
        for name, target in getattr(module, "_EXPORTS", {}).items():
            expected = f"::: {target.replace(':', '.')}" if ":" in target else f"`{target}`"
            assert expected in page, (package_dir.name, name)


def test_examples_page_shows_every_script() -> None:
    page = hooks.examples_markdown()
    for script in (ROOT / "examples").glob("*.py"):
        assert f"## `{script.name}`" in page and f'title="examples/{script.name}"' in page
