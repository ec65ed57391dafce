"""cnn: convolution and pooling from scratch, classic CNN architectures, augmentation, training."""

import dltool
from dltool.exports import lazy_exports

MAX_LR = 10.0  # a learning rate above this only diverges (cnn train --lr)

MODELS = (
    ("lenet5", "lenet5", "LeNet-5 (LeCun 1998): tanh, average-pool subsampling", (1, 32, 32)),
    ("alexnet", "alexnet", "AlexNet (Krizhevsky 2012): ReLU, LRN, two-group convs", (3, 227, 227)),
    ("vgg16", "vgg16", "VGG-16 (Simonyan 2014): 13 conv 3x3 + 3 FC", (3, 224, 224)),
    ("resnet18", "resnet18", "ResNet-18 (He 2015): basic residual blocks", (3, 224, 224)),
    ("resnet34", "resnet34", "ResNet-34 (He 2015): basic residual blocks", (3, 224, 224)),
    (
        "resnet50",
        "resnet50",
        "ResNet-50: identity + convolutional bottleneck blocks",
        (3, 224, 224),
    ),
    (
        "googlenet",
        "googlenet",
        "GoogLeNet / Inception v1 (Szegedy 2014), no aux heads",
        (3, 224, 224),
    ),
)


_EXPORTS = {
    **{name: f"dltool_cnn.models:{builder}" for name, builder, _, _ in MODELS},
    "ResNet": "dltool_cnn.models:ResNet",
    "build_pretrained": "dltool_cnn.transfer:build_pretrained",
    "conv_forward": "dltool_cnn.conv:conv_forward",
    "conv_backward": "dltool_cnn.conv:conv_backward",
    "pool_forward": "dltool_cnn.conv:pool_forward",
    "pool_backward": "dltool_cnn.conv:pool_backward",
    "random_augment": "dltool_cnn.augment:random_augment",
    "course": "dltool_cnn.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool cnn``."""
    commands.add_lazy(
        "cnn",
        "dltool_cnn.cli:app",
        help="Convolution from scratch, classic CNNs, augmentation, training, transfer learning.",
    )


@dltool.hookimpl
def register_models(models):
    """Register the classic architectures of the notes' "Model Examples Summary"."""
    for name, builder, description, input_size in MODELS:
        models.add(name, f"dltool_cnn.models:{builder}", description, input_size)
