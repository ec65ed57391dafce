"""dltool style: neural style transfer (content cost, Gram matrices, style layers) on real nets."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy(
        "style",
        "dltool_style.cli:app",
        help="Neural style transfer on EfficientNet-Lite0 or VGG-19: Gram matrices, style costs.",
    )
