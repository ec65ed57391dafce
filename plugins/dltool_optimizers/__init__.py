"""optimizers: mini-batches, momentum, RMSprop, Adam, learning-rate decay, random search."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool optimizers``."""
    commands.add_lazy(
        "optimizers",
        "dltool_optimizers.cli:app",
        help="Compare GD/momentum/RMSprop/Adam, plot lr decay, random hyperparameter search.",
    )
