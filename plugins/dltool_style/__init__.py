"""dltool style: neural style transfer (content cost, Gram matrices, style layers) on real nets."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "Settings": "dltool_style.transfer:Settings",
    "optimize": "dltool_style.transfer:optimize",
    "build": "dltool_style.features:build",
    "FeatureNet": "dltool_style.features:FeatureNet",
    "compute_content_cost": "dltool_style.cost:compute_content_cost",
    "gram_matrix": "dltool_style.cost:gram_matrix",
    "compute_style_cost": "dltool_style.cost:compute_style_cost",
    "total_cost": "dltool_style.cost:total_cost",
    "course": "dltool_style.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool style``."""
    commands.add_lazy(
        "style",
        "dltool_style.cli:app",
        help="Neural style transfer on EfficientNet-Lite0 or VGG-19: Gram matrices, style costs.",
    )


@dltool.hookimpl
def register_models(models):
    """Register style's named model builders."""
    models.add(
        "vgg19-features",
        "dltool_style.vgg:vgg19_features",
        description="VGG-19 conv layers, torchvision layout (style; weights via --weights)",
        input_size=(3, 224, 224),
    )
