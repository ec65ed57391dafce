"""MkDocs hooks: pages generated at build time, so they cannot drift from the code.

- ``reference/cli.md``: the command reference, walked from the Typer app that ``dltool``
  runs (``typer.main.get_command(dltool.cli.create_app())``) with every installed plugin.
- ``assets/mathjax/tex-svg.js``: MathJax 3 (Apache-2.0), copied from the registry package
  ``django-static-mathjax`` (the ``docs`` extra), so formulas render with no network.
- ``<!-- quickstart -->`` in a page becomes the README's Quickstart block, and
  ``<!-- readme: TITLE -->`` the README section whose heading starts with TITLE (its body,
  headings moved one level down), so the site and the README say the same thing;
  ``<!-- course: dltool_NAME -->`` the API of the plugin's ``course`` module where it has one.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = "assets/mathjax/tex-svg.js"
CLI_PAGE = "reference/cli.md"
PUBLIC_PAGE = "reference/public.md"
EXAMPLES_PAGE = "examples.md"


def mathjax_file() -> Path:
    """Return the path of MathJax's self-contained ``es5/tex-svg.js`` in the installed package."""
    spec = importlib.util.find_spec("mathjax")  # django-static-mathjax; located, never imported
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('MathJax is missing: pip install -e ".[docs]"')
    path = Path(list(spec.submodule_search_locations)[0]) / "static/mathjax/es5/tex-svg.js"
    if not path.is_file():
        raise RuntimeError(f"MathJax's tex-svg.js is not at {path}")
    return path


def quickstart() -> str:
    """Return the README's Quickstart fenced block (the two lines CI runs), fences included."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Quickstart\n+(```bash\n.*?\n```)", text, re.S | re.M)
    if match is None:
        raise RuntimeError("README.md has no ```bash block under ## Quickstart")
    return match.group(1)


def _cell(text: Any) -> str:
    """Return ``text`` on one line, safe inside a Markdown table cell."""
    return _escape(" ".join(str(text).split())).replace("|", "\\|")


def _escape(text: str) -> str:
    """Return help text with the characters Markdown would read as markup escaped."""
    return text.replace("<", "&lt;").replace("*", "\\*").replace("_", "\\_")


def _param_row(param: Any) -> str:
    """Return the table row of one option or argument: names, type, default, help."""
    names = ", ".join(f"`{o}`" for o in [*param.opts, *getattr(param, "secondary_opts", [])])
    kind = "argument" if param.param_type_name == "argument" else "option"
    choices = getattr(param.type, "choices", None)
    if choices:
        type_text = " \\| ".join(f"`{getattr(c, 'value', c)}`" for c in choices)
    elif getattr(param, "is_flag", False):
        type_text = "flag"
    else:
        type_text = _cell(getattr(param.type, "name", "")).upper()
    default = param.default
    if callable(default) or default in (None, ()) or param.required:
        default_text = "required" if param.required else ""
    else:
        default_text = f"`{_cell(getattr(default, 'value', default))}`"
    help_text = _cell(getattr(param, "help", None) or "")
    return f"| {names} | {kind} | {type_text} | {default_text} | {help_text} |"


def _command_md(cmd: Any, ctx: Any, path: str, depth: int) -> list[str]:
    """Return the Markdown of one command and, for a group, of its sub-commands."""
    lines = [f"{'#' * min(depth, 6)} `{path}`", ""]
    help_text = (cmd.help or "").strip()
    if help_text:
        lines += [_escape(help_text.replace("\b\n", "")), ""]
    pieces = " ".join(cmd.collect_usage_pieces(ctx))
    lines += ["```", f"{path} {pieces}".rstrip(), "```", ""]
    params = [p for p in cmd.get_params(ctx) if p.name != "help" and not getattr(p, "hidden", 0)]
    if params:
        lines += ["| name | kind | type | default | help |", "| --- | --- | --- | --- | --- |"]
        lines += [_param_row(p) for p in params] + [""]
    for name in getattr(cmd, "list_commands", lambda _ctx: [])(ctx):
        sub = cmd.get_command(ctx, name)
        if sub is None or getattr(sub, "hidden", False):
            continue
        sub_ctx = type(ctx)(sub, info_name=name, parent=ctx)
        lines += _command_md(sub, sub_ctx, f"{path} {name}", depth + 1)
    return lines


def cli_markdown() -> str:
    """Return the CLI reference page, generated from the Typer app ``dltool`` runs."""
    import typer
    from typer._click import Context

    from dltool.cli import create_app

    root = typer.main.get_command(create_app())
    ctx = Context(root, info_name="dltool")
    intro = [
        "# CLI reference",
        "",
        "Generated at build time from the Typer app (`dltool.cli.create_app()`) by",
        "`docs/hooks.py`: every command, argument and option, with its type, default and help.",
        "Global options go before or after the sub-command.",
        "",
    ]
    return "\n".join(intro + _command_md(root, ctx, "dltool", 2)) + "\n"


def plugin_exports(package: str) -> dict[str, str]:
    """Return a plugin's public names and their targets (its ``_EXPORTS``; a light import)."""
    import importlib

    return dict(getattr(importlib.import_module(package), "_EXPORTS", {}))


def public_markdown() -> str:
    """Return the page of every plugin's public objects (its ``__all__``), from the docstrings."""
    lines = [
        "# Public objects",
        "",
        "What each plugin exports in `__all__`: importing a plugin stays light, each name is",
        "imported on first use (PEP 562). Generated from the plugins' `_EXPORTS` and docstrings.",
        "",
        "::: dltool.api",
        "    options:",
        "      heading_level: 2",
        "      show_source: false",
        "",
    ]
    for package_dir in sorted((ROOT / "plugins").glob("dltool_*")):
        exports = plugin_exports(package_dir.name)
        if not exports:
            continue
        lines += [f"## `{package_dir.name}`", ""]
        for name, target in exports.items():
            if ":" not in target:  # a module (the course module): documented on its page
                lines += [f"- `{package_dir.name}.{name}`: the module `{target}`", ""]
                continue
            lines += [
                f"::: {target.replace(':', '.')}",
                "    options:",
                "      heading_level: 3",
                "      show_source: false",
                "",
            ]
    return "\n".join(lines) + "\n"


def examples_markdown() -> str:
    """Return the page of the example scripts in ``examples/`` (each run by the test suite)."""
    import ast

    lines = [
        "# Examples",
        "",
        "Short scripts that use dltool as a library (the test suite runs each one), from",
        "`examples/` in the repository. The third-party plugin example is on the",
        "[plugin authoring](plugin-authoring.md) page.",
        "",
    ]
    for script in sorted((ROOT / "examples").glob("*.py")):
        text = script.read_text(encoding="utf-8").rstrip()
        doc = ast.get_docstring(ast.parse(text)) or ""
        lines += [f"## `{script.name}`", "", doc.split("\n\n")[0], ""]
        lines += [f'```python title="examples/{script.name}"', text, "```", ""]
    return "\n".join(lines) + "\n"


def on_files(files: Any, config: Any) -> Any:
    """Add the generated CLI and public-object pages and the bundled MathJax to the files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, CLI_PAGE, content=cli_markdown()))
    files.append(File.generated(config, PUBLIC_PAGE, content=public_markdown()))
    files.append(File.generated(config, EXAMPLES_PAGE, content=examples_markdown()))
    files.append(File.generated(config, MATHJAX, abs_src_path=str(mathjax_file())))
    return files


def readme_section(title: str) -> str:
    """Return the body of the README section whose heading starts with ``title``."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    fence = False
    start = level = None
    for i, line in enumerate(lines):
        fence = fence != line.startswith("```")
        heading = re.match(r"(#+) (.*)", line) if not fence and not line.startswith("```") else None
        if heading and start is None and heading.group(2).startswith(title):
            start, level = i + 1, len(heading.group(1))
        elif heading and start is not None and len(heading.group(1)) <= level:
            return _demote(lines[start:i])
    if start is None:
        raise RuntimeError(f"README.md has no section {title!r}")
    return _demote(lines[start:])


def _demote(lines: list[str]) -> str:
    """Return ``lines`` with each heading (outside code fences) one level deeper."""
    out, fence = [], False
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        out.append("#" + line if not fence and line.startswith("#") else line)
    text = "\n".join(out).strip() + "\n"
    # Links relative to the repository root do not exist on the site: name the file instead.
    return re.sub(r"\[([^\]]+)\]\((?!https?:|#)([^)]+)\)", r"\1 (`\2` in the repository)", text)


def example_files() -> str:
    """Return the plugin example's files as fenced blocks (the files the tests install)."""
    base = ROOT / "examples" / "dltool-hello"
    blocks = []
    modules = (f"dltool_hello/{m}.py" for m in ("__init__", "cli", "jobs", "model"))
    for name in ("pyproject.toml", *modules):
        lang = "toml" if name.endswith(".toml") else "python"
        text = (base / name).read_text(encoding="utf-8").rstrip()
        blocks.append(f'```{lang} title="{name}"\n{text}\n```\n')
    return "\n".join(blocks)


def course_section(package: str) -> str:
    """Return the "course's names" section of a plugin page: its ``course`` module, if any."""
    if not (ROOT / "plugins" / package / "course.py").is_file():
        return ""
    return (
        "## The course's functions\n\n"
        f"`{package}.course` holds the programming assignments' functions under the course's "
        "names, argument order and array layouts (NumPy in, NumPy out), each a thin "
        "translation onto the implementation shown above.\n\n"
        f"::: {package}.course\n    options:\n      heading_level: 3\n      show_source: false\n"
    )


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace ``<!-- quickstart -->`` and ``<!-- readme: TITLE -->`` with README text."""
    markdown = markdown.replace("<!-- quickstart -->", quickstart())
    markdown = markdown.replace("<!-- example files -->", example_files())
    markdown = re.sub(r"<!-- course: (\w+) -->", lambda m: course_section(m.group(1)), markdown)
    return re.sub(r"<!-- readme: (.+?) -->", lambda m: readme_section(m.group(1)), markdown)


_FORMULA_LINK = re.compile(r'<a href="([^"]*[ ,][^"]*)">([^<]*)</a>')


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Undo links Markdown made of docstring formulas: ``J^[l](S, G)`` is not a link."""
    return _FORMULA_LINK.sub(lambda m: f"[{m.group(2)}]({m.group(1)})", html)
