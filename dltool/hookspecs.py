"""The plugin contract: the pluggy hook specifications of project ``dltool``.

A plugin is a module registered in the entry-point group ``dltool`` that implements
any of these hooks with ``@dltool.hookimpl``. Keep the module light: it is imported
on every ``dltool`` start-up, so heavy imports belong in the command modules.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("dltool")


@hookspec
def register_commands(commands):
    """Add sub-apps to the CLI.

    ``commands`` is a :class:`dltool.plugins.CommandRegistry`. Prefer the lazy form
    ``commands.add_lazy("yolo", "dltool_yolo.cli:app", help="…")`` so the command module
    is imported only when the sub-app runs; ``commands.add_typer(app, name=…)``
    mounts an already built ``typer.Typer``.
    """


@hookspec
def register_models(models):
    """Add named model builders: ``models.add("lenet5", "dltool_cnn.models:lenet5", …)``.

    ``models`` is a :class:`dltool.plugins.ModelRegistry`; builders are import paths
    so that listing names costs nothing and torch is imported only to build.
    """


@hookspec
def register_artifacts(artifacts):
    """Add weight files the plugin can use: ``artifacts.add(Artifact(...))``.

    ``artifacts`` is a :class:`dltool.artifacts.ArtifactRegistry`.
    """
