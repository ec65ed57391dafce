"""The ``dltool style`` sub-app. Heavy imports (torch, numpy, PIL) happen inside commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Neural style transfer: content cost, Gram matrices, weighted style layers.",
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """Neural style transfer: content cost, Gram matrices, weighted style layers."""
