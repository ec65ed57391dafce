"""Feature networks for style transfer: named activation layers and their default choice.

Two networks, both frozen and in eval mode:

* ``efficientnet-lite0`` (default): ImageNet EfficientNet-Lite0 from the core artifact
  (``dltool.nn.efficientnet``). Style layers are ReLU6 activations at strides 2, 2, 4, 8
  and 16 (the stem, then the 1x1 expansions of blocks 1, 3, 5 and 8, i.e. the input of
  stages 2-5), the counterpart of VGG's conv1_1 … conv5_1 (non-negative, growing receptive
  field); content is the expansion of block 6 (stride 16, 480 channels), like VGG's conv4_2
  a deep layer that keeps layout but not texture. Measured on the demo pair (chelsea cat,
  immunohistochemistry texture), 128 px and 60 Adam steps, seed 0: the projection output
  ``blocks.4`` as content layer keeps the photo almost untouched (final J 43 with J_content
  dominating, versus 2.5); depthwise outputs ``blocks.{0,2,4,7,10}.dw`` as style layers look
  like the default (J 1.05) with no gain; at 256 px and 300 steps the default layers paint
  the cat in the texture's colors and strokes, and TV weight 2 with lr 0.03 (the CLI's
  defaults) removes most of the residual pixel noise of the noisy start.
* ``vgg19``: the literature's network from a user-supplied torchvision state dict, with
  content ``conv4_2`` and style ``conv1_1 … conv5_1`` at 0.2 each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

NETS = ("efficientnet-lite0", "vgg19")
MIN_SIZE = 32  # pixels on the shorter side: the deepest layers (stride 32) keep 1x1
EFFICIENTNET_CONTENT = "blocks.6.expand"
EFFICIENTNET_STYLE = {
    "stem": 0.2,
    "blocks.1.expand": 0.2,
    "blocks.3.expand": 0.2,
    "blocks.5.expand": 0.2,
    "blocks.8.expand": 0.2,
}


@dataclass
class FeatureNet:
    """A frozen network with named layers: ``net(x, layers)`` -> {layer: (m, n_C, n_H, n_W)}."""

    name: str
    model: Any
    extract: Callable[[Any, Any, list[str]], dict[str, Any]]
    layers: list[str]
    content_layer: str
    style_layers: dict[str, float]
    min_size: int = MIN_SIZE
    description: str = ""
    weights: str = field(default="")

    def __call__(self, images: Any, layers: list[str]) -> dict[str, Any]:
        """Return the activations of RGB ``images`` in [0, 1], (m, 3, H, W), at ``layers``."""
        from dltool.nn.efficientnet import normalize

        return self.extract(self.model, normalize(images), layers)

    def check_layers(self, layers: list[str]) -> None:
        """Raise a DltoolError listing this network's layers if one of ``layers`` is unknown."""
        unknown = [name for name in layers if name not in self.layers]
        if unknown:
            raise DltoolError(
                f"{self.name} has no layer {', '.join(repr(u) for u in unknown)}",
                hint=f"layers of {self.name}: {', '.join(self.layers)} "
                f"(see dltool style layers --net {self.name})",
            )


def _freeze(model: Any, device: Any) -> Any:
    """Return ``model`` on ``device``, in eval mode, with gradients off for its parameters."""
    model.eval().requires_grad_(False)
    return model.to(device) if device is not None else model


def efficientnet_lite0(device: Any = None, pretrained: bool = True) -> FeatureNet:
    """Return the EfficientNet-Lite0 feature network (ImageNet weights, BatchNorm folded)."""
    from dltool.nn import efficientnet as E
    from dltool_style.fold import fold_efficientnet

    model = E.load_efficientnet_lite0(pretrained=pretrained)
    model = _freeze(fold_efficientnet(model), device)
    return FeatureNet(
        "efficientnet-lite0",
        model,
        E.activations,
        [n for n in E.layer_names() if n != "logits"],
        EFFICIENTNET_CONTENT,
        dict(EFFICIENTNET_STYLE),
        description="EfficientNet-Lite0, ImageNet (artifact efficientnet-lite0)",
        weights="efficientnet-lite0" if pretrained else "random",
    )


def vgg19(weights: Path | None, device: Any = None) -> FeatureNet:
    """Return VGG-19 with the torchvision state dict at ``weights`` (random if None)."""
    from dltool_style import vgg

    model = vgg.load_vgg19(weights) if weights is not None else vgg.vgg19_features()
    return FeatureNet(
        "vgg19",
        _freeze(model, device),
        vgg.activations,
        vgg.layer_names(),
        vgg.CONTENT_LAYER,
        dict(vgg.STYLE_LAYERS),
        description="VGG-19 (torchvision layout)",
        weights=str(weights) if weights is not None else "random",
    )


def build(net: str, weights: Path | None = None, device: Any = None) -> FeatureNet:
    """Return the feature network ``net``; VGG-19 needs ``weights``, EfficientNet takes none."""
    if net == "efficientnet-lite0":
        if weights is not None:
            raise DltoolError(
                "--weights is for --net vgg19; EfficientNet-Lite0 uses its ImageNet artifact",
                hint="add --net vgg19, or drop --weights",
            )
        return efficientnet_lite0(device)
    if net == "vgg19":
        if weights is None:
            raise DltoolError(
                "--net vgg19 needs --weights vgg19.pth (a torchvision VGG-19 state dict)",
                hint="or use the default --net efficientnet-lite0, which ships its weights",
            )
        return vgg19(weights, device)
    raise DltoolError(f"unknown network '{net}'", hint=f"choose one of: {', '.join(NETS)}")


def parse_style_layers(text: str) -> dict[str, float]:
    """Return {layer: λ} from 'conv1_1:0.2,conv2_1:0.2' (a layer without ':λ' gets equal share)."""
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise DltoolError("--style-layers is empty", hint="e.g. --style-layers conv1_1:0.5,conv2_1")
    out: dict[str, float | None] = {}
    for item in items:
        name, sep, value = item.partition(":")
        try:
            out[name.strip()] = float(value) if sep else None
        except ValueError as exc:
            raise DltoolError(
                f"--style-layers: weight of '{name}' is not a number: {value!r}",
                hint="write each layer as NAME or NAME:WEIGHT, e.g. conv1_1:0.5",
            ) from exc
    given = [v for v in out.values() if v is not None]
    if any(not math.isfinite(v) or v < 0 for v in given):
        raise DltoolError(
            "--style-layers: layer weights must be finite and not negative",
            hint="e.g. --style-layers conv1_1:0.5,conv2_1:0.5",
        )
    share = max(0.0, 1.0 - sum(given)) / max(1, len(out) - len(given))
    weights = {k: (share if v is None else v) for k, v in out.items()}
    if not any(weights.values()):
        raise DltoolError(
            "--style-layers: every layer weight is 0, so there is no style to transfer",
            hint="give at least one layer a positive weight, e.g. conv1_1:1",
        )
    return weights
