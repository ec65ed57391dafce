"""basicnn: logistic regression and L-layer networks from the course notes ("Basic NN")."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "Settings": "dltool.nn.training:Settings",
    "fit": "dltool.nn.training:fit",
    "initial_parameters": "dltool.nn.training:initial_parameters",
    "forward": "dltool.nn.network:forward",
    "predict": "dltool.nn.network:predict",
    "predict_proba": "dltool.nn.network:predict_proba",
    "save_model": "dltool_basicnn.checkpoint:save_model",
    "load_model": "dltool_basicnn.checkpoint:load_model",
    "check_network": "dltool_basicnn.checking:check_network",
    "logreg": "dltool_basicnn.logreg",
    "course": "dltool_basicnn.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool basicnn``."""
    commands.add_lazy(
        "basicnn",
        "dltool_basicnn.cli:app",
        help="Logistic regression and L-layer networks: train, predict, gradcheck, diagnose.",
    )


@dltool.hookimpl
def register_models(models):
    """Register the course's L-layer network as a named model."""
    models.add(
        "basicnn-course",
        "dltool.nn.network_torch:course_model",
        description="L-layer ReLU network 12288-20-7-5-1 with a sigmoid output (course cat model)",
        input_size=(12288,),
    )
