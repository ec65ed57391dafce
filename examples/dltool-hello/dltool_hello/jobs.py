"""The command jobs of dltool hello: no Typer here, the session's reporter prints."""

from __future__ import annotations

from dltool.context import current


def greetings(name: str, times: int) -> list[str]:
    """Return ``times`` greetings of ``name``."""
    return [f"Hello, {name}!" for _ in range(times)]


def greet(name: str, times: int) -> list[str]:
    """Report the greetings (one line each, or one JSON document) and return them."""
    lines = greetings(name, times)
    reporter = current().reporter
    if reporter.json_mode:
        reporter.result("greetings", lines)
    for line in lines:
        reporter.line(line)
    return lines
