"""optimizers: mini-batches, momentum, RMSprop, Adam, learning-rate decay, random search."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "Optimizer": "dltool.nn.optimizers:Optimizer",
    "Settings": "dltool.nn.training:Settings",
    "fit": "dltool.nn.training:fit",
    "compare_optimizers": "dltool_optimizers.compare:compare",
    "Problem": "dltool_optimizers.problem:Problem",
    "prepare": "dltool_optimizers.problem:prepare",
    "train_network": "dltool_optimizers.problem:train_network",
    "random_search": "dltool_optimizers.search:search",
    "course": "dltool_optimizers.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool optimizers``."""
    commands.add_lazy(
        "optimizers",
        "dltool_optimizers.cli:app",
        help="Compare GD/momentum/RMSprop/Adam, plot lr decay, random hyperparameter search.",
    )
