"""dltool hello: a minimal third-party plugin (hook implementations only).

Installed beside dltool, this package is found through its entry point in the group
``dltool`` (see ``pyproject.toml``); nothing in dltool names it. The module stays light:
it is imported on every ``dltool`` start-up, so the command module is registered lazily.
"""

import dltool


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool hello``; ``dltool_hello.cli`` is imported only when it runs."""
    commands.add_lazy("hello", "dltool_hello.cli:app", help="Greet someone (a plugin example).")


@dltool.hookimpl
def register_models(models):
    """Register ``hello-linear``, listed by ``dltool models``."""
    models.add(
        "hello-linear",
        "dltool_hello.model:linear",
        description="one linear layer, 4 inputs to 2 outputs (plugin example)",
        input_size=(1, 4),
    )
