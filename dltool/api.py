"""dltool from Python: every command's job called with keyword options.

``run("yolo", "detect", "street.jpg", size=320)`` builds the command line the keywords
name (``size`` -> ``--size 320``; ``True`` -> the flag, ``False`` -> its ``--no-`` form;
a list -> the option repeated), runs the CLI in this process with ``--json --quiet`` and
returns the JSON document the command prints, as a dict. A failure raises the same
``DltoolError`` (message and hint) the command line prints as ``error:``/``hint:``, with
its ``exit_code`` (2 for a value the options refuse); a keyword that names no option, or a
word that names no command, raises ``UsageError`` (a subclass) before anything runs.

Each plugin package's ``__all__`` comes from :mod:`dltool.exports` (lazy, PEP 562).
Only the standard library is imported here at module level.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from dltool.errors import EXIT_USAGE, DltoolError

GLOBALS = ("device", "seed", "threads")  # root options run() also takes as keywords


class UsageError(DltoolError):
    """A call refused before any command runs: an unknown option keyword or command name."""

    exit_code = EXIT_USAGE


def run(plugin: str, command: str, *arguments: Any, **options: Any) -> dict[str, Any]:
    """Return the JSON document of ``dltool PLUGIN COMMAND ARGUMENTS --OPTIONS --json``.

    Positional ``arguments`` are the command's arguments (paths, words) in order; keyword
    ``options`` are its options by parameter name (``exist_ok=True`` -> ``--exist-ok``),
    plus the global ``device``, ``seed`` and ``threads``. Raise ``DltoolError`` (with the
    command's ``hint`` and ``exit_code``) when it fails, ``UsageError`` for an unknown
    option keyword or command.
    """
    return call([plugin, command, *map(str, arguments)], **options)


def call(words: Sequence[str], **options: Any) -> dict[str, Any]:
    """Return the JSON document of ``dltool WORDS --OPTIONS --json`` (``words``: the command path
    and its arguments, ``["wordvec", "similar", "king"]``); see :func:`run`."""
    head = [f"--{name}={options.pop(name)}" for name in GLOBALS if options.get(name) is not None]
    for name in GLOBALS:
        options.pop(name, None)
    argv = ["--json", "--quiet", *head, *words]
    command = _command()
    argv += command_line(_leaf(command, list(words)), options)
    code, out, err = _invoke(command, argv)
    return _result(code, out, err, argv)


def command_line(command: Any, options: dict[str, Any]) -> list[str]:
    """Return the flags that set ``options`` (by parameter name) on the click ``command``."""
    params = {p.name: p for p in command.params if getattr(p, "param_type_name", "") == "option"}
    unknown = sorted(set(options) - set(params))
    if unknown:
        valid = ", ".join(sorted(n for n in params if n not in ("help",)))
        raise UsageError(
            f"{command.name}: unknown option(s) {', '.join(unknown)}",
            hint=f"valid options: {valid}",
        )
    argv: list[str] = []
    for name, value in options.items():
        argv += _flags(params[name], value)
    return argv


def _flags(param: Any, value: Any) -> list[str]:
    """Return the command-line words that give option ``param`` the Python ``value``."""
    long = max(param.opts, key=len)
    if value is None:
        return []
    if param.is_flag and isinstance(value, bool):
        if value:
            return [long]
        return [max(param.secondary_opts, key=len)] if param.secondary_opts else []
    values = value if isinstance(value, (list, tuple)) else [value]
    if param.multiple or not isinstance(value, (list, tuple)):
        return [w for v in values for w in (long, _word(v))]
    return [long, *map(_word, values)]  # nargs > 1: one flag, several values


def _word(value: Any) -> str:
    """Return ``value`` as a command-line word (an Enum by its value, a path as text)."""
    value = getattr(value, "value", value)
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def _command() -> Any:
    """Return the root click command of the installed dltool."""
    import typer

    from dltool.cli import create_app

    return typer.main.get_command(create_app())


def _leaf(root: Any, words: list[str]) -> Any:
    """Return the click command the leading words of ``words`` name (``yolo detect``)."""
    command = root
    for word in words:
        get = getattr(command, "get_command", None)
        if get is None or word.startswith("-"):
            break
        sub = get(None, word)
        if sub is None:
            raise UsageError(f"no command '{word}' under '{command.name}'", hint="dltool --help")
        command = sub
    return command


def _invoke(command: Any, argv: list[str]) -> tuple[int, str, str]:
    """Run ``command`` on ``argv`` in a fresh context; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()

    def main() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                command.main(args=argv, prog_name="dltool")  # standalone: ends in SystemExit
            except SystemExit as exc:
                return exc.code if isinstance(exc.code, int) else 1
        return 0

    code = contextvars.copy_context().run(main)  # the session stays inside this call
    return code, out.getvalue(), err.getvalue()


def _result(code: int, out: str, err: str, argv: list[str]) -> dict[str, Any]:
    """Return the parsed document; raise the error the command printed when it failed.

    A command that exits non-zero on purpose with its document and no ``error:`` line
    (``facerec verify``: 1 = no match) returns the document, as the command line prints it.
    """
    lines = err.splitlines()
    errors = [x[len("error: ") :] for x in lines if x.startswith("error: ")]
    hints = [x[len("hint: ") :] for x in lines if x.startswith("hint: ")]
    passed = [x for x in lines if not x.startswith(("error: ", "hint: "))]
    if passed:
        sys.stderr.write("\n".join(passed) + "\n")  # warnings reach the caller's stderr
    document = _parse(out)
    if errors or (code != 0 and not document):
        message = errors[0] if errors else f"'dltool {' '.join(argv)}' exited with {code}"
        error = DltoolError(message, hints[0] if hints else None)
        error.exit_code = code or 1  # 2: a usage error (facerec: any error)
        error.document = document  # what --json had collected before the failure
        raise error
    return document


def _parse(out: str) -> dict[str, Any]:
    """Return the JSON document in ``out`` ({} when the command printed none)."""
    text = out.strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{")  # a line a command echoed before its document
        return json.loads(text[start:]) if start >= 0 else {"output": text}
