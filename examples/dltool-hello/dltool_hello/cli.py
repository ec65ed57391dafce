"""dltool hello: the plugin's Typer sub-app (signatures only; the job is in ``jobs.py``)."""

from __future__ import annotations

import typer

from dltool.commands import plugin_app

app = plugin_app("Greet someone (a plugin example).")


@app.command()
def greet(
    name: str = typer.Argument(..., help="Who to greet."),
    times: int = typer.Option(1, min=1, max=10, help="How many greetings (1 to 10). Default: 1."),
) -> None:
    """Print a greeting TIMES times (with --json: {"greetings": [...]})."""
    from dltool_hello.jobs import greet as greet_job

    greet_job(name, times)
