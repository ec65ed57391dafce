"""dltool style: neural style transfer (content cost, Gram matrices, style layers) on real nets."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy(
        "style",
        "dltool_style.cli:app",
        help="Neural style transfer on EfficientNet-Lite0 or VGG-19: Gram matrices, style costs.",
    )


@dltool.hookimpl
def register_models(models):
    models.add(
        "vgg19-features",
        "dltool_style.vgg:vgg19_features",
        description="VGG-19 conv layers, torchvision layout (style; weights via --weights)",
        input_size=(3, 224, 224),
    )
