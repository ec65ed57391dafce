"""basicnn: logistic regression and L-layer networks from the course notes ("Basic NN")."""

import dltool


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
