"""VGG-19 (Simonyan & Zisserman, 2014) feature layers in torch, from a torchvision state dict.

Built here layer by layer in torchvision's order, so the keys of a state dict saved from
``torchvision.models.vgg19().state_dict()`` (``features.0.weight`` … ``features.34.bias``;
the ``classifier.*`` keys are ignored) load as they are. No torchvision import is needed.

Layer names follow the literature (Gatys et al.): ``convB_I`` is the I-th 3x3 convolution of
block B *after its ReLU* (Caffe's in-place ReLU, Keras' ``blockB_convI``), ``poolB`` the 2x2
max-pool closing block B. Inputs are ImageNet-normalized RGB, shape (m, 3, H, W).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

# torchvision's cfg "E": channels per conv, "M" for max-pool
CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M")
CFG += (512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
CONTENT_LAYER = "conv4_2"
STYLE_LAYERS = {"conv1_1": 0.2, "conv2_1": 0.2, "conv3_1": 0.2, "conv4_1": 0.2, "conv5_1": 0.2}


def layer_table() -> list[tuple[str, int, int]]:
    """Return (name, index in ``features`` of the layer's output, channels) for every layer."""
    rows, index, block, conv = [], 0, 1, 1
    for v in CFG:
        if v == "M":
            rows.append((f"pool{block}", index, rows[-1][2]))
            index, block, conv = index + 1, block + 1, 1
        else:
            rows.append((f"conv{block}_{conv}", index + 1, int(v)))  # output of its ReLU
            index, conv = index + 2, conv + 1
    return rows


def layer_names() -> list[str]:
    """Return the VGG-19 layer names in forward order (conv1_1 … pool5)."""
    return [name for name, _, _ in layer_table()]


def conv_shapes() -> dict[str, tuple[int, ...]]:
    """Return {state-dict key: shape} of the 16 convolutions, in torchvision's numbering."""
    shapes, index, c_in = {}, 0, 3
    for v in CFG:
        if v == "M":
            index += 1
            continue
        shapes[f"features.{index}.weight"] = (int(v), c_in, 3, 3)
        shapes[f"features.{index}.bias"] = (int(v),)
        index, c_in = index + 2, int(v)
    return shapes


def vgg19_features() -> Any:
    """Return VGG-19's ``features`` as an nn.Sequential with torchvision's indices."""
    from torch import nn

    layers, c_in = [], 3
    for v in CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(c_in, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            c_in = int(v)
    return nn.Sequential(*layers)


def _read_state_dict(path: Path) -> dict[str, Any]:
    """Return the tensors stored in ``path`` (unwrapping 'state_dict'/'model' and 'module.')."""
    import pickle
    import warnings

    import torch

    if path.is_dir():
        raise DltoolError(f"{path} is a folder, not a weights file", hint="give the .pth file")
    if not path.is_file():
        raise DltoolError(f"weights file {path} does not exist", hint="check the path")
    try:
        with warnings.catch_warnings():  # torch warns of pickle protocols before refusing
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DltoolError(
            f"{path} holds pickled Python objects, not a plain state dict",
            hint="save it with torch.save(model.state_dict(), 'vgg19.pth')",
        ) from exc
    except Exception as exc:  # not a zip/pickle at all
        raise DltoolError(
            f"{path} is not a PyTorch weights file ({type(exc).__name__})",
            hint="pass a file saved with torch.save(torchvision.models.vgg19().state_dict(), …)",
        ) from exc
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise DltoolError(
            f"{path} does not hold a state dict of tensors",
            hint="save it with torch.save(model.state_dict(), 'vgg19.pth')",
        )
    return {k.removeprefix("module."): v for k, v in obj.items()}


def check_state_dict(state: dict[str, Any], path: Path) -> dict[str, Any]:
    """Return the ``features.*`` tensors of a VGG-19 state dict, or raise saying what differs."""
    expected = conv_shapes()
    if any(k.startswith("features.") and k.endswith(".running_mean") for k in state):
        raise DltoolError(
            f"{path} is a batch-normalized VGG (vgg19_bn), not plain VGG-19",
            hint="use the weights of torchvision.models.vgg19",
        )
    features = {k: v for k, v in state.items() if k.startswith("features.")}
    other = sorted(k for k in state if not k.startswith(("features.", "classifier.")))
    missing = [k for k in expected if k not in features]
    extra = sorted(k for k in features if k not in expected)
    if other or missing or extra:
        convs = len([k for k in features if k.endswith(".weight")])
        detail = f"missing {', '.join(missing[:3])}" if missing else ""
        detail = detail or f"unexpected keys {', '.join((extra or other)[:3])}"
        raise DltoolError(
            f"{path} is not a VGG-19 state dict ({convs} conv weights, VGG-19 has 16): {detail}",
            hint="pass the state dict of torchvision.models.vgg19 (keys features.0 … features.34)",
        )
    for key, shape in expected.items():
        if tuple(features[key].shape) != shape:
            raise DltoolError(
                f"{path}: {key} has shape {tuple(features[key].shape)}, VGG-19 needs {shape}",
                hint="pass the state dict of torchvision.models.vgg19",
            )
    return features


def load_vgg19(path: Path, device: Any = None) -> Any:
    """Return VGG-19 ``features`` (eval mode) with the weights of the state dict at ``path``."""
    from dltool.checkpoints import require_finite

    features = check_state_dict(_read_state_dict(Path(path)), Path(path))
    try:
        require_finite(features, path, "VGG-19")
    except DltoolError as exc:
        raise DltoolError(exc.message, hint="these weights are damaged; use another copy") from None
    model = vgg19_features()
    model.load_state_dict({k.removeprefix("features."): v.float() for k, v in features.items()})
    model.eval()
    return model.to(device) if device is not None else model


def activations(model: Any, x: Any, layers: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return {layer: activation (m, n_C, n_H, n_W)}; the pass stops after the last one."""
    index = {name: i for name, i, _ in layer_table()}
    unknown = [name for name in layers if name not in index]
    if unknown:
        raise DltoolError(
            f"VGG-19 has no layer {', '.join(repr(u) for u in unknown)}",
            hint="layers: " + ", ".join(layer_names()),
        )
    wanted = {index[name]: name for name in layers}
    out, last = {}, max(wanted)
    for i, module in enumerate(model):
        x = module(x)  # (m, n_C, n_H, n_W)
        if i in wanted:
            out[wanted[i]] = x
        if i == last:
            break
    return out
